// Reads node values with node-opcua's own client (independently of the gateway's): node read.mjs URL NODEID...
// Prints one JSON line per node: {"nodeId":..., "status":"Good", "dataType":"Double", "value":...}.
import { OPCUAClient, AttributeIds, DataType, MessageSecurityMode, SecurityPolicy } from "node-opcua";

const [url, ...nodes] = process.argv.slice(2);
const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 1, initialDelay: 200 },
  securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None });
await client.connect(url);
const session = await client.createSession();
for (const nodeId of nodes) {
  const dv = await session.read({ nodeId, attributeId: AttributeIds.Value });
  console.log(JSON.stringify({ nodeId, status: dv.statusCode.name, dataType: DataType[dv.value.dataType], value: dv.value.value }));
}
await session.close();
await client.disconnect();
