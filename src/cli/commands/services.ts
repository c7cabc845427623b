/** `qi services`: the registered services (names starting with `_` only with --hidden). */
import type { Command } from "commander";
import type { ServiceInfo } from "../../session/index.js";
import { ByteString } from "../../wire/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { hex, Output, table } from "../output.js";
import { action } from "../program.js";

interface Options extends ConnectionOptions {
  hidden?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("services")
      .alias("ls")
      .description("list the services registered with the Service Directory")
      .option("--hidden", "include services whose name starts with _")
      .option("--json", "print a JSON array of ServiceInfo"),
  ).action(
    action(async (opts: Options) => {
      const out = new Output(!!opts.json);
      const session = await connectSession(opts);
      const list = (await session.services()).filter((s) => opts.hidden || !s.name.startsWith("_"));
      if (out.json) {
        out.line(JSON.stringify(list.map(serviceInfoJson)));
        return 0;
      }
      const rows = list.map((s) => [
        out.style("dim", String(s.serviceId).padStart(3)),
        out.style("bold", s.name),
        humanEndpoints(s.endpoints),
      ]);
      for (const l of table(rows)) out.line(l);
      return 0;
    }),
  );
}

/** ServiceInfo as JSON; objectUid (20 binary bytes) as hex. */
export function serviceInfoJson(s: ServiceInfo) {
  const uid =
    s.objectUid instanceof ByteString
      ? hex(s.objectUid.bytes)
      : Buffer.from(s.objectUid, "latin1").toString("hex");
  return { ...s, objectUid: uid };
}

/** For people: the connectable endpoints (`qi:X` relative ones only when there is nothing else). */
function humanEndpoints(endpoints: string[]): string {
  const absolute = endpoints.filter((e) => !e.startsWith("qi:"));
  return (absolute.length > 0 ? absolute : endpoints).join(" ");
}
