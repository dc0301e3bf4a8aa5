// Baseline for bench/OpcUa: node-opcua's own client does what the gateway's client does.
// usage: node bench-client.mjs URL ITEMS SECONDS  -> one JSON line {createMs, notifications, seconds, cpuMs}
import { OPCUAClient, AttributeIds, TimestampsToReturn } from "node-opcua";

const [url, itemsArg, secondsArg] = process.argv.slice(2);
const items = Number(itemsArg ?? 10000), seconds = Number(secondsArg ?? 20);
const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 1 } });
await client.connect(url);
const session = await client.createSession();
const sub = await session.createSubscription2({ requestedPublishingInterval: 1000, publishingEnabled: true,
  requestedLifetimeCount: 100, requestedMaxKeepAliveCount: 10, maxNotificationsPerPublish: 0 });
const ids = Array.from({ length: items }, (_, i) => ({ nodeId: `ns=1;s=Load.Item${String(i).padStart(5, "0")}`, attributeId: AttributeIds.Value }));
let notifications = 0;
const t0 = performance.now();
// node-opcua's client does not split by the server's MaxMonitoredItemsPerCall (1000 here): batch by hand.
for (let start = 0; start < ids.length; start += 1000) {
  const group = await sub.monitorItems(ids.slice(start, start + 1000), { samplingInterval: 1000, queueSize: 1, discardOldest: true }, TimestampsToReturn.Both);
  group.on("changed", () => { notifications++; });
}
const createMs = performance.now() - t0;
await new Promise(r => setTimeout(r, 3000)); // initial values
const cpu0 = process.cpuUsage(); const n0 = notifications; const w0 = performance.now();
await new Promise(r => setTimeout(r, seconds * 1000));
const cpu = process.cpuUsage(cpu0); const elapsed = (performance.now() - w0) / 1000;
console.log(JSON.stringify({ createMs, notifications: notifications - n0, seconds: elapsed, cpuMs: (cpu.user + cpu.system) / 1000 }));
await sub.terminate(); await session.close(); await client.disconnect();
process.exit(0);
