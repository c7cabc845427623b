/**
 * Gateway benchmarks: one workload three ways in one run —
 *   direct   client ─────────────────────────▶ SD process (hosts the service)
 *   relay    client ──▶ dumb TCP byte relay ──▶ SD process
 *   gateway  client ──▶ Gateway ──────────────▶ SD process
 * The relay and the gateway live in one child process, the Service Directory (hosting the
 * "Bench" service, reached over `qi:ServiceDirectory`) in another, the clients here: three
 * processes on the machine, so forwarding costs are not hidden by sharing one event loop.
 *
 * Measured: sequential add(i,i) p50/p99, pipelined calls/s (64 in flight), 1 MiB `r` echo
 * MB/s, 640×480×3 frames at 30 fps to 20 subscribers (delivered frames/s, drops), and 10,000
 * idle authenticated clients through the gateway (rss growth per client, its heap part, errors)
 * beside idle clients through the relay (as many as its two sockets per client fit in the
 * open-file limit).
 * Targets: gateway p50 ≤ 1.3× relay; 1 MiB echo ≥ 80% of relay; ≤ 25 KiB per idle client;
 * 0 errors at 10,000 clients.
 *
 * QI_BENCH_PROF=<dir> runs the gateway process under --cpu-prof (profile written to <dir>).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { RemoteObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { Raw } from "../src/wire/values.js";
import type { BenchRow } from "./table.js";

const GROUP = "gateway";
const MiB = 1024 * 1024;
const FRAME_SIZE = 640 * 480 * 3;
const FPS = 30;
const SUBSCRIBERS = 20;
const FRAME_SECONDS = 3;
const IDLE_CLIENTS = 10_000;
/** Descriptors a process needs besides its idle clients' sockets (listeners, upstream, stdio). */
const FD_MARGIN = 200;

/** This shell's open-file limits (ulimit -n), soft and hard; undefined where sh cannot tell. */
function openFileLimits(): { soft: number; hard: number } | undefined {
  try {
    const [soft, hard] = execFileSync("sh", ["-c", "ulimit -Sn; ulimit -Hn"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => (l.trim() === "unlimited" ? Number.POSITIVE_INFINITY : Number(l)));
    return Number.isFinite(soft) || soft === Number.POSITIVE_INFINITY ? { soft, hard } : undefined;
  } catch {
    return undefined;
  }
}

type Path = "direct" | "relay" | "gateway";

interface Child {
  proc: ChildProcess;
  info: Record<string, string>;
}

/** `fileLimit`: the child's soft open-file limit is raised to this first (up to the hard one). */
function startChild(
  script: string,
  args: string[],
  extraNodeArgs: string[] = [],
  fileLimit?: number,
): Promise<Child> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const argv = [...extraNodeArgs, "--import", "tsx", file, ...args];
  const [cmd, cmdArgs] =
    fileLimit === undefined
      ? [process.execPath, argv]
      : ["sh", ["-c", `ulimit -n ${fileLimit} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...argv]];
  const proc = spawn(cmd, cmdArgs, {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    const t = setTimeout(() => reject(new Error(`${script} did not start`)), 20_000);
    rl.once("line", (line) => {
      clearTimeout(t);
      resolve({ proc, info: JSON.parse(line) as Record<string, string> });
    });
    proc.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

let nextRequest = 1;
function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  const id = nextRequest++;
  return new Promise((resolve) => {
    const on = (msg: { id: number }) => {
      if (msg.id !== id) return;
      child.off("message", on);
      resolve(msg as T);
    };
    child.on("message", on);
    child.send({ id, cmd });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function connect(url: string): Promise<Session> {
  const s = new Session();
  await s.connect(url);
  return s;
}

interface PathResult {
  p50: number;
  p99: number;
  pipelined: number;
  echoMBs: number;
  /** The middle process's CPU µs per MiB echoed (both directions forwarded); 0 for direct. */
  echoCpuPerMiB: number;
  /** The middle process's CPU µs per pipelined call; 0 for direct. */
  callCpu: number;
  framesPerSec: number;
  frameDrops: number;
}

interface Acc {
  lat: number[];
  calls: number;
  callSeconds: number;
  echoBytes: number;
  echoSeconds: number;
  /** CPU time (µs) the middle process spent during this path's echoes (relay, gateway). */
  echoCpuMicros: number;
  /** The same during this path's pipelined calls. */
  callCpuMicros: number;
}

const ROUNDS = 3;

/** One round of the call workloads on one path (rounds alternate paths so JIT and noise are shared). */
/** CPU time (µs, user + system) the middle process has used so far. */
async function middleCpu(middle: ChildProcess): Promise<number> {
  const u = await ask<{ user: number; system: number }>(middle, "cpu");
  return u.user + u.system;
}

async function callRound(svc: RemoteObject, acc: Acc, cpu?: () => Promise<number>): Promise<void> {
  const add = svc.method<number>("add");
  for (let i = 0; i < 100; i++) await add(i, i);
  for (let i = 0; i < 1_000; i++) {
    const t = performance.now();
    await add(i, i);
    acc.lat.push((performance.now() - t) * 1000);
  }
  // Pipelined: 64 in flight for 0.5 s.
  let done = 0;
  const p0 = cpu ? await cpu() : 0;
  const until = performance.now() + 500;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async (_, k) => {
      while (performance.now() < until) {
        await add(k, done);
        done++;
      }
    }),
  );
  acc.calls += done;
  acc.callSeconds += (performance.now() - t0) / 1000;
  if (cpu) acc.callCpuMicros += (await cpu()) - p0;
  // 1 MiB raw echo, sequential.
  const echo = svc.method<Raw>("echo");
  const arg = new Raw(Buffer.alloc(MiB, 7));
  for (let i = 0; i < 3; i++) await echo(arg);
  const c0 = cpu ? await cpu() : 0;
  const e0 = performance.now();
  for (let i = 0; i < 25; i++) {
    const r = await echo(arg);
    if (r.bytes.byteLength !== MiB) throw new Error("echo returned a wrong size");
  }
  acc.echoBytes += 25 * MiB;
  acc.echoSeconds += (performance.now() - e0) / 1000;
  if (cpu) acc.echoCpuMicros += (await cpu()) - c0;
}

async function measurePaths(
  urls: Record<Path, string>,
  middle: ChildProcess,
): Promise<Record<Path, PathResult>> {
  const paths: Path[] = ["direct", "relay", "gateway"];
  const sessions = await Promise.all(paths.map((p) => connect(urls[p])));
  try {
    const svcs = await Promise.all(sessions.map((s) => s.service("Bench")));
    const acc = paths.map(
      (): Acc => ({
        lat: [],
        calls: 0,
        callSeconds: 0,
        echoBytes: 0,
        echoSeconds: 0,
        echoCpuMicros: 0,
        callCpuMicros: 0,
      }),
    );
    const cpu = () => middleCpu(middle);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < paths.length; k++) {
        const i = (k + round) % paths.length;
        await callRound(svcs[i], acc[i], paths[i] === "direct" ? undefined : cpu);
      }
    }
    const out = {} as Record<Path, PathResult>;
    for (let i = 0; i < paths.length; i++) {
      const a = acc[i];
      a.lat.sort((x, y) => x - y);
      out[paths[i]] = {
        p50: percentile(a.lat, 50),
        p99: percentile(a.lat, 99),
        pipelined: a.calls / a.callSeconds,
        echoMBs: a.echoBytes / 1e6 / a.echoSeconds,
        echoCpuPerMiB: a.echoCpuMicros / (a.echoBytes / MiB),
        callCpu: a.callCpuMicros / a.calls,
        ...(await measureFrames(urls[paths[i]], svcs[i])),
      };
    }
    return out;
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}

/** 640×480×3 frames at 30 fps for FRAME_SECONDS to SUBSCRIBERS clients with their own connections. */
async function measureFrames(
  url: string,
  svc: RemoteObject,
): Promise<{ framesPerSec: number; frameDrops: number }> {
  const subs = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => connect(url)));
  try {
    let delivered = 0;
    for (const sub of subs) {
      const p = await sub.service("Bench");
      await p.signal("frame").connect((r: Raw) => {
        if (r.bytes.byteLength === FRAME_SIZE) delivered++;
      });
    }
    const count = FPS * FRAME_SECONDS;
    const t0 = performance.now();
    await svc.call("frames", count, FPS, FRAME_SIZE);
    // Let the last frames arrive (at most half a second).
    const expected = count * SUBSCRIBERS;
    const deadline = performance.now() + 500;
    while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const seconds = (performance.now() - t0) / 1000;
    return { framesPerSec: delivered / seconds, frameDrops: expected - delivered };
  } finally {
    await Promise.all(subs.map((s) => s.close()));
  }
}

const FANOUTS = 1_000;
const FANOUT_HOLDERS = 10;
const TICKS = 20_000;

/** Events/s a client receives through `url` while the service emits TICKS ticks at once. */
async function tickRate(svc: RemoteObject, received: () => number): Promise<number> {
  const start = received();
  const t0 = performance.now();
  await svc.call("ticks", TICKS);
  const deadline = performance.now() + 10_000;
  while (received() - start < TICKS && performance.now() < deadline)
    await new Promise((r) => setImmediate(r));
  if (received() - start < TICKS) throw new Error(`only ${received() - start} of ${TICKS} ticks arrived`);
  return TICKS / ((performance.now() - t0) / 1000);
}

/**
 * Signal fan-out through the gateway: the rate of one signal's events to one client with no
 * other fan-out open, and with FANOUTS open (FANOUT_HOLDERS clients subscribed to other
 * signals of the same object). Rounds alternate so both share the machine's state.
 */
async function measureFanouts(url: string): Promise<{ one: number; many: number }> {
  const watcher = await connect(url);
  try {
    const svc = await watcher.service("Signals");
    let received = 0;
    await svc.signal("tick").connect(() => {
      received++;
    });
    for (let i = 0; i < 3; i++) await tickRate(svc, () => received); // warm-up
    let one = 0;
    let many = 0;
    for (let round = 0; round < 2; round++) {
      one += await tickRate(svc, () => received);
      const holders = await Promise.all(Array.from({ length: FANOUT_HOLDERS }, () => connect(url)));
      try {
        await Promise.all(
          holders.map(async (h, k) => {
            const s = await h.service("Signals");
            const per = FANOUTS / FANOUT_HOLDERS;
            for (let i = 0; i < per; i++) await s.signal(`s${k * per + i}`).connect(() => {});
          }),
        );
        many += await tickRate(svc, () => received);
      } finally {
        await Promise.all(holders.map((h) => h.close()));
      }
    }
    return { one: one / 2, many: many / 2 };
  } finally {
    await watcher.close();
  }
}

/**
 * Memory the middle process grows by per connected, idle qi client: rss (which includes the
 * heap), and the heap part alone. `viaGateway`: the gateway's own client count is checked too.
 */
async function idleClients(
  url: string,
  middle: ChildProcess,
  viaGateway: boolean,
  count: number,
): Promise<{ rssKiB: number; heapKiB: number; errors: number }> {
  type Mem = { heapUsed: number; rss: number };
  const before = await ask<Mem>(middle, "mem");
  const sessions: Session[] = [];
  let errors = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < count) {
        next++;
        const s = new Session();
        try {
          await s.connect(url);
          sessions.push(s);
        } catch {
          errors++;
          await s.close();
        }
      }
    }),
  );
  // Everyone still works while all are connected.
  const answers = await Promise.allSettled(sessions.map((s) => s.services()));
  errors += answers.filter((a) => a.status === "rejected").length;
  if (viaGateway) {
    const stats = await ask<{ clients: number }>(middle, "stats");
    if (stats.clients !== count) errors += Math.abs(count - stats.clients);
  }
  const after = await ask<Mem>(middle, "mem");
  await Promise.all(sessions.map((s) => s.close()));
  // Let the middle process see the closes before the next measurement starts.
  await new Promise((r) => setTimeout(r, 200));
  return {
    rssKiB: (after.rss - before.rss) / count / 1024,
    heapKiB: (after.heapUsed - before.heapUsed) / count / 1024,
    errors,
  };
}

async function idleIn(serverUrl: string, path: "gateway" | "relay", count: number, fileLimit: number) {
  const fresh = await startChild("./gateway-middle.ts", [serverUrl], [], fileLimit);
  try {
    return await idleClients(fresh.info[path], fresh.proc, path === "gateway", count);
  } finally {
    const exited = new Promise((r) =>
      fresh.proc.exitCode !== null ? r(undefined) : fresh.proc.once("exit", r),
    );
    fresh.proc.send({ id: 0, cmd: "exit" });
    await exited;
  }
}

export async function run(): Promise<BenchRow[]> {
  const prof = process.env.QI_BENCH_PROF;
  const server = await startChild("./gateway-server.ts", []);
  const middle = await startChild(
    "./gateway-middle.ts",
    [server.info.url],
    prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [],
  );
  const urls: Record<Path, string> = {
    direct: server.info.url,
    relay: middle.info.relay,
    gateway: middle.info.gateway,
  };
  try {
    // The paths first: 10,000 idle clients coming and going through the same Service
    // Directory process beforehand left the 1 MiB echo through the gateway ~30 % slower
    // (0.58 vs 0.82 of the relay), which would measure their aftermath, not forwarding.
    const r = await measurePaths(urls, middle.proc);
    const fanouts = await measureFanouts(urls.gateway);
    // Idle clients in middle processes of their own, one for the gateway and one for the
    // relay: in a process that already ran other cases, how much freed memory it keeps and
    // reuses decides the rss growth more than the clients do.
    // This process holds every client's socket, the middle one every accepted socket (and,
    // for the relay, one upstream socket more per client): both need room under ulimit -n.
    const limits = openFileLimits();
    const middleLimit = limits === undefined ? undefined : Math.min(limits.hard, 4 * IDLE_CLIENTS);
    const idleSkip =
      limits === undefined
        ? "cannot read ulimit -n"
        : limits.soft < IDLE_CLIENTS + FD_MARGIN || middleLimit! < IDLE_CLIENTS + FD_MARGIN
          ? `ulimit -n is ${limits.soft} (hard ${limits.hard}), ${IDLE_CLIENTS + FD_MARGIN} needed: raise it`
          : undefined;
    const relayClients =
      middleLimit === undefined ? 0 : Math.min(IDLE_CLIENTS, Math.floor((middleLimit - FD_MARGIN) / 2));
    const idle =
      idleSkip === undefined
        ? await idleIn(server.info.url, "gateway", IDLE_CLIENTS, middleLimit!)
        : undefined;
    const idleRelay =
      idleSkip === undefined ? await idleIn(server.info.url, "relay", relayClients, middleLimit!) : undefined;
    const rows: BenchRow[] = [];
    const three = (what: string, unit: string, pick: (x: PathResult) => number, target?: string) => {
      rows.push({ group: GROUP, case: `${what}, direct`, value: pick(r.direct), unit });
      rows.push({
        group: GROUP,
        case: `${what}, relay`,
        value: pick(r.relay),
        unit,
        baseline: pick(r.direct),
      });
      rows.push({
        group: GROUP,
        case: `${what}, gateway (vs relay${target ? `; target ${target}` : ""})`,
        value: pick(r.gateway),
        unit,
        baseline: pick(r.relay),
      });
    };
    three("add() sequential p50", "µs", (x) => x.p50, "≤ 1.30");
    three("add() sequential p99", "µs", (x) => x.p99);
    three("add() pipelined, 64 in flight", "calls/s", (x) => x.pipelined);
    three("1 MiB r echo", "MB/s", (x) => x.echoMBs, "≥ 0.80");
    // CPU, not wall time: on a loaded machine the wall clock measures the neighbours.
    rows.push({
      group: GROUP,
      case: "add() pipelined: CPU of the middle process per call, gateway (baseline: relay)",
      value: r.gateway.callCpu,
      unit: "µs",
      baseline: r.relay.callCpu,
    });
    rows.push({
      group: GROUP,
      case: "1 MiB r echo: CPU of the middle process per MiB echoed, gateway (baseline: relay)",
      value: r.gateway.echoCpuPerMiB,
      unit: "µs",
      baseline: r.relay.echoCpuPerMiB,
    });
    three(
      `640×480×3 @${FPS} fps to ${SUBSCRIBERS} subscribers, delivered`,
      "frames/s",
      (x) => x.framesPerSec,
    );
    three(
      `640×480×3 @${FPS} fps to ${SUBSCRIBERS} subscribers, dropped of ${FPS * FRAME_SECONDS * SUBSCRIBERS}`,
      "frames",
      (x) => x.frameDrops,
    );
    rows.push({
      group: GROUP,
      case: "events/s through the gateway, one fan-out open",
      value: fanouts.one,
      unit: "events/s",
    });
    rows.push({
      group: GROUP,
      case: `events/s through the gateway, ${FANOUTS} fan-outs open (vs one; target ≥ 0.90)`,
      value: fanouts.many,
      unit: "events/s",
      baseline: fanouts.one,
    });
    if (idle === undefined || idleRelay === undefined) {
      rows.push({
        group: GROUP,
        case: `${IDLE_CLIENTS} idle clients: skipped (${idleSkip})`,
        value: "n/a",
        unit: "",
      });
      return rows;
    }
    rows.push({
      group: GROUP,
      case: `${IDLE_CLIENTS} idle clients: gateway rss growth per client (target ≤ 25)`,
      value: idle.rssKiB,
      unit: "KiB",
      baseline: 25,
    });
    rows.push({
      group: GROUP,
      case: `${relayClients} idle clients: relay rss growth per client (2 sockets each)`,
      value: idleRelay.rssKiB,
      unit: "KiB",
    });
    rows.push({
      group: GROUP,
      case: `${IDLE_CLIENTS} idle clients: of the gateway's, JS heap`,
      value: idle.heapKiB,
      unit: "KiB",
    });
    rows.push({
      group: GROUP,
      case: `${IDLE_CLIENTS} idle clients: errors (target 0)`,
      value: idle.errors + idleRelay.errors,
      unit: "errors",
    });
    return rows;
  } finally {
    const exited = new Promise((r) =>
      middle.proc.exitCode !== null ? r(undefined) : middle.proc.once("exit", r),
    );
    middle.proc.send({ id: 0, cmd: "exit" });
    await exited;
    server.proc.disconnect();
    await new Promise((r) => (server.proc.exitCode !== null ? r(undefined) : server.proc.once("exit", r)));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { printTable } = await import("./table.js");
  printTable(await run());
}
