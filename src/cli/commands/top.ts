/** `qi top SERVICE`: per-method call statistics (count, min/max/avg wall time), refreshed. */
import type { Command } from "commander";
import type { RemoteObject } from "../../object/index.js";
import { Struct } from "../../wire/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { usageError } from "../errors.js";
import { onCleanup, sleep, waitForShutdown } from "../lifecycle.js";
import { Output, table } from "../output.js";
import { action } from "../program.js";
import { rideThrough } from "../ride-through.js";
import { openService } from "../target.js";

interface Options extends ConnectionOptions {
  interval: string;
  once?: boolean;
  json?: boolean;
}

export const MIN_INTERVAL_MS = 100;

export interface MethodStatsRow {
  id: number;
  name: string;
  count: number;
  /** Wall time in ms. */
  minMs: number;
  maxMs: number;
  avgMs: number;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("top")
      .description("per-method call statistics of a service, refreshed every interval")
      .argument("<service>", "service name")
      .option("--interval <ms>", "sampling interval", "1000")
      .option("--once", "print one sample (after --interval) and exit")
      .option("--json", "one JSON array per sample"),
  ).action(
    action(async (name: string, opts: Options) => {
      const out = new Output(!!opts.json);
      const interval = Number(opts.interval);
      // Each sample is a stats() call: below this the command would only load the robot.
      if (!Number.isFinite(interval) || interval < MIN_INTERVAL_MS)
        throw usageError(`--interval must be at least ${MIN_INTERVAL_MS} ms, got "${opts.interval}"`);
      const session = await connectSession(opts);
      const obj = await openService(session, name);
      const wasEnabled = await obj.call<boolean>("isStatsEnabled");
      await obj.call("enableStats", true);
      if (!wasEnabled) onCleanup(() => obj.call("enableStats", false));
      // A restarted robot starts with statistics off: switched on again before sampling resumes.
      const ride = rideThrough(session, `sampling ${name}`, () => obj.call("enableStats", true));
      let stop = false;
      if (!opts.once) void waitForShutdown().then(() => (stop = true));
      ride.failed.catch(() => (stop = true));
      do {
        await sleepUnless(interval, () => stop);
        if (stop) break;
        let rows: MethodStatsRow[];
        try {
          rows = await sample(obj);
        } catch (e) {
          // While the session reconnects (it says so on stderr), samples are skipped.
          if (ride.steady || opts.once) throw e;
          continue;
        }
        if (out.json) {
          out.line(JSON.stringify(rows));
        } else {
          if (out.color && !opts.once) out.line("\u001b[2J\u001b[H");
          out.line(out.style("bold", `${name} — ${new Date().toISOString()}`));
          const head = ["id", "method", "count", "min ms", "max ms", "avg ms"].map((h) =>
            out.style("dim", h),
          );
          const body = rows.map((r) => [
            String(r.id),
            r.name,
            String(r.count),
            ms(r.minMs),
            ms(r.maxMs),
            ms(r.avgMs),
          ]);
          for (const l of table([head, ...body])) out.line(l);
          if (rows.length === 0) out.line(out.style("dim", "(no calls yet)"));
        }
      } while (!opts.once && !stop);
      await Promise.race([ride.failed, Promise.resolve()]);
      return 0;
    }),
  );
}

/** One reading of `stats` (member 82), sorted by call count. */
export async function sample(obj: RemoteObject): Promise<MethodStatsRow[]> {
  const stats = await obj.call<Map<number, Struct>>("stats");
  const rows: MethodStatsRow[] = [];
  for (const [uid, s] of stats) {
    const f = s instanceof Struct ? s.fields : (s as Record<string, unknown>);
    const wall = (f.wall instanceof Struct ? f.wall.fields : {}) as Record<string, number>;
    const count = Number(f.count);
    rows.push({
      id: Number(uid),
      name: obj.metaObject.methods.get(Number(uid))?.name ?? `#${uid}`,
      count,
      minMs: (wall.minValue ?? 0) * 1000,
      maxMs: (wall.maxValue ?? 0) * 1000,
      avgMs: count > 0 ? ((wall.cumulatedValue ?? 0) * 1000) / count : 0,
    });
  }
  return rows.sort((a, b) => b.count - a.count || a.id - b.id);
}

function ms(v: number): string {
  return v.toFixed(3);
}

async function sleepUnless(total: number, stopped: () => boolean): Promise<void> {
  const step = 100;
  for (let left = total; left > 0 && !stopped(); left -= step) await sleep(Math.min(step, left));
}
