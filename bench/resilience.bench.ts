/**
 * Issue 11's bench, run alone with `npx tsx bench/index.ts resilience`:
 * - Calls ahead of streams: sequential add(i, i) p50/p99 from a client whose connection to the
 *   gateway also carries a 640×480×3 camera at 30 fps (27.6 MB/s) over a real constrained link:
 *   a 100 Mbit/s token bucket on lo in a private network namespace (bench/resilience-link.ts,
 *   spawned under `unshare -n`). Quiet (no stream), before (the gateway's answer priority
 *   switched off through its limits), after (default), and after with the kernel's TCP send
 *   buffer capped (what the kernel already holds cannot be overtaken).
 * - Time from a `qi start` restart to resumed events: a client watching the camera of a real
 *   `qi start` that is killed (SIGKILL) and started again on the same port.
 * Skipped with one line when `unshare -n` is not allowed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Session } from "../src/session/index.js";
import type { CaseResult } from "./resilience-link.js";
import type { BenchRow } from "./table.js";

const GROUP = "resilience";
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RESTARTS = 3;

interface LinkResults {
  link: { rate: string; burst: string; latency: string };
  smallSendBuffer: number;
  quiet: CaseResult;
  before: CaseResult;
  after: CaseResult;
  afterSmallBuffer: CaseResult;
}

/** Runs bench/resilience-link.ts in its own network namespace; undefined (and why) when it cannot. */
async function linkResults(): Promise<LinkResults | string> {
  const helper = fileURLToPath(new URL("./resilience-link.ts", import.meta.url));
  const child = spawn("unshare", ["-n", process.execPath, "--import", "tsx", helper], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
    // The helper's progress; tc's htb warnings are noise.
    for (const line of d.split("\n")) if (line && !line.includes("quantum")) process.stderr.write(line);
  });
  const [code] = (await once(child, "close")) as [number | null];
  const last = out.trim().split("\n").at(-1) ?? "";
  if (code === 0 && last.startsWith("{")) return JSON.parse(last) as LinkResults;
  return `unshare -n / tc failed (exit ${code}): ${err.trim().split("\n").at(-1) ?? ""}`.slice(0, 160);
}

function linkRows(r: LinkResults): BenchRow[] {
  const where = `${r.link.rate} tbf link`;
  const n = (c: CaseResult) => `n=${c.calls}${c.timedOut ? `, ${c.timedOut} timed out at 5 s` : ""}`;
  const rows: BenchRow[] = [];
  for (const p of ["p50", "p99"] as const) {
    rows.push(
      { group: GROUP, case: `add ${p}, no stream, ${where} (${n(r.quiet)})`, value: r.quiet[p], unit: "ms" },
      {
        group: GROUP,
        case: `add ${p} + 30 fps camera, before: priority off (${n(r.before)}, ${r.before.frames} frames)`,
        value: r.before[p],
        unit: "ms",
        baseline: r.quiet[p],
      },
      {
        group: GROUP,
        case: `add ${p} + 30 fps camera, after: answers first (${n(r.after)}, ${r.after.frames} frames)`,
        value: r.after[p],
        unit: "ms",
        baseline: r.before[p],
      },
      {
        group: GROUP,
        case: `add ${p} + camera, after, TCP send buffer ≤ ${r.smallSendBuffer / 1024} KiB (${n(r.afterSmallBuffer)})`,
        value: r.afterSmallBuffer[p],
        unit: "ms",
        baseline: r.before[p],
      },
    );
  }
  return rows;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `qi start` on a fixed port, resolved once it printed its services. */
async function startQi(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "start", "--listen", `tcp://127.0.0.1:${port}`, "--no-gateway"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] },
  );
  let out = "";
  child.stdout!.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: string) => {
      out += d;
      if (out.includes("services: ")) resolve();
    });
    child.once("close", () => reject(new Error(`qi start ended: ${out}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGKILL");
  await once(child, "close");
}

/**
 * Restart → resumed events, with the client's default reconnection (200 ms doubling to 5 s,
 * jitter): to the first camera frame (5 fps) the client receives from the new `qi start`,
 * counted from its spawn (what a user waits, Node's start-up included) and from the moment it
 * printed its services (what the reconnection itself costs).
 */
async function restartRows(): Promise<BenchRow[]> {
  const port = await freePort();
  let qi = await startQi(port);
  const client = new Session();
  const fromSpawn: number[] = [];
  const fromReady: number[] = [];
  try {
    await client.connect(`tcp://127.0.0.1:${port}`);
    let lastFrame = 0;
    await (await client.service("ALVideoDevice"))
      .signal("image")
      .connect(() => (lastFrame = performance.now()));
    for (let i = 0; i < RESTARTS; i++) {
      await kill(qi);
      const spawned = performance.now();
      qi = await startQi(port);
      const ready = performance.now();
      const deadline = ready + 30_000;
      while (lastFrame < spawned) {
        if (performance.now() > deadline) throw new Error("no camera frame within 30 s of the restart");
        await new Promise((r) => setTimeout(r, 5));
      }
      fromSpawn.push(lastFrame - spawned);
      fromReady.push(lastFrame - ready);
    }
  } finally {
    await client.close();
    await kill(qi);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return [
    {
      group: GROUP,
      case: `qi start killed+restarted → first camera frame, from its spawn (median of ${RESTARTS})`,
      value: median(fromSpawn),
      unit: "ms",
    },
    {
      group: GROUP,
      case: `… from its "services:" line (reconnection's own cost; camera at 5 fps)`,
      value: median(fromReady),
      unit: "ms",
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const link = await linkResults();
  const rows: BenchRow[] =
    typeof link === "string"
      ? [{ group: GROUP, case: `skipped: ${link}`, value: "skipped", unit: "" }]
      : linkRows(link);
  rows.push(...(await restartRows()));
  return rows;
}
