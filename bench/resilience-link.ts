/**
 * Child of bench/resilience.bench.ts, run under `unshare -n`: in its own network namespace it
 * brings up lo and runs a Service Directory, a gateway and a client over it, the link between
 * gateway and client (its port, both ways) throttled by a token bucket (LINK below: 30 fps ×
 * 921,600 B = 27.6 MB/s does not fit, so a queue builds); the robot's own hop (directory to
 * gateway) is not. It measures sequential add(i, i) latency three ways and prints one JSON line:
 *   quiet   no stream;
 *   before  the client also subscribes to a 640×480×3 30 fps camera, with the gateway's
 *           answer priority switched off (limits.streamQueueBytes = hardQueuedBytes: events go
 *           to the client's queue up to the soft limit, answers behind them — what the gateway
 *           did before issue 11);
 *   after   the same stream, default limits (events wait in the gateway while more than
 *           256 KiB is queued toward the client; answers go first).
 */
import { execFileSync } from "node:child_process";
import { pino } from "pino";
import { DEFAULT_LIMITS, type Gateway, startGateway } from "../src/gateway/index.js";
import { QiObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { Raw } from "../src/wire/values.js";

/**
 * tc's token bucket (netem is not available): 100 Mbit/s = 12.5 MB/s. Its burst is above lo's 64 KiB
 * segments (at 64 KiB, TCP stalled on retransmissions that never fit). It sits under an htb
 * class that a u32 filter picks by the gateway's port (htb itself does not limit).
 */
export const LINK = { rate: "100mbit", burst: "256kb", latency: "50ms" };
const FRAME_SIZE = 640 * 480 * 3;
const FPS = 30;
const MAX_CALLS = 400;
/** Calls stop after this long (behind a queued stream one may take most of a second). */
const CALLS_MS = 15_000;
const WARMUP_MS = 2_000;
/** A call not answered in this long counts as this long (and as timed out). */
export const CALL_TIMEOUT_MS = 5_000;

/**
 * "Before": a stream limit the queue never reaches (the hard limit) — events are never held,
 * they go to the client's queue until the soft limit, past which they are dropped, as before
 * issue 11. (Equal to the soft limit would not do: events would still be held in the gateway,
 * a second queue the old gateway did not have.)
 */
const NO_PRIORITY = DEFAULT_LIMITS.hardQueuedBytes;
/** The last case's cap on TCP send buffers (net.ipv4.tcp_wmem, this namespace only). */
export const SMALL_SEND_BUFFER = 256 * 1024;

export interface CaseResult {
  p50: number;
  p99: number;
  calls: number;
  /** Calls not answered within CALL_TIMEOUT_MS (counted at that value). */
  timedOut: number;
  /** Camera frames the client received while it called. */
  frames: number;
  seconds: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(streamQueueBytes: number, stream: boolean): Promise<CaseResult> {
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
    logger: pino({ level: "warn" }, pino.destination(2)),
  });
  await gw.waitAttached();
  const url = gw.endpoints()[0];
  throttle(Number(new URL(url.replace("tcp:", "http:")).port));
  const client = new Session({ reconnect: false });
  await client.connect(url);
  const proxy = await client.service("Camera");
  let frames = 0;
  if (stream) await proxy.signal("image").connect(() => frames++);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const framesBefore = frames;
  const times: number[] = [];
  let timedOut = 0;
  const t0 = performance.now();
  const until = t0 + CALLS_MS;
  for (let i = 0; i < MAX_CALLS && performance.now() < until; i++) {
    const t = performance.now();
    try {
      await proxy.invoke("add", [i, i], { timeoutMs: CALL_TIMEOUT_MS });
      times.push(performance.now() - t);
    } catch {
      timedOut++;
      times.push(CALL_TIMEOUT_MS);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const received = frames - framesBefore;
  times.sort((a, b) => a - b);
  process.stderr.write(
    ` [${stream ? "stream" : "quiet"}, streamQueueBytes ${streamQueueBytes}: ${times.length} calls (${timedOut} timed out), ${received} frames]`,
  );
  clearInterval(timer);
  await client.close();
  await gw.close();
  await sd.close();
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    calls: times.length,
    timedOut,
    frames: received,
    seconds,
  };
}

const tc = (line: string) => execFileSync("tc", line.split(" "), { stdio: ["ignore", "ignore", "inherit"] });
execFileSync("ip", ["link", "set", "lo", "up"]);
tc("qdisc add dev lo root handle 1: htb default 10");
tc("class add dev lo parent 1: classid 1:10 htb rate 20gbit");
tc("class add dev lo parent 1: classid 1:20 htb rate 20gbit");
tc(
  `qdisc add dev lo parent 1:20 handle 20: tbf rate ${LINK.rate} burst ${LINK.burst} latency ${LINK.latency}`,
);

/** Sends the traffic of the gateway's port (both ways) through the token bucket. */
function throttle(port: number): void {
  for (const side of ["sport", "dport"])
    tc(`filter add dev lo parent 1: protocol ip prio 1 u32 match ip ${side} ${port} 0xffff flowid 1:20`);
}

const quiet = await measure(DEFAULT_LIMITS.streamQueueBytes, false);
const before = await measure(NO_PRIORITY, true);
const after = await measure(DEFAULT_LIMITS.streamQueueBytes, true);
// What the kernel's send buffer holds (autotuned up to 4 MiB) cannot be overtaken by anything
// the gateway does; with it capped, the gateway's own part shows.
execFileSync("sysctl", ["-q", "-w", `net.ipv4.tcp_wmem=4096 16384 ${SMALL_SEND_BUFFER}`]);
const afterSmallBuffer = await measure(DEFAULT_LIMITS.streamQueueBytes, true);
process.stdout.write(
  `${JSON.stringify({ link: LINK, smallSendBuffer: SMALL_SEND_BUFFER, quiet, before, after, afterSmallBuffer })}\n`,
);
process.exit(0);
