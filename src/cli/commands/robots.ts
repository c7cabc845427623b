/** `qi robots --url nats://hub:4222`: the robots of a fleet (name, online since, services). */
import { Command, Option } from "commander";
import { DEFAULT_SUBJECT_PREFIX, dialNats, listRobots, natsServers } from "../../fleet/index.js";
import { CliError, ExitCode, usageError } from "../errors.js";
import { onCleanup } from "../lifecycle.js";
import { Output, table } from "../output.js";
import { action } from "../program.js";

interface Options {
  url: string;
  json?: boolean;
  wait: string;
  prefix: string;
}

export function register(program: Command): void {
  program.addCommand(
    new Command("robots")
      .description("list the robots of a NATS fleet (docs/fleet.md)")
      .addOption(new Option("-u, --url <url>", "the fleet's NATS server(s), nats://host:port").env("QI_URL"))
      .option("--wait <ms>", "how long to collect answers", "1500")
      .option("--prefix <subject>", "the fleet's subject prefix", DEFAULT_SUBJECT_PREFIX)
      .option("--json", "print a JSON array")
      .action(
        action(async (opts: Options) => {
          const out = new Output(!!opts.json);
          if (!opts.url || !/^(nats|tls):\/\//.test(opts.url))
            throw usageError("qi robots needs the fleet's NATS URL", "--url nats://host:4222");
          const wait = Number(opts.wait);
          if (!Number.isFinite(wait) || wait < 0)
            throw usageError(`--wait must be a number of ms, got "${opts.wait}"`);
          const nc = await dialNats({ servers: natsServers(opts.url), name: "qi robots" }).catch(
            (e: unknown) => {
              throw new CliError(
                `cannot reach NATS at ${opts.url}: ${String(e)}`,
                ExitCode.Connect,
                "is nats-server running?",
              );
            },
          );
          onCleanup(() => nc.close());
          const robots = await listRobots(nc, { prefix: opts.prefix, timeoutMs: wait });
          if (out.json) {
            out.line(JSON.stringify(robots));
            return 0;
          }
          if (robots.length === 0) out.line("no robot answered");
          const rows = robots.map((r) => [out.style("bold", r.name), r.since, r.services.join(", ")]);
          for (const l of table(rows)) out.line(l);
          return 0;
        }),
      ),
  );
}
