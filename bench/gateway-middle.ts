/**
 * Child process of bench/gateway.bench.ts: the two things that sit between the clients and
 * the Service Directory, in one process — the Gateway, and a dumb TCP byte relay (the cost
 * floor a forwarder cannot beat). Prints `{"gateway": …, "relay": …}`; answers `mem` and
 * `stats` and `cpu` (process.cpuUsage) requests over IPC; exits on `exit` (so --cpu-prof can write its profile).
 */
import { createConnection, createServer, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { startGateway } from "../src/gateway/index.js";

const sdUrl = process.argv[2];
const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(sdUrl);
if (!m) throw new Error(`tcp URL expected, got ${sdUrl}`);
const [, sdHost, sdPort] = m;

// Every bench client comes from 127.0.0.1 (10,000 idle clients, 50 connecting at once): the
// per-address connection caps, sized for real networks, are raised to measure the forwarding.
const gw = await startGateway({
  attach: sdUrl,
  listen: ["tcp://127.0.0.1:0"],
  allowAnonymous: true,
  limits: { maxConnections: 20_000, maxConnectionsPerAddress: 20_000, maxUnauthenticatedPerAddress: 256 },
});
await gw.waitAttached();

const sockets = new Set<Socket>();
const relay = createServer((client) => {
  const upstream = createConnection({ host: sdHost, port: Number(sdPort) });
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  sockets.add(client);
  sockets.add(upstream);
  client.pipe(upstream);
  upstream.pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  client.on("error", end).on("close", end);
  upstream.on("error", end).on("close", end);
});
await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
const addr = relay.address();
if (!addr || typeof addr === "string") throw new Error("relay has no address");

let gcFn = (globalThis as { gc?: () => void }).gc;
if (!gcFn) {
  setFlagsFromString("--expose-gc");
  gcFn = runInNewContext("gc") as () => void;
}

process.on("message", (msg: { id: number; cmd: string }) => {
  if (msg.cmd === "mem") {
    gcFn!();
    gcFn!();
    const u = process.memoryUsage();
    process.send!({ id: msg.id, heapUsed: u.heapUsed, rss: u.rss, external: u.external });
  } else if (msg.cmd === "cpu") {
    const u = process.cpuUsage();
    process.send!({ id: msg.id, user: u.user, system: u.system });
  } else if (msg.cmd === "stats") {
    process.send!({ id: msg.id, ...gw.stats() });
  } else if (msg.cmd === "exit") {
    for (const s of sockets) s.destroy();
    relay.close();
    gw.close().finally(() => process.exit(0));
  }
});
process.stdout.write(
  `${JSON.stringify({ gateway: gw.endpoints()[0], relay: `tcp://127.0.0.1:${addr.port}` })}\n`,
);
