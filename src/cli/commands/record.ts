/**
 * `qi record [SERVICE.SIGNAL…] -o FILE`: signals and property changes (and with --calls each
 * service's calls and results) into an MCAP file (docs/record.md), with a progress line on
 * stderr. Ctrl-C, --duration or --max-size stop it; the file is then closed with its summary
 * and index, so any MCAP reader (Foxglove, `mcap info`, `qi play`) opens it.
 */
import { open } from "node:fs/promises";
import type { Command } from "commander";
import { chooseMembers, McapRecording, RecordTargetError, SessionRecorder } from "../../record/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { CliError, ExitCode, failure, usageError } from "../errors.js";
import { waitForShutdown } from "../lifecycle.js";
import { action, version } from "../program.js";

interface Options extends ConnectionOptions {
  output: string;
  calls?: boolean;
  maxSize: string;
  duration?: string;
}

export const DEFAULT_MAX_SIZE = "1G";
const PROGRESS_TTY_MS = 250;
const PROGRESS_PIPE_MS = 5_000;

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("record")
      .description("record signals and property changes to an MCAP file; Ctrl-C stops and closes it")
      .argument(
        "[targets...]",
        "SERVICE.SIGNAL or SERVICE.PROPERTY, or patterns: ALMemory.* 'AL*.*' ALBattery (default: every signal and property of every service)",
      )
      .requiredOption("-o, --output <file>", "the MCAP file to write (replaced if it exists)")
      .option("--calls", "also record each service's calls, results and errors (needs the right to trace)")
      .option(
        "--max-size <bytes>",
        "stop after this many bytes of events (k, M, G suffixes)",
        DEFAULT_MAX_SIZE,
      )
      .option("--duration <time>", "stop after this long (seconds, or with s, m, h)"),
  ).action(
    action(async (targets: string[], opts: Options) => {
      const maxBytes = parseSize(opts.maxSize);
      const durationMs = opts.duration === undefined ? undefined : parseDuration(opts.duration);
      const session = await connectSession(opts);
      let chosen: Awaited<ReturnType<typeof chooseMembers>>;
      try {
        chosen = await chooseMembers(session, targets);
      } catch (e) {
        if (e instanceof RecordTargetError) throw failure(e.message, "`qi services` and `qi info SERVICE`");
        throw e;
      }
      if (chosen.members.length === 0 && !opts.calls)
        throw failure(`nothing to record in ${targets.join(", ") || "any service"}`, "`qi info SERVICE`");
      const file = await open(opts.output, "w").catch((e: Error) => {
        throw usageError(`cannot write ${opts.output}: ${e.message}`);
      });
      const recording = await McapRecording.start(fileWritable(file), {
        library: `qimessaging ${version()}`,
        maxBytes,
      });
      const started = performance.now();
      let stop!: (why: string) => void;
      const stopped = new Promise<string>((resolve) => {
        stop = resolve;
      });
      const progress = new Progress(recording.stats, started);
      const recorder = await SessionRecorder.start(chosen, recording, {
        calls: opts.calls,
        onEvent: () => {
          if (recording.full) stop(`--max-size ${opts.maxSize} reached`);
          progress.maybePrint();
        },
      });
      const names = chosen.members.map((m) => `${m.service}.${m.member}`);
      const shutdown = waitForShutdown(); // armed before the line says Ctrl-C
      process.stderr.write(
        `recording ${names.length <= 6 ? names.join(", ") : `${names.length} signals and properties`}${opts.calls ? " and calls" : ""} to ${opts.output} (Ctrl-C to stop)\n`,
      );
      progress.begin();
      session.on("disconnected", (why) => stop(`connection lost (${why})`));
      const timer =
        durationMs === undefined ? undefined : setTimeout(() => stop("--duration reached"), durationMs);
      const why = await Promise.race([stopped, shutdown.then(() => "stopped")]);
      clearTimeout(timer);
      await recorder.stop();
      try {
        await recording.close();
      } finally {
        await file.close();
      }
      progress.finish(opts.output, why);
      if (why.startsWith("connection lost"))
        throw new CliError(`${why}; ${opts.output} holds what came before`, ExitCode.Connect);
      return 0;
    }),
  );
}

/** McapWriter's IWritable over a file handle (position = bytes written so far). */
function fileWritable(file: import("node:fs/promises").FileHandle) {
  let position = 0n;
  return {
    position: () => position,
    async write(buffer: Uint8Array) {
      let done = 0;
      while (done < buffer.byteLength) {
        const { bytesWritten } = await file.write(buffer, done, buffer.byteLength - done);
        done += bytesWritten;
      }
      position += BigInt(buffer.byteLength);
    },
  };
}

/** The progress line: events, bytes and rate; rewritten in place on a terminal, every 5 s on a pipe. */
class Progress {
  private last = 0;
  /** Off until the "recording …" line is out (the start values arrive while subscribing). */
  private on = false;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly stats: { events: number; bytes: number; dropped: number },
    private readonly started: number,
  ) {}

  begin(): void {
    this.on = true;
  }

  maybePrint(): void {
    if (!this.on) return;
    const now = performance.now();
    if (now - this.last < (this.tty ? PROGRESS_TTY_MS : PROGRESS_PIPE_MS)) return;
    this.last = now;
    process.stderr.write(`${this.tty ? "\r\u001b[K" : ""}${this.line(now)}${this.tty ? "" : "\n"}`);
  }

  finish(file: string, why: string): void {
    const now = performance.now();
    process.stderr.write(`${this.tty ? "\r\u001b[K" : ""}${why}: ${this.line(now)} in ${file}\n`);
  }

  private line(now: number): string {
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const { events, bytes, dropped } = this.stats;
    const rate = `${(events / seconds).toFixed(1)} events/s, ${formatBytes(bytes / seconds)}/s`;
    return `${events} events, ${formatBytes(bytes)} in ${seconds.toFixed(1)} s (${rate})${dropped ? `, ${dropped} dropped (disk too slow)` : ""}`;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()] : Number.NaN;
  if (!(n >= 1)) throw usageError(`--max-size must be a size like 500M or 2G, got "${text}"`);
  return n;
}

const TIME_UNITS: Record<string, number> = { "": 1000, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smh]?)$/i.exec(text.trim());
  const ms = m ? Number(m[1]) * TIME_UNITS[m[2].toLowerCase()] : Number.NaN;
  if (!(ms > 0)) throw usageError(`--duration must be a time like 30, 90s, 5m or 1h, got "${text}"`);
  return ms;
}
