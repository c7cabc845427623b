/** `qi call SERVICE.METHOD ARGS...`: JSON arguments in, the result out. */
import type { Command } from "commander";
import type { RemoteObject } from "../../object/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { ExitCode, usageError } from "../errors.js";
import { tidyFloats } from "../floats.js";
import { parseCliArg } from "../json-args.js";
import {
  CANCEL_WAIT_MS,
  InterruptExit,
  type InterruptedOutcome,
  invokeWithOutcome,
  outcomeAfterCancel,
} from "../interruptible-call.js";
import { prepareCall } from "../member-call.js";
import { releaseAll, withObjectsSummarised } from "../object-results.js";
import { formatHuman, Output } from "../output.js";
import { action } from "../program.js";
import { openService, parseTarget } from "../target.js";

interface Options extends ConnectionOptions {
  json?: boolean;
  callTimeout?: string;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("call")
      .description(
        "call a method; each argument is JSON or plain text (a string), converted to its signature",
      )
      .argument("<target>", "SERVICE.METHOD (or SERVICE.METHOD::(sig) to pick an overload)")
      .argument("[args...]", "JSON arguments, e.g. 42 '\"text\"' '[1,2]' '{\"k\":1}' '\"base64:AAEC\"'")
      .option("--json", "print the result as JSON")
      .option("--call-timeout <ms>", "give up waiting for the result after this many ms")
      .addHelpText(
        "after",
        `\nCtrl-C sends a Cancel and waits up to ${CANCEL_WAIT_MS / 1000} s for what the robot did; a second Ctrl-C quits at once.\nExit codes after Ctrl-C: ${InterruptExit.Stopped} canceled (the robot stopped), ${InterruptExit.RanToEnd} the method ran to its end (result printed), ${InterruptExit.Unknown} outcome unknown, ${InterruptExit.Quit} quit without waiting.`,
      ),
  ).action(
    action(async (targetText: string, rawArgs: string[], opts: Options) => {
      const out = new Output(!!opts.json);
      const target = parseTarget(targetText, "SERVICE.METHOD");
      const typed = rawArgs.map(parseCliArg);
      const timeoutMs = opts.callTimeout === undefined ? undefined : Number(opts.callTimeout);
      if (timeoutMs !== undefined && !(timeoutMs > 0))
        throw usageError(`--call-timeout must be a positive number of ms`);
      // Ctrl-C before the call is sent has nothing to cancel: it quits, as a second one does.
      const abort = new AbortController();
      let calling = false;
      let prepared: ReturnType<typeof prepareCall> | undefined;
      const onInterrupt = () => {
        if (!calling || abort.signal.aborted) {
          process.stderr.write(
            calling ? "quit without waiting: the method may still be running\n" : "interrupted\n",
          );
          process.exit(InterruptExit.Quit);
        }
        process.stderr.write(
          `Cancel sent to ${target.service}.${prepared?.method.name}; waiting up to ${CANCEL_WAIT_MS / 1000} s for what the robot did (Ctrl-C again to quit now)\n`,
        );
        abort.abort();
      };
      process.on("SIGINT", onInterrupt);
      const session = await connectSession(opts);
      const obj = await openService(session, target.service);
      prepared = prepareCall(obj, target.service, target.member, typed);
      const returnSignature = prepared.method.returnSignature;
      calling = true;
      const real = invokeWithOutcome(obj, prepared, abort.signal, timeoutMs);
      // Until a Ctrl-C the call settles as usual; after one, its real answer is awaited, bounded.
      const interrupted = new Promise<void>((r) => abort.signal.addEventListener("abort", () => r()));
      const first = await Promise.race([
        real.then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        interrupted.then(() => undefined),
      ]);
      if (first === undefined || abort.signal.aborted)
        return reportInterrupted(await outcomeAfterCancel(real, CANCEL_WAIT_MS), out, returnSignature);
      if ("error" in first) throw first.error;
      const result = tidyFloats(first.value, returnSignature);
      const objects: RemoteObject[] = [];
      const shown = withObjectsSummarised(result, target.service, objects);
      releaseAll(objects);
      if (out.json) out.jsonLine(shown);
      else if (returnSignature !== "v" || result !== undefined) out.value(shown);
      return 0;
    }),
  );
}

/** Says what an interrupted call came to (stderr; the result also on stdout with --json); so does the exit code. */
function reportInterrupted(outcome: InterruptedOutcome, out: Output, returnSignature: string): number {
  switch (outcome.status) {
    case "canceled":
      process.stderr.write("canceled: the robot stopped\n");
      return InterruptExit.Stopped;
    case "returned": {
      const objects: RemoteObject[] = [];
      const shown = withObjectsSummarised(tidyFloats(outcome.value, returnSignature), "", objects);
      releaseAll(objects);
      const text = returnSignature === "v" && outcome.value === undefined ? "" : `: ${formatHuman(shown)}`;
      process.stderr.write(`the method ran to its end${text}\n`);
      if (out.json) out.jsonLine(shown);
      return InterruptExit.RanToEnd;
    }
    case "failed":
      process.stderr.write(`the method ran to its end with an error: ${outcome.error.message}\n`);
      return ExitCode.Failure;
    case "unknown":
      process.stderr.write(`outcome unknown: ${outcome.why}; the method may still be running\n`);
      return InterruptExit.Unknown;
  }
}
