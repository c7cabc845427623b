/** `qi call SERVICE.METHOD ARGS...`: JSON arguments in, the result out. */
import type { Command } from "commander";
import type { RemoteObject } from "../../object/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { usageError } from "../errors.js";
import { tidyFloats } from "../floats.js";
import { parseCliArg } from "../json-args.js";
import { invokePrepared, prepareCall } from "../member-call.js";
import { releaseAll, withObjectsSummarised } from "../object-results.js";
import { Output } from "../output.js";
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
      .option("--call-timeout <ms>", "give up waiting for the result after this many ms"),
  ).action(
    action(async (targetText: string, rawArgs: string[], opts: Options) => {
      const out = new Output(!!opts.json);
      const target = parseTarget(targetText, "SERVICE.METHOD");
      const typed = rawArgs.map(parseCliArg);
      const timeoutMs = opts.callTimeout === undefined ? undefined : Number(opts.callTimeout);
      if (timeoutMs !== undefined && !(timeoutMs > 0))
        throw usageError(`--call-timeout must be a positive number of ms`);
      const session = await connectSession(opts);
      const obj = await openService(session, target.service);
      const prepared = prepareCall(obj, target.service, target.member, typed);
      const result = tidyFloats(
        await invokePrepared(obj, prepared, timeoutMs),
        prepared.method.returnSignature,
      );
      const objects: RemoteObject[] = [];
      const shown = withObjectsSummarised(result, target.service, objects);
      releaseAll(objects);
      if (out.json) out.jsonLine(shown);
      else if (prepared.method.returnSignature !== "v" || result !== undefined) out.value(shown);
      return 0;
    }),
  );
}
