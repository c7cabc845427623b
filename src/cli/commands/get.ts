/** `qi get SERVICE.PROPERTY`: a property's current value. */
import type { Command } from "commander";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { tidyFloats } from "../floats.js";
import { Output } from "../output.js";
import { action } from "../program.js";
import { noSuchMember, openService, parseTarget, propertyNamed } from "../target.js";

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("get")
      .description("print the value of a property")
      .argument("<target>", "SERVICE.PROPERTY")
      .option("--json", "print JSON"),
  ).action(
    action(async (targetText: string, opts: ConnectionOptions & { json?: boolean }) => {
      const out = new Output(!!opts.json);
      const { service, member } = parseTarget(targetText, "SERVICE.PROPERTY");
      const session = await connectSession(opts);
      const obj = await openService(session, service);
      const meta = propertyNamed(obj, member);
      if (!meta) throw noSuchMember(service, "property", member, obj);
      out.value(tidyFloats(await obj.property(member).get(), meta.signature));
      return 0;
    }),
  );
}
