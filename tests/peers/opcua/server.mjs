// OPC UA test peer for the gateway's integration tests (extends /work/shared/peers/server.mjs).
// usage: node server.mjs PORT [--small-chunks] [--big N] [--max-nodes-per-read N]
//   --small-chunks         Acknowledge with 8192-byte buffers and at most 4 chunks per message
//   --big N                a folder "Big" with N children (default 2000)
//   --max-nodes-per-read N OperationLimits.MaxNodesPerRead (default 100)
//   --load N               a folder "Load" with N Double variables that all change once per second (benchmarks)
//   --no-auto-accept       do not trust unknown client certificates (they land in PKI/rejected); use with --pki
//   --pki DIR              the server's PKI folder (default pki-server beside this script; created on first start)
//   --max-token-lifetime MS  longest security token lifetime granted (default 600000); clients asking less get less
//   --legacy-structures    the custom DataTypes have no DataTypeDefinition (BadAttributeIdInvalid, a pre-1.04 server) and are
//                          described by an OPC Binary DataTypeDictionary (legacy-dictionary.mjs)
//   --max-byte-string-length N  ServerCapabilities.MaxByteStringLength (default node-opcua's 16 MB)
// X.509 user certificates are accepted like client certificates (PKI/user), unless --no-auto-accept.
// Endpoints: None, Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss, in modes Sign and SignAndEncrypt.
import path from "node:path";
import { serveLegacyStructures } from "./legacy-dictionary.mjs";
import { OPCUAServer, OPCUACertificateManager, Variant, DataType, VariantArrayType, SecurityPolicy,
         MessageSecurityMode, RegisterServerMethod, StatusCodes, coerceNodeId, Range, nodesets } from "node-opcua";

const args = process.argv.slice(2);
const port = Number(args[0] ?? 48400);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : fallback; };
const smallChunks = args.includes("--small-chunks");
const bigCount = option("--big", 2000);
const maxNodesPerRead = option("--max-nodes-per-read", 100);
const loadCount = option("--load", 0);
const autoAccept = !args.includes("--no-auto-accept");
const maxTokenLifetime = option("--max-token-lifetime", 600000);
const maxSessions = option("--max-sessions", 100);
const pkiIndex = args.indexOf("--pki");
const legacyStructures = args.includes("--legacy-structures");
const maxByteStringLength = option("--max-byte-string-length", 0);

const pki = pkiIndex >= 0 ? path.resolve(args[pkiIndex + 1]) : path.join(import.meta.dirname ?? ".", "pki-server");
const server = new OPCUAServer({
  port,
  // The standard nodeset, then structures.NodeSet2.xml (custom structure DataTypes in urn:iiot-gateway:test:structures,
  // namespace 2: the server's own namespace stays 1).
  nodeset_filename: [nodesets.standard, path.join(import.meta.dirname ?? ".", "structures.NodeSet2.xml")], host: "127.0.0.1", hostname: "127.0.0.1",
  alternateHostname: ["localhost", "127.0.0.1"],
  resourcePath: "/UA/TestPeer", registerServerMethod: RegisterServerMethod.HIDDEN,
  serverCertificateManager: new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: autoAccept }),
  userCertificateManager: new OPCUACertificateManager({ rootFolder: path.join(pki, "user"), automaticallyAcceptUnknownCertificate: autoAccept }),
  securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss],
  securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
  defaultSecureTokenLifetime: maxTokenLifetime,
  allowAnonymous: true,
  userManager: { isValidUser: (u, p) => u === "gwuser" && p === "gwpass" },
  buildInfo: { productName: "GatewayTestPeer", buildNumber: "1" },
  maxConnectionsPerEndpoint: Math.max(maxSessions * 2, 20),
  serverCapabilities: { maxSessions, ...(maxByteStringLength > 0 ? { maxByteStringLength } : {}), maxMonitoredItemsPerSubscription: 100000, maxMonitoredItems: 200000,
    operationLimits: { maxNodesPerRead, maxNodesPerBrowse: 100, maxMonitoredItemsPerCall: 1000 } },
  transportSettings: smallChunks ? {
    adjustTransportLimits: (hello) => ({ receiveBufferSize: 8192, sendBufferSize: 8192, maxMessageSize: 8192 * 4, maxChunkCount: 4 }),
  } : undefined,
});
await server.initialize();

const addressSpace = server.engine.addressSpace;
const ns = addressSpace.getOwnNamespace();
const objects = addressSpace.rootFolder.objects;

// Machine1, as in the shared peer, plus a writable setpoint.
const machine = ns.addObject({ organizedBy: objects, browseName: "Machine1" });
const st = { temp: 20, parts: 0, running: true, state: "Running", setpoint: 42.5 };
const v = (id, name, dataType, get) => ns.addVariable({ componentOf: machine, nodeId: `s=${id}`, browseName: name,
  dataType, minimumSamplingInterval: 100, accessLevel: "CurrentRead", userAccessLevel: "CurrentRead",
  value: { get: () => new Variant({ dataType: DataType[dataType], value: get() }) } });
v("Machine1.Temperature", "Temperature", "Double", () => st.temp);
v("Machine1.PartCount", "PartCount", "UInt32", () => st.parts);
v("Machine1.Running", "Running", "Boolean", () => st.running);
v("Machine1.State", "State", "String", () => st.state);
ns.addVariable({ componentOf: machine, nodeId: "s=Machine1.Setpoint", browseName: "Setpoint", dataType: "Double",
  accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite", minimumSamplingInterval: 100,
  value: { get: () => new Variant({ dataType: DataType.Double, value: st.setpoint }),
           set: (variant) => { st.setpoint = variant.value; return StatusCodes.Good; } } });
ns.addVariable({ componentOf: machine, nodeId: "i=1001", browseName: "Counter", dataType: "Int32", minimumSamplingInterval: 100,
  value: { get: () => new Variant({ dataType: DataType.Int32, value: st.parts * 2 }) } });
ns.addVariable({ componentOf: machine, nodeId: "g=72962b91-fa75-4ae6-8d28-b404dc7daf63", browseName: "GuidNode", dataType: "Int32",
  value: new Variant({ dataType: DataType.Int32, value: 7 }) });
ns.addVariable({ componentOf: machine, nodeId: "b=T3BhcXVl", browseName: "OpaqueNode", dataType: "Int32",
  value: new Variant({ dataType: DataType.Int32, value: 8 }) });

// Every built-in type, scalar and array.
const types = ns.addFolder(objects, { browseName: "Types" });
const samples = {
  Boolean: [true, [true, false, true]],
  SByte: [-5, [-128, 0, 127]],
  Byte: [200, [0, 1, 255]],
  Int16: [-1234, [-32768, 0, 32767]],
  UInt16: [54321, [0, 1, 65535]],
  Int32: [-123456, [-2147483648, 0, 2147483647]],
  UInt32: [4000000000, [0, 1, 4294967295]],
  Int64: [[0xFFFFFFFF, 0xFFFFFFFE], [[0, 1], [0x7FFFFFFF, 0xFFFFFFFF]]],
  UInt64: [[1, 2], [[0, 3], [0xFFFFFFFF, 0xFFFFFFFF]]],
  Float: [1.5, [0.5, -2.25, 3.125]],
  Double: [3.14159, [1.0, -2.5, 1e300]],
  String: ["héllo wörld", ["a", "", "ü"]],
  DateTime: [new Date(Date.UTC(2026, 10, 26, 10, 0, 0, 123)), [new Date(Date.UTC(2000, 0, 1)), new Date(Date.UTC(2030, 5, 15, 12))]],
  Guid: ["72962B91-FA75-4AE6-8D28-B404DC7DAF63", ["00000000-0000-0000-0000-000000000001", "72962B91-FA75-4AE6-8D28-B404DC7DAF63"]],
  ByteString: [Buffer.from([1, 2, 3, 250]), [Buffer.from([1]), Buffer.from([2, 3])]],
  XmlElement: ["<a>1</a>", ["<b/>", "<c/>"]],
  NodeId: [coerceNodeId("ns=1;s=Machine1.Temperature"), [coerceNodeId("i=85"), coerceNodeId("ns=1;i=1001")]],
  ExpandedNodeId: [coerceNodeId("i=2253"), [coerceNodeId("i=84")]],
  StatusCode: [StatusCodes.BadNodeIdUnknown, [StatusCodes.Good, StatusCodes.UncertainLastUsableValue]],
  QualifiedName: [{ namespaceIndex: 1, name: "Qn" }, [{ namespaceIndex: 0, name: "A" }, { namespaceIndex: 2, name: "B" }]],
  LocalizedText: [{ locale: "en", text: "Hello" }, [{ text: "One" }, { locale: "fr", text: "Deux" }]],
  ExtensionObject: [new Range({ low: 1, high: 99 }), [new Range({ low: 0, high: 1 })]],
};
const created = [];
for (const [type, [scalar, array]] of Object.entries(samples)) {
  for (const [suffix, value, arrayType] of [["", scalar, VariantArrayType.Scalar], ["Array", array, VariantArrayType.Array]]) {
    try {
      ns.addVariable({ organizedBy: types, nodeId: `s=Types.${type}${suffix}`, browseName: `${type}${suffix}`,
        dataType: type === "ExtensionObject" ? "Structure" : type, valueRank: suffix ? 1 : -1,
        value: new Variant({ dataType: DataType[type], arrayType, value }) });
      created.push(type + suffix);
    } catch (err) { console.error("cannot create", type + suffix, err.message); }
  }
}
ns.addVariable({ organizedBy: types, nodeId: "s=Types.DoubleMatrix", browseName: "DoubleMatrix", dataType: "Double", valueRank: 2,
  value: new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Matrix, dimensions: [2, 3], value: [1, 2, 3, 4, 5, 6] }) });
ns.addVariable({ organizedBy: types, nodeId: "s=Types.Variant", browseName: "Variant", dataType: "BaseDataType",
  value: new Variant({ dataType: DataType.Variant, value: new Variant({ dataType: DataType.Int32, value: 5 }) }) });

// A folder with more children than one Browse response returns.
const big = ns.addFolder(objects, { browseName: "Big" });
for (let i = 0; i < bigCount; i++) {
  ns.addVariable({ organizedBy: big, nodeId: `s=Big.Item${String(i).padStart(5, "0")}`, browseName: `Item${String(i).padStart(5, "0")}`,
    dataType: "Int32", value: new Variant({ dataType: DataType.Int32, value: i }) });
}

// Load for benchmarks: every value changes once per second.
if (loadCount > 0) {
  const load = ns.addFolder(objects, { browseName: "Load" });
  for (let i = 0; i < loadCount; i++) {
    ns.addVariable({ organizedBy: load, nodeId: `s=Load.Item${String(i).padStart(5, "0")}`, browseName: `Item${String(i).padStart(5, "0")}`,
      dataType: "Double", minimumSamplingInterval: 500, accessLevel: "CurrentRead", userAccessLevel: "CurrentRead",
      value: { get: () => new Variant({ dataType: DataType.Double, value: Math.floor(Date.now() / 1000) + i }) } });
  }
}

// Writes (issue 17): Double, Int16 and Boolean the server accepts, and a Double it refuses (read-only: BadNotWritable).
const writes = ns.addFolder(objects, { browseName: "Writes" });
const written = { Double: 0, Int16: 0, Boolean: false };
for (const type of Object.keys(written)) {
  ns.addVariable({ organizedBy: writes, nodeId: `s=Writes.${type}`, browseName: type, dataType: type, minimumSamplingInterval: 100,
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
    value: { get: () => new Variant({ dataType: DataType[type], value: written[type] }),
             set: (variant) => { written[type] = variant.value; return StatusCodes.Good; } } });
}
ns.addVariable({ organizedBy: writes, nodeId: "s=Writes.Locked", browseName: "Locked", dataType: "Double", minimumSamplingInterval: 100,
  accessLevel: "CurrentRead", userAccessLevel: "CurrentRead", value: new Variant({ dataType: DataType.Double, value: 42 }) });

// Arrays as PLCs have them (issue 14): a Float[1000] profile whose first element follows the tick, fixed
// Int32[10], Boolean[8] and String[3].
const arrays = ns.addFolder(objects, { browseName: "Arrays" });
const profile = new Float32Array(1000).map((_, i) => i / 10);
const arrayVariable = (name, dataType, length, get) => ns.addVariable({ organizedBy: arrays, nodeId: `s=Arrays.${name}`,
  browseName: name, dataType, valueRank: 1, arrayDimensions: [length], minimumSamplingInterval: 100,
  accessLevel: "CurrentRead", userAccessLevel: "CurrentRead",
  value: { get: () => new Variant({ dataType: DataType[dataType], arrayType: VariantArrayType.Array, value: get() }) } });
arrayVariable("Float1000", "Float", 1000, () => profile);
arrayVariable("Int32x10", "Int32", 10, () => Int32Array.from([-5, 0, 2147483647, -2147483648, 4, 5, 6, 7, 8, 9]));
arrayVariable("Boolean8", "Boolean", 8, () => [true, false, true, true, false, false, false, true]);
arrayVariable("String3", "String", 3, () => ["ABC", "", "étape 3"]);

// Structures (issue 14): ns=1;s=Structures.Motor of the custom DataType MotorData (structures.NodeSet2.xml): Float,
// Int16, String, Boolean, an enumeration, a nested Position, a Float array and an optional String (present). Speed
// follows the tick (one step a second), the rest stays fixed. ns=1;s=Structures.Position is a plain Position.
const structures = ns.addFolder(objects, { browseName: "Structures" });
const structureNamespace = addressSpace.getNamespace("urn:iiot-gateway:test:structures");
const motorType = addressSpace.findDataType("MotorData", structureNamespace.index);
const positionType = addressSpace.findDataType("Position", structureNamespace.index);
const motor = { speed: 0.5, torque: -1234, label: "Motor 1", running: true, mode: 2, position: { x: 1.5, y: -2.25 },
  profile: [0.1, 22.1, -0.5], note: "checked" };
ns.addVariable({ organizedBy: structures, nodeId: "s=Structures.Motor", browseName: "Motor", dataType: motorType,
  minimumSamplingInterval: 100, accessLevel: "CurrentRead", userAccessLevel: "CurrentRead",
  value: { get: () => new Variant({ dataType: DataType.ExtensionObject, value: addressSpace.constructExtensionObject(motorType, motor) }) } });
ns.addVariable({ organizedBy: structures, nodeId: "s=Structures.Position", browseName: "Position", dataType: positionType,
  minimumSamplingInterval: 100, accessLevel: "CurrentRead", userAccessLevel: "CurrentRead",
  value: new Variant({ dataType: DataType.ExtensionObject, value: addressSpace.constructExtensionObject(positionType, { x: 3, y: 4 }) }) });
// ns=1;s=Structures.Motors: MotorData[3] (ValueRank 1, ArrayDimensions [3]); motor 0 is Structures.Motor, 1 and 2 fixed.
const motors = [motor, { ...motor, speed: 2.5, label: "Motor 2", running: false, mode: 1, note: undefined },
  { ...motor, speed: -1, torque: 7, label: "Motor 3", profile: [] }];
ns.addVariable({ organizedBy: structures, nodeId: "s=Structures.Motors", browseName: "Motors", dataType: motorType,
  valueRank: 1, arrayDimensions: [3], minimumSamplingInterval: 100, accessLevel: "CurrentRead", userAccessLevel: "CurrentRead",
  value: { get: () => new Variant({ dataType: DataType.ExtensionObject, arrayType: VariantArrayType.Array,
    value: motors.map(m => addressSpace.constructExtensionObject(motorType, m)) }) } });
if (legacyStructures) serveLegacyStructures(addressSpace, ns, structureNamespace);

let tick = 0;
const timer = setInterval(() => {
  tick++;
  st.temp = 20 + 5 * Math.sin(tick / 10);
  if (tick % 10 === 0) profile[0] = tick / 10;
  if (tick % 10 === 0) st.parts++;
  if (tick % 10 === 0) motor.speed = 0.5 + tick / 10;
  if (tick % 100 === 0) { st.running = !st.running; st.state = st.running ? "Running" : "Stopped"; }
}, 100);

await server.start();
console.log("OPC UA server ready:", server.getEndpointUrl(), "pid", process.pid, "types", created.length);
const stop = async () => { clearInterval(timer); await server.shutdown(200); process.exit(0); };
process.on("SIGINT", stop); process.on("SIGTERM", stop);
