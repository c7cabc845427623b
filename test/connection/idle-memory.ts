/**
 * Heap of idle authenticated connections:
 * `node --expose-gc --import tsx test/connection/idle-memory.ts [n] [--objects]`
 * opens n client/server pairs over memoryChannelPair, waits for every handshake, then prints the
 * JS heap the two Connections of a pair take (with `--objects`, each with its PeerObjects, as
 * every Session and gateway connection has). The channels are measured apart (n bare pairs) and
 * subtracted: they are the transport's, the same whatever shape the connection has.
 */
import { Connection } from "../../src/connection/index.js";
import { Dispatcher } from "../../src/dispatch/index.js";
import { PeerObjects } from "../../src/object/index.js";
import { memoryChannelPair } from "../../src/transport/memory-channel.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

async function settle(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc!();
  }
  return process.memoryUsage().heapUsed;
}

export async function measure(
  n: number,
  withObjects: boolean,
): Promise<{ channelsPerPair: number; connectionsPerPair: number }> {
  const dispatcher = new Dispatcher();
  const base = await settle();
  const bare = [];
  for (let i = 0; i < n; i++) bare.push(memoryChannelPair());
  const withChannels = await settle();
  const channelsPerPair = (withChannels - base) / n;
  bare.length = 0;
  const base2 = await settle();
  const conns: Connection[] = [];
  for (let i = 0; i < n; i++) {
    const [a, b] = memoryChannelPair();
    // No handshake timeout to speak of: on a loaded machine thousands of handshakes take a while,
    // and timeouts are not what is measured (the timer is dropped once ready either way).
    const server = new Connection(b, { role: "server", handshakeTimeoutMs: 600_000 });
    const client = new Connection(a, { role: "client", handshakeTimeoutMs: 600_000 });
    if (withObjects) {
      PeerObjects.attach(server, { dispatcher });
      PeerObjects.attach(client, { dispatcher });
    }
    conns.push(server, client);
  }
  await Promise.all(conns.map((c) => c.ready()));
  const after = await settle();
  const connectionsPerPair = (after - base2) / n - channelsPerPair;
  for (const c of conns) c.close();
  await dispatcher.close();
  return { channelsPerPair, connectionsPerPair };
}

if (process.argv[1]?.endsWith("idle-memory.ts")) {
  const n = Number(process.argv[2] ?? 10_000);
  const withObjects = process.argv.includes("--objects");
  const r = await measure(n, withObjects);
  if (process.argv.includes("--json")) console.log(JSON.stringify(r));
  else
    console.log(
      `${n} idle authenticated pairs${withObjects ? " with PeerObjects" : ""}: channels ${(r.channelsPerPair / 1024).toFixed(2)} KiB/pair, ` +
        `two Connections ${(r.connectionsPerPair / 1024).toFixed(2)} KiB/pair ` +
        `(≈ ${(r.connectionsPerPair / 2048).toFixed(2)} KiB per Connection)`,
    );
}
