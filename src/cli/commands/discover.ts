/**
 * `qi discover`: the robots and gateways that answer for `_naoqi._tcp` over mDNS on the LAN
 * (name, address, port, TLS or not, the qi URL to use). Every name shown comes from the network:
 * discovery/ strips control characters before it reaches the terminal.
 */
import type { Command } from "commander";
import { DISCOVERY_LIMITS, type DiscoveredRobot, discover } from "../../discovery/index.js";
import { CliError, ExitCode, usageError } from "../errors.js";
import { Output, table } from "../output.js";
import { action } from "../program.js";

interface Options {
  timeout: string;
  json?: boolean;
}

function rows(out: Output, robots: DiscoveredRobot[]): string[][] {
  return robots.map((r) => [
    out.style("bold", r.name),
    r.url,
    r.tls ? "TLS" : "plain",
    [r.robotType, r.ws ? `console ${r.ws}` : undefined].filter(Boolean).join(", "),
  ]);
}

export function register(program: Command): void {
  program
    .command("discover")
    .description("list the robots and qi gateways on the LAN (mDNS/DNS-SD, _naoqi._tcp)")
    .option("-t, --timeout <seconds>", "how long to listen for answers", "3")
    .option("--json", "print a JSON array")
    .action(
      action(async (opts: Options) => {
        const out = new Output(!!opts.json);
        const seconds = Number(opts.timeout);
        if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 60)
          throw usageError(`--timeout must be 0.1 to 60 seconds, got "${opts.timeout}"`);
        let found: Awaited<ReturnType<typeof discover>>;
        try {
          found = await discover(seconds * 1000);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
          throw new CliError(
            `cannot use mDNS on this machine (${code})`,
            ExitCode.Failure,
            "another program holds UDP port 5353 without sharing it, or multicast is not allowed",
          );
        }
        if (found.dropped > 0)
          process.stderr.write(
            `${found.dropped} more answers were dropped (at most ${DISCOVERY_LIMITS.maxRobots} robots are kept)\n`,
          );
        if (out.json) {
          out.line(JSON.stringify(found.robots));
          return 0;
        }
        if (found.robots.length === 0) {
          out.line(`no robot answered in ${seconds} s`);
          return 0;
        }
        for (const l of table(rows(out, found.robots))) out.line(l.trimEnd());
        return 0;
      }),
    );
}
