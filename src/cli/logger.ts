/**
 * Logs of the long-running commands (sd, start, demo) go to stderr through pino: JSON lines
 * when stderr is a file or a pipe (for log collectors), one short readable line per record
 * on a terminal.
 */
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";
import { colorsFor } from "./output.js";

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const OMIT = new Set(["level", "time", "pid", "hostname", "msg"]);

export function createLogger(verbose: boolean, stream: NodeJS.WriteStream = process.stderr): Logger {
  const level = verbose ? "debug" : "info";
  if (!stream.isTTY)
    return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  const color = colorsFor(stream);
  const pretty = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line) stream.write(prettyLine(line, color));
      }
      done();
    },
  });
  return pino({ level, base: undefined }, pretty);
}

function prettyLine(json: string, color: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json);
  } catch {
    return `${json}\n`;
  }
  const time = new Date(Number(rec.time)).toISOString().slice(11, 23);
  const level = LEVELS[Number(rec.level)] ?? String(rec.level);
  const extra = Object.entries(rec)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  const lvl = color
    ? `\u001b[${Number(rec.level) >= 50 ? 31 : Number(rec.level) >= 40 ? 33 : 36}m${level.padEnd(5)}\u001b[39m`
    : level.padEnd(5);
  return `${time} ${lvl} ${String(rec.msg ?? "")}${extra ? `  ${color ? `\u001b[2m${extra}\u001b[22m` : extra}` : ""}\n`;
}
