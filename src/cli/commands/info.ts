/**
 * `qi info SERVICE|PATTERN...`: methods, signals and properties with readable signatures;
 * `--show-doc` adds what the service documents of each parameter and return value.
 */
import type { Command } from "commander";
import type { RemoteObject } from "../../object/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { membersJson, methodLine, propertyLine, signalLine, visibleMembers } from "../describe.js";
import { Output } from "../output.js";
import { expandServices } from "../patterns.js";
import { action } from "../program.js";
import { openService } from "../target.js";

interface Options extends ConnectionOptions {
  hidden?: boolean;
  json?: boolean;
  showDoc?: boolean;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("info")
      .description("describe services: their methods, signals and properties")
      .argument("<services...>", "service names or patterns, e.g. ALTextToSpeech 'AL*'")
      .option("--hidden", "include the reserved members (ids below 100)")
      .option("--show-doc", "also print the documentation of parameters and return values")
      .option("--json", "print JSON (one line per service)"),
  ).action(
    action(async (names: string[], opts: Options) => {
      const out = new Output(!!opts.json);
      const session = await connectSession(opts);
      const services = await expandServices(session, names);
      for (const [i, name] of services.entries()) {
        const obj = await openService(session, name);
        if (out.json) printJson(out, name, obj, opts);
        else {
          if (i > 0) out.line();
          printHuman(out, name, obj, opts);
        }
      }
      return 0;
    }),
  );
}

function printJson(out: Output, name: string, obj: RemoteObject, opts: Options): void {
  const members = visibleMembers(obj.metaObject, !!opts.hidden);
  out.line(
    JSON.stringify({
      name,
      serviceId: obj.serviceId,
      description: obj.metaObject.description,
      ...membersJson(members),
    }),
  );
}

function printHuman(out: Output, name: string, obj: RemoteObject, opts: Options): void {
  const members = visibleMembers(obj.metaObject, !!opts.hidden);
  out.line(`${out.style("bold", name)} ${out.style("dim", `#${obj.serviceId}`)}`);
  if (obj.metaObject.description) out.line(`  ${obj.metaObject.description}`);
  const id = (uid: number) => out.style("dim", String(uid).padStart(4));
  const doc = (text: string) => out.line(`       ${out.style("dim", text)}`);
  if (members.methods.length > 0) {
    out.line();
    out.line(out.style("cyan", "methods"));
    for (const m of members.methods) {
      out.line(`${id(m.uid)} ${methodLine(m)}`);
      if (m.description) doc(m.description);
      if (!opts.showDoc) continue;
      for (const p of m.parameters) if (p.description) doc(`${p.name}: ${p.description}`);
      if (m.returnDescription) doc(`returns: ${m.returnDescription}`);
    }
  }
  if (members.signals.length > 0) {
    out.line();
    out.line(out.style("cyan", "signals"));
    for (const s of members.signals) out.line(`${id(s.uid)} ${signalLine(s)}`);
  }
  if (members.properties.length > 0) {
    out.line();
    out.line(out.style("cyan", "properties"));
    for (const p of members.properties) out.line(`${id(p.uid)} ${propertyLine(p)}`);
  }
}
