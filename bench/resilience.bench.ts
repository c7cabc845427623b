/**
 * Calls ahead of streams (issue 11): sequential add(i,i) latency, p50/p99, from a client whose
 * connection to the gateway also carries a 640×480×3 camera at 30 fps (27 MB/s), over a
 * constrained link (a relay, bench/constrained-link.py, that moves 16 MB/s and whose socket
 * toward the gateway has a 64 KiB receive buffer: the stream cannot fit, like a client on a
 * weak Wi-Fi). Three ways, in one run, one process:
 *   quiet    no stream: the link's own cost;
 *   before   the stream, events queued toward the client up to the soft limit (8 MiB), answers
 *            behind them (streamQueueBytes = the soft limit: what the gateway did before);
 *   after    the stream, events held back (newest per subscription) while more than
 *            streamQueueBytes (256 KiB) is queued, so answers go first.
 * Run alone: `npx tsx bench/index.ts resilience`.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DEFAULT_LIMITS, type Gateway, startGateway } from "../src/gateway/index.js";
import { QiObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { Raw } from "../src/wire/values.js";
import type { BenchRow } from "./table.js";

const GROUP = "resilience";
const FRAME_SIZE = 640 * 480 * 3;
const FPS = 30;
const LINK_BYTES_PER_S = 16 * 1024 * 1024;
const LINK_BUFFER = 64 * 1024;
const CALLS = 300;
/** Calls stop after this long (behind a queued stream, each may take a large part of a second). */
const CALLS_MS = 8_000;
const WARMUP_MS = 1_500;

/** The constrained link (bench/constrained-link.py): small receive buffer, LINK_BYTES_PER_S. */
async function constrainedLink(target: number): Promise<{ port: number; close(): Promise<void> }> {
  const script = fileURLToPath(new URL("./constrained-link.py", import.meta.url));
  const child = spawn("python3", [script, String(target), String(LINK_BYTES_PER_S), String(LINK_BUFFER)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return {
    port: Number(line),
    close: async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await once(child, "close");
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(streamQueueBytes: number, stream: boolean): Promise<{ p50: number; p99: number }> {
  const sd = new Session({ reconnect: false });
  const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const frame = new Raw(new Uint8Array(FRAME_SIZE));
  const camera = new QiObject()
    .method("add", "(ii)", "i", (a: number, b: number) => a + b)
    .signal("image", "(r)");
  await sd.registerService("Camera", camera);
  const timer = setInterval(() => camera.emit("image", frame), 1000 / FPS);
  const gw: Gateway = await startGateway({
    attach: sdUrl,
    listen: ["tcp://127.0.0.1:0"],
    allowAnonymous: true,
    limits: { ...DEFAULT_LIMITS, streamQueueBytes },
  });
  await gw.waitAttached();
  const port = Number(new URL(gw.endpoints()[0].replace("tcp:", "http:")).port);
  const link = await constrainedLink(port);
  const client = new Session({ reconnect: false });
  await client.connect(`tcp://127.0.0.1:${link.port}`);
  const proxy = await client.service("Camera");
  let frames = 0;
  if (stream) await proxy.signal("image").connect(() => frames++);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const times: number[] = [];
  const until = performance.now() + CALLS_MS;
  for (let i = 0; i < CALLS && performance.now() < until; i++) {
    const t0 = performance.now();
    await proxy.call("add", i, i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  clearInterval(timer);
  await client.close();
  await link.close();
  await gw.close();
  await sd.close();
  process.stderr.write(
    ` [${stream ? "stream" : "quiet"} ${streamQueueBytes}: ${times.length} calls, ${frames} frames]`,
  );
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

export async function run(): Promise<BenchRow[]> {
  const quiet = await measure(DEFAULT_LIMITS.streamQueueBytes, false);
  const before = await measure(DEFAULT_LIMITS.maxQueuedBytes, true);
  const after = await measure(DEFAULT_LIMITS.streamQueueBytes, true);
  const rows: BenchRow[] = [];
  for (const p of ["p50", "p99"] as const) {
    rows.push(
      { group: GROUP, case: `add ${p}, no stream, 16 MB/s link`, value: quiet[p], unit: "ms" },
      {
        group: GROUP,
        case: `add ${p} + 30 fps camera, events queued (before)`,
        value: before[p],
        unit: "ms",
        baseline: quiet[p],
      },
      {
        group: GROUP,
        case: `add ${p} + 30 fps camera, answers first (after)`,
        value: after[p],
        unit: "ms",
        baseline: before[p],
      },
    );
  }
  return rows;
}
