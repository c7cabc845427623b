/**
 * The `qi` command: one subcommand per file under commands/, usage errors as exit code 2,
 * every other failure reported on one line by errors.ts.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { register as call } from "./commands/call.js";
import { register as demo } from "./commands/demo.js";
import { register as discover } from "./commands/discover.js";
import { register as gateway } from "./commands/gateway.js";
import { register as get } from "./commands/get.js";
import { register as info } from "./commands/info.js";
import { register as log } from "./commands/log.js";
import { register as logSend } from "./commands/log-send.js";
import { register as play } from "./commands/play.js";
import { register as post } from "./commands/post.js";
import { register as record } from "./commands/record.js";
import { register as robots } from "./commands/robots.js";
import { register as sd } from "./commands/sd.js";
import { register as services } from "./commands/services.js";
import { register as set } from "./commands/set.js";
import { register as start } from "./commands/start.js";
import { register as top } from "./commands/top.js";
import { register as trace } from "./commands/trace.js";
import { register as watch } from "./commands/watch.js";
import { EXIT_CODES_HELP, ExitCode, formatErrorLine, reportError } from "./errors.js";
import { runCleanups } from "./lifecycle.js";

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** What an action resolves with: the exit code (default 0). */
export type ActionResult = number | undefined;

/**
 * Wraps a subcommand's action: runs it, reports a failure on one line, runs the cleanups
 * (closing sessions), then exits with the code.
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<ActionResult>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const verbose = Boolean(cmd.optsWithGlobals().verbose);
    let code: number;
    try {
      code = (await fn(...args)) ?? ExitCode.Ok;
    } catch (e) {
      code = reportError(e, verbose, (t) => process.stderr.write(t));
    }
    await runCleanups();
    await exitAfterFlush(code);
  };
}

/** process.exit drops what a pipe has not taken yet: wait until stdout and stderr are flushed. */
export async function exitAfterFlush(code: number): Promise<never> {
  await Promise.all(
    [process.stdout, process.stderr].map(
      (s) =>
        new Promise<void>((resolve) => (s.writableLength === 0 ? resolve() : s.write("", () => resolve()))),
    ),
  );
  process.exit(code);
}

export function buildProgram(): Command {
  const program = new Command("qi")
    .description("Talk to NAO/Pepper robots and other qi (libqi) services, or run a simulated robot")
    .version(version(), "-V, --version")
    .option("-v, --verbose", "more logs, and stack traces with errors")
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText(
      "after",
      `\nExamples:\n  qi start                          # a local Service Directory with a simulated robot\n  qi services\n  qi call ALTextToSpeech.say hello\n  qi watch ALMemory.dataChanged\n\nEnvironment: QI_URL, QI_USER, QI_TOKEN, QI_DISPATCH, NO_COLOR (qi gateway: QI_GATEWAY_TOKEN, QI_ATTACH_TOKEN)\n\n${EXIT_CODES_HELP}\n`,
    );
  for (const add of [
    start,
    sd,
    gateway,
    demo,
    services,
    info,
    call,
    post,
    watch,
    log,
    logSend,
    get,
    set,
    trace,
    top,
  ])
    add(program);
  robots(program);
  for (const add of [record, play]) add(program);
  discover(program);
  for (const cmd of [program, ...program.commands]) {
    const hint = cmd === program ? "qi --help" : `qi ${cmd.name()} --help`;
    cmd.configureOutput({
      outputError: (text, write) =>
        write(formatErrorLine(text.trim().replace(/\s*\n\s*/g, " "), `\`${hint}\``)),
    });
  }
  return program;
}

/** Parses argv and runs; exits with 2 for usage errors, 0 after --help / --version. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      const ok = e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0;
      await exitAfterFlush(ok ? ExitCode.Ok : ExitCode.Usage);
    }
    const code = reportError(e, argv.includes("--verbose") || argv.includes("-v"), (t) =>
      process.stderr.write(t),
    );
    await runCleanups();
    await exitAfterFlush(code);
  }
}
