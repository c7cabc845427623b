/** `qi trace SERVICE`: calls, results, errors and signals of a service as they happen (traceObject). */
import type { Command } from "commander";
import { Struct } from "../../wire/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { EventBudget, onCleanup } from "../lifecycle.js";
import { formatHuman, Output, toJson } from "../output.js";
import { action } from "../program.js";
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
      .argument("<service>", "service name")
      .option("-n, --count <n>", "exit after this many trace events")
      .option("--json", "one JSON object per event"),
  ).action(
    action(async (name: string, opts: Options) => {
      const out = new Output(!!opts.json);
      const limit = parseCount(opts.count);
      const session = await connectSession(opts);
      const obj = await openService(session, name);
      const meta = obj.metaObject;
      const memberName = (uid: number) =>
        meta.methods.get(uid)?.name ?? meta.signals.get(uid)?.name ?? `#${uid}`;
      const wasEnabled = await obj.call<boolean>("isTraceEnabled");
      const budget = new EventBudget(limit);
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
      process.stderr.write(`tracing ${name} (Ctrl-C to stop)\n`);
      await budget.done();
      return 0;
    }),
  );
}
