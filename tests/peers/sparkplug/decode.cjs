// Decodes Sparkplug B payloads with Eclipse Tahu's sparkplug-payload, independently of the gateway's code.
// Input: one message per line, "<topic> <base64 payload>". Output: one JSON object per line.
const sparkplug = require('sparkplug-payload').get('spBv1.0');
const proto = require('sparkplug-payload/lib/sparkplugPayloadProto.js').org.eclipse.tahu.protobuf;
const readline = require('readline');

// Tahu's JavaScript decoder (1.0.3) knows the Sparkplug 3.0 array datatypes (22-34) in its .proto but returns no
// value for them. They are decoded here from bytes_value as the specification (section "Datatype Details") and
// Tahu's Java encoder write them: packed little-endian elements; BooleanArray a 4-byte LE count then bits, first
// element in the most significant bit; StringArray NUL-terminated UTF-8; DateTimeArray int64 LE ms since epoch.
// DDATA carries no datatype: it is taken from the birth that announced the alias, as a host does.
const arrayTypes = { 22: 'Int8Array', 23: 'Int16Array', 24: 'Int32Array', 25: 'Int64Array', 26: 'UInt8Array', 27: 'UInt16Array',
  28: 'UInt32Array', 29: 'UInt64Array', 30: 'FloatArray', 31: 'DoubleArray', 32: 'BooleanArray', 33: 'StringArray', 34: 'DateTimeArray' };
const aliasTypes = new Map(); // "<group>/<node>/<device> <alias>" -> datatype

function decodeArray(datatype, bytes) {
  const b = Buffer.from(bytes);
  const out = [];
  const each = (size, read) => { for (let i = 0; i + size <= b.length; i += size) out.push(read(i)); };
  switch (datatype) {
    case 22: each(1, (i) => b.readInt8(i)); break;
    case 23: each(2, (i) => b.readInt16LE(i)); break;
    case 24: each(4, (i) => b.readInt32LE(i)); break;
    case 25: each(8, (i) => b.readBigInt64LE(i).toString()); break;
    case 26: each(1, (i) => b.readUInt8(i)); break;
    case 27: each(2, (i) => b.readUInt16LE(i)); break;
    case 28: each(4, (i) => b.readUInt32LE(i)); break;
    case 29: each(8, (i) => b.readBigUInt64LE(i).toString()); break;
    case 30: each(4, (i) => b.readFloatLE(i)); break;
    case 31: each(8, (i) => b.readDoubleLE(i)); break;
    case 32: {
      const count = b.readUInt32LE(0);
      for (let i = 0; i < count; i++) out.push((b[4 + (i >> 3)] & (0x80 >> (i & 7))) !== 0);
      break;
    }
    case 33: {
      let start = 0;
      for (let i = 0; i < b.length; i++) if (b[i] === 0) { out.push(b.toString('utf8', start, i)); start = i + 1; }
      break;
    }
    case 34: each(8, (i) => Number(b.readBigInt64LE(i))); break;
  }
  return out;
}

function addArrays(topic, payload, bytes) {
  const parts = topic.split('/');
  const device = [parts[1], parts[3], parts[4] || ''].join('/');
  const raw = proto.Payload.decode(bytes);
  raw.metrics.forEach((m, i) => {
    const alias = m.alias != null ? String(m.alias) : null;
    let datatype = m.datatype;
    if (datatype && alias !== null) aliasTypes.set(device + ' ' + alias, datatype);
    if (!datatype && alias !== null) datatype = aliasTypes.get(device + ' ' + alias);
    if (arrayTypes[datatype]) {
      if (m.datatype) payload.metrics[i].type = arrayTypes[datatype];
      if (m.isNull !== true) payload.metrics[i].value = decodeArray(datatype, m.bytesValue);
    }
  });
}

function plain(value) {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object' && typeof value.toNumber === 'function' && 'low' in value && 'high' in value) {
    return value.toString(); // Long: keep every digit
  }
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  // The topic may contain spaces ("spBv1.0/Usine Lyon/..."); base64 never does.
  const space = line.lastIndexOf(' ');
  const topic = line.slice(0, space);
  try {
    const bytes = Buffer.from(line.slice(space + 1), 'base64');
    const payload = sparkplug.decodePayload(bytes);
    addArrays(topic, payload, bytes);
    console.log(JSON.stringify({ topic, payload: plain(payload) }));
  } catch (error) {
    console.log(JSON.stringify({ topic, error: String(error) }));
  }
});
