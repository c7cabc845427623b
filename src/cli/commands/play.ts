/**
 * `qi play FILE`: hosts the services of a recording (their recorded signals and properties,
 * methods answered from recorded calls) on a Service Directory of its own (--listen), or on an
 * existing one (--url), and replays the events at the recorded pace (×--rate), once or in a
 * --loop (docs/record.md). A truncated or corrupt file is exit code 1 with what and where.
 */
import { open } from "node:fs/promises";
import type { Command } from "commander";
import {
  hostRecording,
  openRecording,
  planReplay,
  RecordingFileError,
  replayEvents,
} from "../../record/index.js";
import { Session } from "../../session/index.js";
import { type ConnectionOptions, connectSession, sessionOptions, withConnectionOptions } from "../connect.js";
import { failure, usageError, withListenHint } from "../errors.js";
import { onCleanup, waitForShutdown } from "../lifecycle.js";
import { action } from "../program.js";

interface Options extends ConnectionOptions {
  listen: string;
  rate: string;
  loop?: boolean;
  waitSubscribers: string;
}

const FILE_HINT = "a file written by `qi record` (stopped with Ctrl-C, --duration or --max-size)";

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("play")
      .description("host the services of a recording and replay its signals; Ctrl-C stops")
      .argument("<file>", "an MCAP file written by `qi record`")
      .option("--rate <factor>", "replay speed: 2 is twice as fast", "1")
      .option("--loop", "start again at the end, until Ctrl-C")
      .option(
        "-l, --listen <url>",
        "where the Service Directory of the replay listens",
        "tcp://127.0.0.1:9559",
      )
      .option(
        "--wait-subscribers <n>",
        "start the replay once this many subscriptions to recorded signals exist",
        "0",
      ),
  ).action(
    action(async (path: string, opts: Options, cmd: Command) => {
      const rate = Number(opts.rate);
      if (!(rate > 0 && rate <= 1000))
        throw usageError(`--rate must be a factor in (0, 1000], got "${opts.rate}"`);
      const waitFor = Number(opts.waitSubscribers);
      if (!Number.isInteger(waitFor) || waitFor < 0)
        throw usageError(`--wait-subscribers must be a count, got "${opts.waitSubscribers}"`);
      const file = await open(path, "r").catch((e: Error) => {
        throw usageError(`cannot read ${path}: ${e.message}`);
      });
      onCleanup(() => file.close());
      const size = (await file.stat()).size;
      const source = {
        size,
        async read(offset: number, length: number) {
          const buffer = new Uint8Array(length);
          const { bytesRead } = await file.read(buffer, 0, length, offset);
          return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
        },
      };
      const fileError = (e: unknown) => {
        if (e instanceof RecordingFileError) return failure(e.message, FILE_HINT, e);
        return e;
      };
      const reader = await openRecording(source, path).catch((e: unknown) => {
        throw fileError(e);
      });
      const plan = await planReplay(reader, path).catch((e: unknown) => {
        throw fileError(e);
      });
      if (plan.services.size === 0)
        throw failure(`${path} holds no channel recorded by \`qi record\``, FILE_HINT);
      let hosted: ReturnType<typeof hostRecording>;
      try {
        hosted = hostRecording(plan);
      } catch (e) {
        // A member the file describes that no object can have (a bad name, a duplicate).
        throw failure(`${path}: cannot host the recorded services: ${(e as Error).message}`, FILE_HINT, e);
      }
      // --url given on the command line: register on that Service Directory (QI_URL is not enough).
      const onExisting = cmd.getOptionValueSource("url") === "cli";
      let session: Session;
      let where: string;
      if (onExisting) {
        session = await connectSession(opts);
        where = opts.url;
      } else {
        // Its own directory: no credentials (QI_TOKEN in the shell is for clients).
        session = new Session(sessionOptions({ dispatch: opts.dispatch }, {}));
        onCleanup(() => session.close());
        await withListenHint(
          session.listenStandalone(opts.listen),
          "--listen with another port (port 0 picks a free one)",
        );
        where = session.endpoints()[0] ?? opts.listen;
        process.stdout.write(`Service Directory listening on ${where}\n`);
      }
      for (const [name, object] of hosted.objects) {
        try {
          await session.registerService(name, object);
        } catch (e) {
          throw failure(
            `cannot register ${name} on ${where}: ${(e as Error).message}`,
            onExisting ? "a Service Directory without that service (`qi sd`), or no --url" : undefined,
          );
        }
      }
      process.stdout.write(`hosting ${[...hosted.objects.keys()].join(", ")} from ${path}\n`);
      const abort = new AbortController();
      const shutdown = waitForShutdown().then(() => abort.abort());
      if (waitFor > 0) {
        process.stderr.write(`waiting for ${waitFor} subscription(s) before replaying\n`);
        await Promise.race([hosted.subscribers(waitFor), shutdown]);
      }
      if (abort.signal.aborted) return 0;
      process.stderr.write(`replaying at ×${rate}${opts.loop ? " in a loop" : ""} (Ctrl-C to stop)\n`);
      let skipped = 0;
      const events = await replayEvents(reader, plan, hosted.objects, {
        rate,
        loop: opts.loop,
        signal: abort.signal,
        onSkip: (why) => {
          if (skipped++ === 0) process.stderr.write(`skipping events that cannot be replayed: ${why}\n`);
        },
      }).catch((e: unknown) => {
        throw fileError(e);
      });
      process.stderr.write(`replayed ${events} events${skipped ? ` (${skipped} skipped)` : ""}\n`);
      return 0;
    }),
  );
}
