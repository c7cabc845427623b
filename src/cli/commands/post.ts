/** `qi post SERVICE.METHOD|SIGNAL ARGS...`: fire and forget (a method call or a signal trigger). */
import type { Command } from "commander";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { fromJson, parseCliArg } from "../json-args.js";
import { postPrepared, prepareCall } from "../member-call.js";
import { action } from "../program.js";
import { failure } from "../errors.js";
import { methodsNamed, openService, parseTarget, propertyNamed, signalNamed } from "../target.js";

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("post")
      .description("post a method call or trigger a signal, without waiting for a result")
      .argument("<target>", "SERVICE.METHOD or SERVICE.SIGNAL")
      .argument("[args...]", "arguments: JSON, or plain text for a string"),
  ).action(
    action(async (targetText: string, rawArgs: string[], opts: ConnectionOptions) => {
      const target = parseTarget(targetText, "SERVICE.METHOD or SERVICE.SIGNAL");
      const typed = rawArgs.map(parseCliArg);
      const json = typed.map((a) => a.value);
      const session = await connectSession(opts);
      const obj = await openService(session, target.service);
      if (propertyNamed(obj, target.member))
        throw failure(
          `${target.service}.${target.member} is a property: posting to it changes nothing`,
          `\`qi set ${target.service}.${target.member} VALUE\``,
        );
      const signal = signalNamed(obj, target.member);
      if (signal && methodsNamed(obj, target.member).length === 0) {
        let args: unknown[];
        try {
          args = fromJson(json, signal.signature, "arguments") as unknown[];
        } catch (e) {
          throw failure(
            `arguments do not fit ${target.member}${signal.signature}: ${(e as Error).message}`,
            `\`qi info ${target.service}\``,
          );
        }
        obj.post(target.member, ...(Array.isArray(args) ? args : [args]));
      } else {
        postPrepared(obj, prepareCall(obj, target.service, target.member, typed));
      }
      // A call on the same connection after the post: when it returns, the post was received.
      await obj.call("isStatsEnabled");
      return 0;
    }),
  );
}
