/**
 * Dispatch benchmarks (src/dispatch):
 *  (a) small-task throughput and p99 latency of `run()` while 10 long (100 ms) tasks are kept in
 *      flight, in async and in sync mode (sync serializes: small tasks wait for the long ones);
 *  (b) idle `run()` rate against a direct call, i.e. the dispatcher's own overhead, and with a
 *      timeout (which costs an AbortController and a timer per task);
 *  (c) event-loop delay p99 while a 200 ms CPU-bound function runs on the pool vs inline;
 *  (d) the same as (a) with real qi calls over TCP loopback: a Session serves `add` and a
 *      100 ms `wait`; one client keeps 10 `wait` calls in flight while another measures `add`.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type DispatchMode, Dispatcher } from "../src/dispatch/index.js";
import { QiObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { busy } from "./dispatch-work.js";
import type { BenchRow } from "./table.js";

const GROUP = "dispatch";
const WORK = new URL("./dispatch-work.ts", import.meta.url);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const small = (i: number) => i + 1;

/** Rate of `fn` awaited in batches of 100 for `ms` milliseconds. */
async function rate(ms: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) batch.push(fn(i));
    await Promise.all(batch);
    n += 100;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** Small tasks in batches of 100 for `windowMs` while `longCount` 100 ms tasks are kept in flight. */
async function underLoad(
  mode: DispatchMode,
  windowMs: number,
  longCount: number,
): Promise<{ perSec: number; p99: number }> {
  const d = new Dispatcher({ mode });
  let stop = false;
  const longs: Promise<void>[] = [];
  for (let k = 0; k < longCount; k++) {
    longs.push(
      (async () => {
        while (!stop) await d.run(() => sleep(100));
      })(),
    );
  }
  await sleep(5);
  const latencies: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < windowMs) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      const s = performance.now();
      batch.push(d.run(() => small(i)).then(() => latencies.push(performance.now() - s)));
    }
    await Promise.all(batch);
  }
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(longs);
  await d.close();
  return { perSec: latencies.length / (elapsed / 1000), p99: percentile(latencies, 99) };
}

/**
 * Small qi calls (batches of 10, by a client of their own) for `windowMs` while another client
 * keeps `longCount` 100 ms calls in flight, on a server in `mode`.
 */
async function callsUnderLoad(
  mode: DispatchMode,
  windowMs: number,
  longCount: number,
): Promise<{ perSec: number; p99: number }> {
  const server = new Session({ dispatch: mode });
  const [url] = await server.listenStandalone("tcp://127.0.0.1:0");
  await server.registerService(
    "Work",
    new QiObject()
      .method("add", "(ii)", "i", (a: number, b: number) => a + b)
      .method("wait", "(i)", "i", (ms: number) => sleep(ms).then(() => ms)),
  );
  const loader = new Session();
  const prober = new Session();
  await Promise.all([loader.connect(url), prober.connect(url)]);
  const [slow, fast] = await Promise.all([loader.service("Work"), prober.service("Work")]);
  let stop = false;
  const longs: Promise<void>[] = [];
  for (let k = 0; k < longCount; k++) {
    longs.push(
      (async () => {
        while (!stop) await slow.call("wait", 100);
      })(),
    );
  }
  await sleep(20);
  const latencies: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < windowMs) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      const s = performance.now();
      batch.push(fast.call("add", i, 1).then(() => latencies.push(performance.now() - s)));
    }
    await Promise.all(batch);
  }
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(longs);
  await Promise.all([loader.close(), prober.close()]);
  await server.close();
  return { perSec: latencies.length / (elapsed / 1000), p99: percentile(latencies, 99) };
}

async function loopDelayP99(work: () => Promise<unknown>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await sleep(20); // the first ticks only set the baseline
  await work();
  await sleep(30); // let the tick delayed by an inline stall be recorded
  h.disable();
  return h.percentile(99) / 1e6;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  const direct = await rate(300, async (i) => small(i));
  const idle = new Dispatcher({ mode: "async" });
  const idleRate = await rate(300, (i) => idle.run(() => small(i)));
  const withTimeout = await rate(300, (i) =>
    idle.run((signal) => (signal.aborted ? 0 : small(i)), { timeoutMs: 60_000 }),
  );
  await idle.close();
  rows.push({
    group: GROUP,
    case: "async run() small tasks, idle (baseline: direct call)",
    value: idleRate,
    unit: "tasks/s",
    baseline: direct,
  });
  rows.push({
    group: GROUP,
    case: "async run() signal-aware small tasks with timeoutMs (AbortController + timer; baseline: idle)",
    value: withTimeout,
    unit: "tasks/s",
    baseline: idleRate,
  });

  const calm = await underLoad("async", 500, 0);
  const a = await underLoad("async", 1000, 10);
  const s = await underLoad("sync", 1000, 10);
  rows.push({
    group: GROUP,
    case: "async small tasks, 10×100 ms tasks in flight (baseline: none in flight)",
    value: a.perSec,
    unit: "tasks/s",
    baseline: calm.perSec,
  });
  rows.push({
    group: GROUP,
    case: "async small-task p99 latency, 10×100 ms in flight (baseline: none in flight)",
    value: a.p99,
    unit: "ms",
    baseline: calm.p99,
  });
  rows.push({
    group: GROUP,
    case: "sync small tasks, 10×100 ms tasks in flight (baseline: async)",
    value: s.perSec,
    unit: "tasks/s",
    baseline: a.perSec,
  });
  rows.push({
    group: GROUP,
    case: "sync small-task p99 latency, 10×100 ms in flight (baseline: async)",
    value: s.p99,
    unit: "ms",
    baseline: a.p99,
  });

  await callsUnderLoad("async", 1500, 0); // warm-up: else the JIT, not the dispatcher, is measured
  const calmCalls = await callsUnderLoad("async", 500, 0);
  const asyncCalls = await callsUnderLoad("async", 1000, 10);
  const syncCalls = await callsUnderLoad("sync", 1000, 10);
  rows.push({
    group: GROUP,
    case: "async qi calls over TCP, 10×100 ms calls in flight (baseline: none in flight)",
    value: asyncCalls.perSec,
    unit: "calls/s",
    baseline: calmCalls.perSec,
  });
  rows.push({
    group: GROUP,
    case: "async qi call p99, 10×100 ms calls in flight (baseline: none in flight)",
    value: asyncCalls.p99,
    unit: "ms",
    baseline: calmCalls.p99,
  });
  rows.push({
    group: GROUP,
    case: "sync qi calls over TCP, 10×100 ms calls in flight (baseline: async)",
    value: syncCalls.perSec,
    unit: "calls/s",
    baseline: asyncCalls.perSec,
  });
  rows.push({
    group: GROUP,
    case: "sync qi call p99, 10×100 ms calls in flight (baseline: async)",
    value: syncCalls.p99,
    unit: "ms",
    baseline: asyncCalls.p99,
  });

  const d = new Dispatcher({ mode: "async", poolSize: 1 });
  await d.runOnPool(WORK, "busy", [1]); // start the worker and load the module
  const inline = await loopDelayP99(() => d.run(() => busy(200)));
  const pooled = await loopDelayP99(() => d.runOnPool(WORK, "busy", [200]));
  await d.close();
  rows.push({
    group: GROUP,
    case: "event-loop delay p99, 200 ms CPU task on pool (baseline: inline)",
    value: pooled,
    unit: "ms",
    baseline: inline,
  });
  return rows;
}
