// Encodes Sparkplug B payloads with Eclipse Tahu's sparkplug-payload, independently of the gateway's code (a host's DCMD).
// Input: one JSON payload per line, as Tahu's encodePayload takes it ({"timestamp":..., "metrics":[{"name":..., "type":"Double", "value":...}]}).
// Output: one base64 payload per line.
const sparkplug = require('sparkplug-payload').get('spBv1.0');
const readline = require('readline');

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const payload = JSON.parse(line);
  console.log(Buffer.from(sparkplug.encodePayload(payload)).toString('base64'));
});
