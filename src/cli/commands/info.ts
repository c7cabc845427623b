/** `qi info SERVICE`: methods, signals and properties with readable signatures. */
import type { Command } from "commander";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { membersJson, methodLine, propertyLine, signalLine, visibleMembers } from "../describe.js";
import { Output } from "../output.js";
import { action } from "../program.js";
import { openService } from "../target.js";

interface Options extends ConnectionOptions {
  hidden?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("info")
      .description("describe a service: its methods, signals and properties")
      .argument("<service>", "service name, e.g. ALTextToSpeech")
      .option("--hidden", "include the reserved members (ids below 100)")
      .option("--json", "print JSON"),
  ).action(
    action(async (name: string, opts: Options) => {
      const out = new Output(!!opts.json);
      const session = await connectSession(opts);
      const obj = await openService(session, name);
      const members = visibleMembers(obj.metaObject, !!opts.hidden);
      if (out.json) {
        out.line(
          JSON.stringify({
            name,
            serviceId: obj.serviceId,
            description: obj.metaObject.description,
            ...membersJson(members),
          }),
        );
        return 0;
      }
      out.line(`${out.style("bold", name)} ${out.style("dim", `#${obj.serviceId}`)}`);
      if (obj.metaObject.description) out.line(`  ${obj.metaObject.description}`);
      const id = (uid: number) => out.style("dim", String(uid).padStart(4));
      if (members.methods.length > 0) {
        out.line();
        out.line(out.style("cyan", "methods"));
        for (const m of members.methods) {
          out.line(`${id(m.uid)} ${methodLine(m)}`);
          if (m.description) out.line(`       ${out.style("dim", m.description)}`);
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
      return 0;
    }),
  );
}
