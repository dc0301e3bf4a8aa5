'use strict';
// The S7 peer of the integration tests: a snap7 server (node-snap7) on 127.0.0.1:PORT with known values of every
// type in DB1, word patterns in DB2-DB4, a 4-byte DB5 (for "too short"), and the M, I, Q, timer and counter areas.
// Usage: node server.js PORT [--pdu N] [--trace]
//   --pdu N   the server imposes a PDU size of N bytes (240-960) whatever the client asks
//   --trace   prints one line per item read: "read AREA DB START SIZE RESULT"
// Prints "listening PORT" once it accepts connections; stops on SIGTERM/SIGINT.
const snap7 = require('node-snap7');

const args = process.argv.slice(2);
const port = Number(args[0]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node server.js PORT [--pdu N] [--trace]');
  process.exit(2);
}
const pduIndex = args.indexOf('--pdu');
const pdu = pduIndex >= 0 ? Number(args[pduIndex + 1]) : 0;
const trace = args.includes('--trace');

function bcd(n) { return ((Math.floor(n / 10) % 10) << 4) | (n % 10); }

// DB1: one value of every type; offsets as docs/s7.md and S7PeerTests list them.
const db1 = Buffer.alloc(128);
db1[0] = 0b00000101;                       // DBX0.0 true, DBX0.1 false, DBX0.2 true
db1[1] = 0xAB;                             // DBB1 byte 171
db1.writeInt16BE(-1234, 2);                // DBW2 int
db1.writeUInt16BE(0xBEEF, 4);              // DBW4 word 48879
db1.writeInt32BE(-123456789, 6);           // DBD6 dint
db1.writeUInt32BE(0xDEADBEEF, 10);         // DBD10 dword 3735928559
db1.writeFloatBE(22.1, 14);                // DBD14 real 22.1
db1.writeDoubleBE(Math.PI, 18);            // DBB18 lreal
db1[26] = 20; db1[27] = 8; db1.write('Hello S7', 28, 'latin1');          // STRING26.20
db1.writeUInt16BE(10, 48); db1.writeUInt16BE(5, 50);                     // WSTRING48.10 "Grüße"
Buffer.from('Grüße', 'utf16le').swap16().copy(db1, 52);
// DATE_AND_TIME at 72: 2024-05-17 08:30:15.250, a Friday (day 6 counting Sunday as 1)
[bcd(24), bcd(5), bcd(17), bcd(8), bcd(30), bcd(15), bcd(25)].forEach((b, i) => { db1[72 + i] = b; });
db1[79] = (0 << 4) | 6;
// DTL at 80: 2024-05-17 08:30:15.123456789
db1.writeUInt16BE(2024, 80); db1[82] = 5; db1[83] = 17; db1[84] = 6; db1[85] = 8; db1[86] = 30; db1[87] = 15;
db1.writeUInt32BE(123456789, 88);
db1.writeInt8(-5, 92);                     // DBB92 sint
db1[93] = 200;                             // DBB93 usint
db1.writeUInt16BE(65000, 94);              // DBW94 uint
db1.writeUInt32BE(4000000000, 96);         // DBD96 udint
db1.writeBigInt64BE(-9000000000000n, 100); // DBB100 lint
db1.writeBigUInt64BE(18000000000000000000n, 108); // DBB108 ulint

// DB2-DB4: 400 bytes; the word at offset 2k holds DB*1000 + k.
const dbs = {};
for (const n of [2, 3, 4]) {
  const b = Buffer.alloc(400);
  for (let k = 0; k < 200; k++) b.writeUInt16BE(n * 1000 + k, 2 * k);
  dbs[n] = b;
}
const db5 = Buffer.alloc(4);

const mk = Buffer.alloc(256);
mk[10] = 0x02;                             // M10.1 true
mk.writeUInt16BE(4242, 20);                // MW20
mk.writeFloatBE(1.5, 24);                  // MD24 real
const pe = Buffer.alloc(128);
pe[0] = 0x01;                              // I0.0 true
pe.writeUInt16BE(1000, 64);                // IW64
const pa = Buffer.alloc(128);
pa[0] = 0x02;                              // Q0.1 true
pa.writeUInt16BE(2000, 80);                // QW80
const tm = Buffer.alloc(64);
tm.writeUInt16BE(0x2010, 0);               // T0: S5TIME, base 1 s, 010 -> 10 s
const ct = Buffer.alloc(64);
ct.writeUInt16BE(0x0042, 0);               // C0: BCD 42

const server = new snap7.S7Server();
server.RegisterArea(server.srvAreaDB, 1, db1);
for (const n of [2, 3, 4]) server.RegisterArea(server.srvAreaDB, n, dbs[n]);
server.RegisterArea(server.srvAreaDB, 5, db5);
server.RegisterArea(server.srvAreaMK, mk);
server.RegisterArea(server.srvAreaPE, pe);
server.RegisterArea(server.srvAreaPA, pa);
server.RegisterArea(server.srvAreaTM, tm);
server.RegisterArea(server.srvAreaCT, ct);
if (pdu) server.SetParam(server.PDURequest, pdu);
// snap7 binds ISO-on-TCP's port 102 unless LocalPort is set before the start.
if (!server.SetParam(server.LocalPort, port)) {
  console.error('SetParam(LocalPort) failed');
  process.exit(1);
}
if (trace) {
  server.on('event', (event) => {
    if (event.EvtCode === 0x00020000) {
      console.log(`read ${event.EvtParam1} ${event.EvtParam2} ${event.EvtParam3} ${event.EvtParam4} ${event.EvtRetCode}`);
    }
  });
}
server.StartTo('127.0.0.1', (error) => {
  if (error) {
    console.error('start failed: ' + server.ErrorText(error));
    process.exit(1);
  }
  console.log('listening ' + port);
});
function stop() { server.Stop(() => process.exit(0)); }
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
