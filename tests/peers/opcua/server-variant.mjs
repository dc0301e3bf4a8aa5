// A second OPC UA peer, set up differently from server.mjs, as servers in the field are: other namespaces and NodeId
// kinds, other data types, small limits, secure-only endpoints, user-only login, another host name.
// usage: node server-variant.mjs PORT [options]
//   --max-nodes-per-read N          OperationLimits.MaxNodesPerRead (default 2)
//   --max-nodes-per-browse N        OperationLimits.MaxNodesPerBrowse (default 2)
//   --max-monitored-items-per-call N  OperationLimits.MaxMonitoredItemsPerCall (default 2)
//   --max-references-per-node N     Browse answers at most N references per node, the rest by continuation points (default 5)
//   --max-subscriptions-per-session N  (default 2)
//   --max-monitored-items-per-subscription N  (default 1000)
//   --min-supported-sample-rate MS  ServerCapabilities.MinSupportedSampleRate (default 100); 0 makes sampling interval 0
//                                   exception-based: every change of s=Fast is queued
//   --max-session-timeout MS        sessions are revised down to this timeout (default: node-opcua's, 50 min)
//   --min-sampling MS               minimumSamplingInterval of the changing variables (default 500)
//   --small-messages                Acknowledge with 8192-byte buffers, at most 4 chunks (32 KB) per message
//   --secure-only                   only Basic256Sha256 SignAndEncrypt and Aes128_Sha256_RsaOaep Sign endpoints (no None)
//   --no-anonymous                  user name only (gwuser / gwpass)
//   --hostname NAME                 the host name in the endpoint URLs and the certificate (default variant-plc.invalid):
//                                   not the one clients connect to (they connect to 127.0.0.1)
//   --hide-limits                   OperationLimits read as 0 (unknown) although the limits above are enforced
//   --vendor-first                  register urn:gateway-test:vendor before urn:gateway-test:plant (indexes 2 and 3 swapped)
//   --pki DIR                       the server's PKI folder (default pki-server-variant beside this script)
// Namespaces: 1 the server's own, 2 urn:gateway-test:plant, 3 urn:gateway-test:vendor. See README.md for the nodes.
import path from "node:path";
import { OPCUAServer, OPCUACertificateManager, Variant, DataType, VariantArrayType, SecurityPolicy,
         MessageSecurityMode, RegisterServerMethod, StatusCodes, Range, standardUnits, DataValue } from "node-opcua";

const args = process.argv.slice(2);
const port = Number(args[0] ?? 48410);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : fallback; };
const text = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const maxNodesPerRead = option("--max-nodes-per-read", 2);
const maxNodesPerBrowse = option("--max-nodes-per-browse", 2);
const maxMonitoredItemsPerCall = option("--max-monitored-items-per-call", 2);
const maxReferencesPerNode = option("--max-references-per-node", 5);
const maxSubscriptionsPerSession = option("--max-subscriptions-per-session", 2);
const maxMonitoredItemsPerSubscription = option("--max-monitored-items-per-subscription", 1000);
const minSupportedSampleRate = option("--min-supported-sample-rate", 100);
const maxSessionTimeout = option("--max-session-timeout", 0);
const minSampling = option("--min-sampling", 500);
const smallMessages = args.includes("--small-messages");
const hideLimits = args.includes("--hide-limits");
const secureOnly = args.includes("--secure-only");
const noAnonymous = args.includes("--no-anonymous");
const hostname = text("--hostname", "variant-plc.invalid");
const pki = path.resolve(text("--pki", path.join(import.meta.dirname ?? ".", "pki-server-variant")));

// Field servers revise what clients ask for; node-opcua's own bounds are wide, so these knobs narrow them.
const proto = OPCUAServer.prototype;
const createSession = proto._on_CreateSessionRequest;
proto._on_CreateSessionRequest = function (message, channel) {
  if (maxSessionTimeout > 0) {
    message.request.requestedSessionTimeout = Math.min(message.request.requestedSessionTimeout || maxSessionTimeout, maxSessionTimeout);
  }
  return createSession.call(this, message, channel);
};
const browse = proto._on_BrowseRequest;
proto._on_BrowseRequest = function (message, channel) {
  const asked = message.request.requestedMaxReferencesPerNode;
  message.request.requestedMaxReferencesPerNode = asked === 0 ? maxReferencesPerNode : Math.min(asked, maxReferencesPerNode);
  return browse.call(this, message, channel);
};

const server = new OPCUAServer({
  port, host: "127.0.0.1", hostname, alternateHostname: [hostname],
  resourcePath: "/plc/variant", registerServerMethod: RegisterServerMethod.HIDDEN,
  serverCertificateManager: new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true }),
  userCertificateManager: new OPCUACertificateManager({ rootFolder: path.join(pki, "user"), automaticallyAcceptUnknownCertificate: true }),
  securityPolicies: secureOnly ? [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep] : [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
  securityModes: secureOnly ? [MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt] : [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt],
  allowAnonymous: !noAnonymous,
  userManager: { isValidUser: (u, p) => u === "gwuser" && p === "gwpass" },
  buildInfo: { productName: "GatewayVariantPeer", buildNumber: "1" },
  serverCapabilities: {
    maxSessions: 20, maxSubscriptionsPerSession, maxSubscriptions: 50, maxBrowseContinuationPoints: 2,
    minSupportedSampleRate, maxMonitoredItemsPerSubscription, maxMonitoredItems: 5000,
    operationLimits: { maxNodesPerRead, maxNodesPerBrowse, maxMonitoredItemsPerCall, maxNodesPerWrite: maxNodesPerRead,
      maxNodesPerTranslateBrowsePathsToNodeIds: maxNodesPerRead },
  },
  transportSettings: smallMessages ? {
    adjustTransportLimits: () => ({ receiveBufferSize: 8192, sendBufferSize: 8192, maxMessageSize: 8192 * 4, maxChunkCount: 4 }),
  } : undefined,
});
await server.initialize();

const addressSpace = server.engine.addressSpace;
if (hideLimits) {
  // A server that enforces limits without advertising them: clients only learn them from BadTooManyOperations.
  for (const id of [11705, 11707, 11710, 11712, 11714]) {
    addressSpace.findNode(`i=${id}`)?.bindVariable({ get: () => new Variant({ dataType: DataType.UInt32, value: 0 }) }, true);
  }
}
const own = addressSpace.getOwnNamespace();
// --vendor-first: the same nodes with the namespace indexes swapped (vendor 2, plant 3), as after a server update.
const vendorFirst = args.includes("--vendor-first");
const vendor0 = vendorFirst ? addressSpace.registerNamespace("urn:gateway-test:vendor") : undefined;
const plant = addressSpace.registerNamespace("urn:gateway-test:plant");
const vendor = vendor0 ?? addressSpace.registerNamespace("urn:gateway-test:vendor");
const objects = addressSpace.rootFolder.objects;
const st = { tick: 0, temp: 20 };
const constant = (ns, parent, nodeId, browseName, dataType, value, arrayType = VariantArrayType.Scalar, dimensions) =>
  ns.addVariable({ componentOf: parent, nodeId, browseName, dataType, valueRank: arrayType === VariantArrayType.Scalar ? -1 : arrayType === VariantArrayType.Array ? 1 : dimensions.length,
    arrayDimensions: dimensions, value: new Variant({ dataType: DataType[dataType], arrayType, value, dimensions }) });

// Namespace 2: odd string identifiers, extreme numeric identifiers.
const line = plant.addObject({ organizedBy: objects, nodeId: "s=Line 1", browseName: "Line 1" });
plant.addVariable({ componentOf: line, nodeId: "s=Line 1/Zone=A;Temp.°C", browseName: "Zone=A;Temp.°C", dataType: "Double",
  minimumSamplingInterval: minSampling, value: { get: () => new Variant({ dataType: DataType.Double, value: st.temp }) } });
plant.addVariable({ componentOf: line, nodeId: "s=ns=1;s=Fake", browseName: "LooksLikeANodeId", dataType: "Int32",
  value: new Variant({ dataType: DataType.Int32, value: 11 }) });
plant.addVariable({ componentOf: line, nodeId: "s= padded ", browseName: "Padded", dataType: "Int32",
  value: new Variant({ dataType: DataType.Int32, value: 12 }) });
plant.addVariable({ componentOf: line, nodeId: "i=4294967295", browseName: "MaxNumericId", dataType: "UInt32",
  value: new Variant({ dataType: DataType.UInt32, value: 4294967295 }) });
plant.addVariable({ componentOf: line, nodeId: "i=70000", browseName: "Counter", dataType: "UInt32",
  minimumSamplingInterval: minSampling, value: { get: () => new Variant({ dataType: DataType.UInt32, value: st.tick }) } });

// Namespace 3: non-ASCII, GUID and opaque identifiers.
const cell = vendor.addObject({ organizedBy: objects, nodeId: "s=セル", browseName: "セル" });
vendor.addVariable({ componentOf: cell, nodeId: "s=温度/センサー 1", browseName: "温度", dataType: "Double",
  value: new Variant({ dataType: DataType.Double, value: 21.5 }) });
vendor.addVariable({ componentOf: cell, nodeId: "g=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", browseName: "GuidVar", dataType: "Int32",
  value: new Variant({ dataType: DataType.Int32, value: 13 }) });
vendor.addVariable({ componentOf: cell, nodeId: "b=AP8vKzs9", browseName: "OpaqueVar", dataType: "Int32",
  value: new Variant({ dataType: DataType.Int32, value: 14 }) });

// Namespace 2, folder "Data": types at their extremes.
const data = plant.addObject({ organizedBy: objects, nodeId: "s=Data", browseName: "Data" });
const int64Max = [0x7FFFFFFF, 0xFFFFFFFF], int64Min = [0x80000000, 0], uint64Max = [0xFFFFFFFF, 0xFFFFFFFF];
constant(plant, data, "s=Int64Max", "Int64Max", "Int64", int64Max);
constant(plant, data, "s=Int64Min", "Int64Min", "Int64", int64Min);
constant(plant, data, "s=UInt64Max", "UInt64Max", "UInt64", uint64Max);
constant(plant, data, "s=UInt64Big", "UInt64Big", "UInt64", [0x80000000, 1]); // 2^63 + 1
constant(plant, data, "s=Int64Array", "Int64Array", "Int64", [int64Min, [0, 0], int64Max], VariantArrayType.Array);
constant(plant, data, "s=DateTime", "DateTime", "DateTime", new Date(Date.UTC(2026, 10, 26, 10, 0, 0, 123)));
constant(plant, data, "s=DateTimeMin", "DateTimeMin", "DateTime", new Date(Date.UTC(1601, 0, 1)));
constant(plant, data, "s=ByteString", "ByteString", "ByteString", Buffer.from([0, 1, 0xfe, 0xff]));
constant(plant, data, "s=ByteStringEmpty", "ByteStringEmpty", "ByteString", Buffer.alloc(0));
constant(plant, data, "s=ByteStringArray", "ByteStringArray", "ByteString", [Buffer.from([1]), Buffer.from([2, 3])], VariantArrayType.Array);
constant(plant, data, "s=Int32Array", "Int32Array", "Int32", [1, -2, 3], VariantArrayType.Array);
constant(plant, data, "s=EmptyArray", "EmptyArray", "Int32", [], VariantArrayType.Array);
constant(plant, data, "s=Int32Cube", "Int32Cube", "Int32", [1, 2, 3, 4, 5, 6, 7, 8], VariantArrayType.Matrix, [2, 2, 2]);
constant(plant, data, "s=StringMatrix", "StringMatrix", "String", ["a", "b", "c", "d", "e", "f"], VariantArrayType.Matrix, [3, 2]);
constant(plant, data, "s=Float", "Float", "Float", -0.125);
plant.addVariable({ componentOf: data, nodeId: "s=Range", browseName: "Range", dataType: "Range",
  value: new Variant({ dataType: DataType.ExtensionObject, value: new Range({ low: -10.5, high: 99.25 }) }) });
plant.addVariable({ componentOf: data, nodeId: "s=State", browseName: "State", dataType: "ServerState",
  value: new Variant({ dataType: DataType.Int32, value: 1 }) }); // an enumeration: Failed
plant.addVariable({ componentOf: data, nodeId: "s=NullValue", browseName: "NullValue", dataType: "Double",
  value: new Variant({ dataType: DataType.Null }) });
plant.addVariable({ componentOf: data, nodeId: "s=Big", browseName: "Big", dataType: "Double", valueRank: 1,
  value: new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array, value: new Float64Array(20000).map((_, i) => i) }) });

// An analog item with its EURange and EngineeringUnits properties.
plant.addAnalogDataItem({ componentOf: line, nodeId: "s=Line 1/Pressure", browseName: "Pressure", dataType: "Double",
  engineeringUnitsRange: { low: 0, high: 16 }, engineeringUnits: standardUnits.bar, minimumSamplingInterval: minSampling,
  value: { get: () => new Variant({ dataType: DataType.Double, value: 4 + (st.tick % 10) / 10 }) } });

// Many children: Browse answers in several continuation points.
const many = plant.addObject({ organizedBy: objects, nodeId: "s=Many", browseName: "Many" });
for (let i = 0; i < 23; i++) {
  plant.addVariable({ componentOf: many, nodeId: `i=${1000 + i}`, browseName: `M${i}`, dataType: "Int32",
    value: new Variant({ dataType: DataType.Int32, value: i }) });
}

// Namespace 2, folder "Quality": status codes, timestamps, access levels, writable types, a fast counter.
const quality = plant.addObject({ organizedBy: objects, nodeId: "s=Quality", browseName: "Quality" });
const withStatus = (nodeId, value, statusCode, sourceTimestamp) => plant.addVariable({ componentOf: quality, nodeId, browseName: nodeId.slice(2),
  dataType: "Double", value: { timestamped_get: () => new DataValue({ value: new Variant({ dataType: DataType.Double, value }), statusCode,
    sourceTimestamp, serverTimestamp: new Date() }) } });
withStatus("s=Uncertain", 1.5, StatusCodes.UncertainLastUsableValue, new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
withStatus("s=GoodClamped", 2.5, StatusCodes.GoodClamped, new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
withStatus("s=NoSourceTime", 3.5, StatusCodes.Good, null);
plant.addVariable({ componentOf: quality, nodeId: "s=NotReadable", browseName: "NotReadable", dataType: "Double",
  accessLevel: "CurrentWrite", userAccessLevel: "CurrentWrite", value: new Variant({ dataType: DataType.Double, value: 9 }) });
plant.addVariable({ componentOf: quality, nodeId: "s=Text", browseName: "Text", dataType: "String",
  value: new Variant({ dataType: DataType.String, value: "hello" }) });
for (const [name, dataType, value] of [["Int16", "Int16", -7], ["Float", "Float", 0.5], ["Byte", "Byte", 200], ["String", "String", "idle"]]) {
  plant.addVariable({ componentOf: quality, nodeId: `s=Writable.${name}`, browseName: `Writable.${name}`, dataType,
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite", value: new Variant({ dataType: DataType[dataType], value }) });
}
plant.addVariable({ componentOf: quality, nodeId: "s=ReadOnly.Int16", browseName: "ReadOnly.Int16", dataType: "Int16",
  accessLevel: "CurrentRead", userAccessLevel: "CurrentRead", value: new Variant({ dataType: DataType.Int16, value: 5 }) });
// Changes every 20 ms, reported by exception (sampling interval 0): a queue larger than one keeps every value.
const fast = plant.addVariable({ componentOf: quality, nodeId: "s=Fast", browseName: "Fast", dataType: "UInt32", minimumSamplingInterval: 0,
  value: new Variant({ dataType: DataType.UInt32, value: 0 }) });
let fastValue = 0;
const fastTimer = setInterval(() => fast.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: ++fastValue })), 20);

const timer = setInterval(() => { st.tick++; st.temp = 20 + (st.tick % 50) / 10; }, 100);
await server.start();
console.log("OPC UA variant server ready:", server.getEndpointUrl(), "pid", process.pid,
  "namespaces", addressSpace.getNamespaceArray().map((n) => n.namespaceUri).join(" "));
const stop = async () => { clearInterval(timer); clearInterval(fastTimer); await server.shutdown(200); process.exit(0); };
process.on("SIGINT", stop); process.on("SIGTERM", stop);
