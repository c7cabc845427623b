/** `qi log-send MESSAGE...`: send a log message to the robot's LogManager (qicli's log-send). */
import type { Command } from "commander";
import { logMessage } from "../../session/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { action } from "../program.js";
import { openService } from "../target.js";
import { parseLevel } from "./log.js";

interface Options extends ConnectionOptions {
  level: string;
  category: string;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("log-send")
      .description("send a log message to the LogManager (what `qi log` shows)")
      .argument("<message...>", "the message (words are joined with spaces)")
      .option("-l, --level <level>", "fatal, error, warning, info, verbose, debug (or 1-6)", "info")
      .option("-c, --category <name>", "the message's category", "qicli"),
  ).action(
    action(async (words: string[], opts: Options) => {
      const level = parseLevel(opts.level);
      const session = await connectSession(opts);
      const manager = await openService(session, "LogManager");
      await manager.call("log", [logMessage(level, opts.category, words.join(" "), "qi log-send")]);
      return 0;
    }),
  );
}
