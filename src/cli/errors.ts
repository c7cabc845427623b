/**
 * How the CLI fails: one line `error: <what> — try <what to do>` on stderr, the stack only
 * with --verbose, and an exit code a script can switch on:
 *   0 ok · 1 remote error, unknown service/member, bad arguments · 2 usage · 3 cannot
 *   connect (network, authentication, TLS).
 */
import { isQiError } from "../connection/index.js";
import { brandErrorClass, QiBaseError } from "../errors/index.js";
import { isDispatchError } from "../dispatch/index.js";
import { isTransportError } from "../transport/index.js";
import { WireError } from "../wire/index.js";

export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  Connect: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  remote error, unknown service/method/property, arguments that do not fit
  2  usage error (unknown option, bad JSON argument, bad URL)
  3  cannot connect: network, authentication or TLS failure`;

/** The code of a CliError follows its exit code. */
export type CliErrorCode = "QI_ERR_CLI_FAILURE" | "QI_ERR_CLI_USAGE" | "QI_ERR_CLI_CONNECT";
const CLI_CODES: Readonly<Record<ExitCode, CliErrorCode>> = {
  [ExitCode.Ok]: "QI_ERR_CLI_FAILURE", // never thrown: an error is not a success
  [ExitCode.Failure]: "QI_ERR_CLI_FAILURE",
  [ExitCode.Usage]: "QI_ERR_CLI_USAGE",
  [ExitCode.Connect]: "QI_ERR_CLI_CONNECT",
};

/** An error the CLI reports as is: message, exit code and an optional hint. */
export class CliError extends QiBaseError {
  static override readonly brand: symbol = Symbol.for("qimessaging.error.CliError");
  static readonly codes: readonly CliErrorCode[] = [
    "QI_ERR_CLI_FAILURE",
    "QI_ERR_CLI_USAGE",
    "QI_ERR_CLI_CONNECT",
  ];
  declare readonly code: CliErrorCode;

  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(CLI_CODES[exitCode], message, options);
    this.name = "CliError";
  }
}
brandErrorClass(CliError);

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, ExitCode.Usage, hint);
}

export function failure(message: string, hint?: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.Failure, hint, { cause });
}

interface Classified {
  exitCode: ExitCode;
  message: string;
  hint: string | undefined;
}

const CONNECT_HINT = "`qi start` to run a local simulated robot, or --url to reach another one";

/** Maps anything thrown to an exit code, a message and a hint. */
export function classify(e: unknown): Classified {
  const message = oneLine(e instanceof Error ? e.message : String(e));
  if (e instanceof CliError) return { exitCode: e.exitCode, message, hint: e.hint };
  if (isTransportError(e)) {
    switch (e.code) {
      case "QI_ERR_TRANSPORT_BAD_URL":
      case "QI_ERR_TRANSPORT_UNSUPPORTED_SCHEME":
      case "QI_ERR_TRANSPORT_BAD_OPTIONS":
        return {
          exitCode: ExitCode.Usage,
          message,
          hint: "a URL like tcp://127.0.0.1:9559 or tcps://nao.local:9503",
        };
      case "QI_ERR_TRANSPORT_TLS":
        return {
          exitCode: ExitCode.Connect,
          // The library's advice names SessionOptions fields (tls.ca…); a CLI user gets flags.
          message: message.replace(/;\s*pass tls\.ca\b.*$/, ""),
          hint: "--ca FILE or --pin SHA256 for a robot with its own certificate (--insecure accepts any)",
        };
      case "QI_ERR_TRANSPORT_CONNECT":
      case "QI_ERR_TRANSPORT_TIMEOUT":
      case "QI_ERR_TRANSPORT_ABORTED":
        return { exitCode: ExitCode.Connect, message, hint: CONNECT_HINT };
      case "QI_ERR_TRANSPORT_LISTEN":
        return { exitCode: ExitCode.Failure, message, hint: "another port (port 0 picks a free one)" };
      default:
        return { exitCode: ExitCode.Failure, message, hint: undefined };
    }
  }
  if (isQiError(e)) {
    switch (e.code) {
      case "QI_ERR_AUTH":
        return {
          exitCode: ExitCode.Connect,
          message,
          hint: "--user with QI_TOKEN or --token-file FILE, or --credentials FILE",
        };
      case "QI_ERR_HANDSHAKE":
        return { exitCode: ExitCode.Connect, message, hint: "checking that the URL points to a qi endpoint" };
      case "QI_ERR_NO_SUCH_MEMBER":
      case "QI_ERR_BAD_ARGUMENTS":
        return {
          exitCode: ExitCode.Failure,
          message,
          hint: "`qi info SERVICE` for the members and their signatures",
        };
      case "QI_ERR_NO_SUCH_SERVICE":
        return { exitCode: ExitCode.Failure, message, hint: "`qi services` for the registered services" };
      default:
        return { exitCode: ExitCode.Failure, message, hint: undefined };
    }
  }
  if (isDispatchError(e, "QI_ERR_DISPATCH_BAD_MODE"))
    return { exitCode: ExitCode.Usage, message, hint: "--dispatch sync|async" };
  if (e instanceof WireError)
    return { exitCode: ExitCode.Failure, message, hint: "`qi info SERVICE` for the signatures" };
  return { exitCode: ExitCode.Failure, message, hint: undefined };
}

/** Writes the one-line report (plus the stack with `verbose`) and returns the exit code. */
export function reportError(e: unknown, verbose: boolean, write: (text: string) => void): ExitCode {
  const { exitCode, message, hint } = classify(e);
  write(formatErrorLine(message, hint));
  if (verbose) {
    let cur: unknown = e;
    for (let depth = 0; cur instanceof Error && depth < 5; depth++) {
      write(`${depth === 0 ? "" : "caused by: "}${cur.stack ?? cur.message}\n`);
      cur = cur.cause;
    }
  }
  return exitCode;
}

export function formatErrorLine(message: string, hint: string | undefined): string {
  const text = message.replace(/^error:\s*/i, "");
  return `error: ${text}${hint ? ` — try ${hint}` : ""}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/**
 * A listener that cannot listen (port taken) named with the flag that moves it: `qi start`
 * has two (--listen for the directory, --gateway for the gateway), so the hint depends on
 * which one failed.
 */
export async function withListenHint<T>(work: Promise<T>, hint: string): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (isTransportError(e) && e.code === "QI_ERR_TRANSPORT_LISTEN")
      throw new CliError(oneLine((e as Error).message), ExitCode.Failure, hint, { cause: e });
    throw e;
  }
}
