/**
 * `qi trace [SERVICE|PATTERN...]`: calls, results, errors and signals of services as they
 * happen (traceObject); without an argument, of every service (as qicli's trace). A service
 * that refuses tracing (a gateway lets only admins trace) is skipped with a note when it was
 * matched by a pattern, and is an error when named.
 */
import type { Command } from "commander";
import { Struct } from "../../wire/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { EventBudget, onCleanup } from "../lifecycle.js";
import { formatHuman, Output, toJson } from "../output.js";
import type { Session } from "../../session/index.js";
import { failure } from "../errors.js";
import { expandServices } from "../patterns.js";
import { action } from "../program.js";
import { rideThrough } from "../ride-through.js";
import { openService } from "../target.js";
import { parseCount } from "./watch.js";

const KINDS: Record<number, string> = { 1: "call", 2: "result", 3: "error", 4: "signal" };

interface Options extends ConnectionOptions {
  count?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("trace")
      .description("print the calls, results, errors and signals of a service as they happen")
      .argument("[services...]", "service names or patterns (default: every service)")
      .option("-n, --count <n>", "exit after this many trace events")
      .option("--json", "one JSON object per event"),
  ).action(
    action(async (names: string[], opts: Options) => {
      const out = new Output(!!opts.json);
      const limit = parseCount(opts.count);
      const session = await connectSession(opts);
      // traceObject subscriptions are registered again by the session, and that turns tracing on.
      const ride = rideThrough(session, "tracing");
      const patterns = names.length === 0 ? ["*"] : names;
      const budget = new EventBudget(limit);
      const traced: string[] = [];
      for (const name of await expandServices(session, patterns)) {
        const named = patterns.includes(name);
        try {
          await traceOne(session, name, out, budget);
          traced.push(name);
        } catch (e) {
          if (named) throw e;
          process.stderr.write(`not tracing ${name}: ${(e as Error).message}\n`);
        }
      }
      if (traced.length === 0)
        throw failure("no service could be traced", "`qi trace SERVICE` for its error");
      process.stderr.write(`tracing ${traced.join(", ")} (Ctrl-C to stop)\n`);
      await Promise.race([budget.done(), ride.failed]);
      return 0;
    }),
  );
}

async function traceOne(session: Session, name: string, out: Output, budget: EventBudget): Promise<void> {
  const obj = await openService(session, name);
  const meta = obj.metaObject;
  const memberName = (uid: number) => meta.methods.get(uid)?.name ?? meta.signals.get(uid)?.name ?? `#${uid}`;
  const wasEnabled = await obj.call<boolean>("isTraceEnabled");
  const sig = obj.signal("traceObject");
  const link = await sig.connect((event: unknown) => {
    if (!budget.take()) return;
    const f = event instanceof Struct ? event.fields : (event as Record<string, unknown>);
    const ts = f.timestamp instanceof Struct ? f.timestamp.fields : { tv_sec: 0, tv_usec: 0 };
    const time = new Date(Number(ts.tv_sec) * 1000 + Math.floor(Number(ts.tv_usec) / 1000)).toISOString();
    const kind = KINDS[Number(f.kind)] ?? `kind ${String(f.kind)}`;
    const member = memberName(Number(f.slotId));
    if (out.json) {
      out.line(
        JSON.stringify({
          time,
          service: name,
          id: toJson(f.id),
          kind,
          member,
          slotId: toJson(f.slotId),
          arguments: toJson(f.arguments),
        }),
      );
    } else {
      const style = kind === "error" ? "red" : kind === "signal" ? "yellow" : "cyan";
      out.line(
        `${out.style("dim", time)} ${out.style("dim", `#${String(f.id)}`)} ${out.style(style, kind.padEnd(6))} ${name}.${member} ${formatHuman(f.arguments)}`,
      );
    }
  });
  onCleanup(async () => {
    await sig.disconnect(link);
    if (!wasEnabled) await obj.call("enableTrace", false);
  });
}
