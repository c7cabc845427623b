/** `qi set SERVICE.PROPERTY JSON`: changes a property (converted to its type). */
import type { Command } from "commander";
import { Dynamic } from "../../wire/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { ConversionError, fromJson, jsonToDynamic, parseJsonArg } from "../json-args.js";
import { action } from "../program.js";
import { noSuchMember, openService, parseTarget, propertyNamed } from "../target.js";

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("set")
      .description("set a property; the value is JSON, converted to the property's type")
      .argument("<target>", "SERVICE.PROPERTY")
      .argument("<value>", "JSON value, e.g. 0.5 or '\"French\"'"),
  ).action(
    action(async (targetText: string, valueText: string, opts: ConnectionOptions) => {
      const { service, member } = parseTarget(targetText, "SERVICE.PROPERTY");
      const json = parseJsonArg(valueText, 1);
      const session = await connectSession(opts);
      const obj = await openService(session, service);
      const meta = propertyNamed(obj, member);
      if (!meta) throw noSuchMember(service, "property", member, obj);
      let value: unknown;
      try {
        value = fromJson(json, meta.signature, member);
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        // Does not convert here: send it as it is, the service converts it or refuses (exit 1).
        await obj.invoke("setProperty", [new Dynamic("s", member), jsonToDynamic(json)]);
        return 0;
      }
      await obj.property(member).set(value);
      return 0;
    }),
  );
}
