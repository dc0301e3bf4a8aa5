// Decodes Sparkplug B payloads with Eclipse Tahu's sparkplug-payload, independently of the gateway's code.
// Input: one message per line, "<topic> <base64 payload>". Output: one JSON object per line.
const sparkplug = require('sparkplug-payload').get('spBv1.0');
const readline = require('readline');

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
    const payload = sparkplug.decodePayload(Buffer.from(line.slice(space + 1), 'base64'));
    console.log(JSON.stringify({ topic, payload: plain(payload) }));
  } catch (error) {
    console.log(JSON.stringify({ topic, error: String(error) }));
  }
});
