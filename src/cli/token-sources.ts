/**
 * Where a CLI token (password) comes from, safest first: a file (`--token-file`, which should be
 * readable by its owner only), the environment (QI_TOKEN), an interactive prompt without echo,
 * and last the command line (`--token`), which every local user sees in `ps` and
 * /proc/PID/cmdline: that one still works, with a warning.
 */
import { readFileSync, statSync } from "node:fs";
import { usageError } from "./errors.js";

/** Where a warning goes (stderr in the CLI). */
export type Warn = (text: string) => void;

export const warnOnStderr: Warn = (text) => {
  process.stderr.write(`warning: ${text}\n`);
};

export interface TokenFlags {
  /** `--token` as given on the command line (never the environment). */
  argvToken?: string;
  /** `--token-file FILE`. */
  tokenFile?: string;
  /** The environment variable's value, if set (e.g. QI_TOKEN). */
  envToken?: string;
  /** Names for the messages: the flag and the variable. */
  flag?: string;
  envName?: string;
}

/** The warning printed when a token is given on the command line. */
export function argvTokenWarning(flag = "--token", envName = "QI_TOKEN"): string {
  return `a token given with ${flag} is visible to every local user (ps, /proc/PID/cmdline); use ${envName}=… or --token-file FILE instead`;
}

/**
 * The token from the flags, or undefined when none was given. More than one of --token and
 * --token-file is a usage error; the environment is used only when neither is given.
 */
export function tokenFromFlags(flags: TokenFlags, warn: Warn = warnOnStderr): string | undefined {
  const flag = flags.flag ?? "--token";
  const envName = flags.envName ?? "QI_TOKEN";
  if (flags.argvToken !== undefined && flags.tokenFile !== undefined)
    throw usageError(`${flag} and --token-file are two sources for one token`, "only one of them");
  if (flags.tokenFile !== undefined) return readTokenFile(flags.tokenFile, warn);
  if (flags.argvToken !== undefined) {
    warn(argvTokenWarning(flag, envName));
    return flags.argvToken;
  }
  if (flags.envToken !== undefined && flags.envToken !== "") return flags.envToken;
  return undefined;
}

/** The first line of the file (trailing newline and spaces removed); warns when others may read it. */
export function readTokenFile(file: string, warn: Warn = warnOnStderr): string {
  let text: string;
  try {
    text = readSecretFile(file, warn);
  } catch (e) {
    throw usageError(
      `cannot read the token file ${file}: ${(e as Error).message}`,
      "a file holding the token",
    );
  }
  const token = text.split(/\r?\n/, 1)[0]!.trim();
  if (token === "")
    throw usageError(`token file ${file} is empty`, "a file holding the token on its first line");
  return token;
}

/**
 * Reads a file that holds a secret, warning when its mode lets the group or others read it
 * (as ssh does for keys). Not checked on Windows, where modes say nothing about that.
 */
export function readSecretFile(file: string, warn: Warn = warnOnStderr): string {
  const text = readFileSync(file, "utf8");
  if (process.platform !== "win32") {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o044) !== 0) {
      warn(
        `${file} holds a secret but is readable by ${mode & 0o004 ? "every user" : "its group"} ` +
          `(mode ${mode.toString(8).padStart(4, "0")}); chmod 600 ${file}`,
      );
    }
  }
  return text;
}

/** What promptHidden needs of a terminal: stdin in raw mode, and where the prompt is shown. */
export interface PromptIo {
  input: NodeJS.ReadableStream & { setRawMode?(raw: boolean): unknown; isTTY?: boolean };
  output: NodeJS.WritableStream;
}

/**
 * Asks for a secret on a terminal without echoing it. Enter ends it, Backspace edits, Ctrl-C
 * and Ctrl-D cancel (rejecting with a usage error).
 */
export function promptHidden(
  question: string,
  io: PromptIo = { input: process.stdin, output: process.stderr },
): Promise<string> {
  const { input, output } = io;
  // Echo off before the question shows: whatever is typed after it is never echoed.
  input.setRawMode?.(true);
  output.write(question);
  input.resume();
  return new Promise((resolve, reject) => {
    let typed = "";
    const finish = (err?: Error) => {
      input.removeListener("data", onData);
      input.setRawMode?.(false);
      input.pause();
      output.write("\n");
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003" || ch === "\u0004") return finish(usageError("no token entered"));
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.on("data", onData);
  });
}

/** Whether a prompt can be shown: stdin and stderr are terminals. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}
