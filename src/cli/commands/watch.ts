/**
 * `qi watch SERVICE.SIGNAL...`: print signals (and property changes) live, with timestamps.
 * Patterns as qicli takes them: `ALMemory.*`, `'AL*.on*'`, or a bare `ALMemory` (all of it).
 */
import type { Command } from "commander";
import type { RemoteObject } from "../../object/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { FIRST_USER_MEMBER } from "../describe.js";
import { failure, usageError } from "../errors.js";
import { EventBudget, onCleanup } from "../lifecycle.js";
import { tidyFloats } from "../floats.js";
import { formatHuman, Output, toJson } from "../output.js";
import { expandServices, isPattern, membersMatching } from "../patterns.js";
import { action } from "../program.js";
import { rideThrough } from "../ride-through.js";
import { noSuchMember, openService, parseTarget, signalNamed } from "../target.js";

interface Options extends ConnectionOptions {
  count?: string;
  json?: boolean;
  rate?: string;
  latest?: boolean;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("watch")
      .description("print signals (or property changes) as they are emitted; Ctrl-C stops")
      .argument(
        "<targets...>",
        "SERVICE.SIGNAL or SERVICE.PROPERTY, or patterns: ALMemory.* 'AL*.*' ALMemory",
      )
      .option("-n, --count <n>", "exit after this many events in total")
      .option("--json", "one JSON object per event")
      .option("--rate <hz>", "at most this many events per second per target, paced by the gateway")
      .option("--latest", "only the newest event when this terminal falls behind (never a backlog)"),
  ).action(
    action(async (targets: string[], opts: Options) => {
      const out = new Output(!!opts.json);
      const limit = parseCount(opts.count);
      const parsed = targets.map((t) => parseTarget(t.includes(".") ? t : `${t}.*`, "SERVICE.SIGNAL"));
      const maxRate = opts.rate === undefined ? undefined : Number(opts.rate);
      if (maxRate !== undefined && !(maxRate > 0 && maxRate <= 1000))
        throw usageError(`--rate must be a number of events per second in (0, 1000], got "${opts.rate}"`);
      const rate = { maxRate, latestOnly: !!opts.latest };
      const session = await connectSession(opts);
      // The held proxies are rebound and their signals registered again by the session itself.
      const ride = rideThrough(session, "watching");
      const objects = new Map<string, RemoteObject>();
      const budget = new EventBudget(limit);
      const open = async (service: string) => {
        let obj = objects.get(service);
        if (!obj) {
          obj = await openService(session, service);
          objects.set(service, obj);
        }
        return obj;
      };
      const chosen: Array<{ service: string; member: string; obj: RemoteObject }> = [];
      for (const { service: servicePattern, member: memberPattern } of parsed) {
        for (const service of await expandServices(session, [servicePattern])) {
          const obj = await open(service);
          if (!isPattern(memberPattern)) {
            if (!signalNamed(obj, memberPattern)) throw noSuchMember(service, "signal", memberPattern, obj);
            chosen.push({ service, member: memberPattern, obj });
            continue;
          }
          const userSignals = [...obj.metaObject.signals.values()]
            .filter((s) => s.uid >= FIRST_USER_MEMBER)
            .map((s) => s.name);
          for (const member of membersMatching(userSignals, memberPattern))
            chosen.push({ service, member, obj });
        }
      }
      if (chosen.length === 0)
        throw failure(`nothing to watch in ${targets.join(", ")}`, "`qi info SERVICE` for its signals");
      for (const { service, member, obj } of chosen) {
        const sig = obj.signal(member);
        const link = await sig.connect((...raw: unknown[]) => {
          const args = tidyFloats(raw, sig.signature) as unknown[];
          if (!budget.take()) return;
          const time = new Date().toISOString();
          if (out.json) out.line(JSON.stringify({ time, service, signal: member, args: toJson(args) }));
          else
            out.line(
              `${out.style("dim", time)} ${out.style("cyan", `${service}.${member}`)} ${args.map(formatHuman).join(" ")}`,
            );
        }, rate);
        onCleanup(() => sig.disconnect(link));
      }
      process.stderr.write(`watching ${targets.join(", ")} (Ctrl-C to stop)\n`);
      await Promise.race([budget.done(), ride.failed]);
      return 0;
    }),
  );
}

export function parseCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw usageError(`--count must be a positive integer, got "${text}"`);
  return n;
}
