/**
 * Connection options shared by every subcommand that talks to a robot: where (--url, QI_URL),
 * who (--user with QI_TOKEN, --token-file, a prompt, or --token; or a two-line --credentials
 * file like libqi-python's), TLS (--ca, --pin, --cert/--key, --insecure) and the dispatch
 * mode of callbacks (--dispatch).
 */
import { type Command, Option } from "commander";
import { UserTokenAuthenticator } from "../connection/index.js";
import { parseDispatchMode } from "../dispatch/index.js";
import { fleetTransport, isFleetUrl } from "../fleet/index.js";
import { DEFAULT_CONNECT_URL, Session, type SessionOptions } from "../session/index.js";
import { isTransportError } from "../transport/index.js";
import { classify, CliError, ExitCode, usageError } from "./errors.js";
import { onCleanup } from "./lifecycle.js";
import { clientTlsFromFlags, type TlsFlags, tlsFlagOptions } from "./tls-flags.js";
import {
  canPrompt,
  promptHidden,
  readSecretFile,
  tokenFromFlags,
  type Warn,
  warnOnStderr,
} from "./token-sources.js";
import { type XmppFlags, xmppFlagOptions, xmppSessionOptions } from "./xmpp-flags.js";

export interface ConnectionOptions extends TlsFlags, XmppFlags {
  url: string;
  user?: string;
  /** Only ever from the command line (QI_TOKEN is read apart, so argv can be warned about). */
  token?: string;
  tokenFile?: string;
  credentials?: string;
  dispatch?: string;
  timeout?: string;
  wait?: string;
  /** With a nats:// --url: the robot of the fleet to reach (docs/fleet.md). */
  robot?: string;
}

/** Adds the connection options to a subcommand. */
export function withConnectionOptions(cmd: Command): Command {
  cmd
    .addOption(
      new Option("-u, --url <url>", "Service Directory to connect to")
        .env("QI_URL")
        .default(DEFAULT_CONNECT_URL),
    )
    .addOption(new Option("--user <name>", "user name for authentication").env("QI_USER"))
    .addOption(
      new Option(
        "--token <token>",
        "token for authentication (visible in ps: prefer QI_TOKEN or --token-file)",
      ),
    )
    .addOption(new Option("--token-file <file>", "file holding the token (mode 600)"))
    .addOption(new Option("--credentials <file>", "file with the user on line 1 and the token on line 2"))
    .addOption(new Option("--robot <name>", "with a nats:// --url, the robot of the fleet").env("QI_ROBOT"));
  for (const option of tlsFlagOptions()) cmd.addOption(option);
  for (const option of xmppFlagOptions()) cmd.addOption(option);
  return cmd
    .addOption(new Option("--insecure", "accept any TLS certificate (robots with self-signed certificates)"))
    .addOption(withDispatch())
    .addOption(new Option("--timeout <ms>", "connect and handshake timeout in ms").default("10000"))
    .addOption(
      new Option(
        "--wait <ms>",
        "wait up to this long for a service that is not registered yet (a spinner shows on a terminal)",
      ).default("0"),
    );
}

/** How long openService waits for a missing service, per session (set by connectSession). */
const serviceWaits = new WeakMap<Session, number>();

export function serviceWaitOf(session: Session): number {
  return serviceWaits.get(session) ?? 0;
}

export function withDispatch(): Option {
  return new Option("--dispatch <mode>", "run callbacks async (default) or one at a time (sync)").env(
    "QI_DISPATCH",
  );
}

export interface UserToken {
  user?: string;
  token?: string;
}

/**
 * The user and token of the flags: --credentials, else --user with --token-file, --token
 * (warned about) or QI_TOKEN. The token may still be missing (see connectSession's prompt).
 */
export function userTokenOf(opts: Partial<ConnectionOptions>, warn: Warn = warnOnStderr): UserToken {
  if (opts.credentials) {
    const [user, token] = readCredentials(opts.credentials, warn);
    return { user, token };
  }
  const token = tokenFromFlags(
    { argvToken: opts.token, tokenFile: opts.tokenFile, envToken: process.env.QI_TOKEN },
    warn,
  );
  return { user: opts.user, token };
}

/** Session options from the parsed flags (credentials, TLS, dispatch, timeout). */
export function sessionOptions(
  opts: Partial<ConnectionOptions>,
  credentials: UserToken = userTokenOf(opts),
): SessionOptions {
  const out: SessionOptions = {};
  const { user, token } = credentials;
  if (user !== undefined || token !== undefined) {
    if (user === undefined || token === undefined)
      throw usageError(
        "--user and a token go together",
        "QI_TOKEN, --token-file FILE or --credentials FILE (a terminal prompts for the token)",
      );
    out.authenticator = new UserTokenAuthenticator(user, token);
  }
  const tls = clientTlsFromFlags(opts);
  if (tls) out.clientTls = tls;
  if (opts.url && isFleetUrl(opts.url)) out.transport = fleetTransport({ robot: opts.robot });
  Object.assign(out, xmppSessionOptions(opts, tls));
  if (opts.dispatch) out.dispatch = parseDispatchMode(opts.dispatch, "--dispatch");
  if (opts.timeout !== undefined) {
    const ms = Number(opts.timeout);
    if (!Number.isFinite(ms) || ms < 0)
      throw usageError(`--timeout must be a number of ms, got "${opts.timeout}"`);
    out.timeoutMs = ms;
  }
  return out;
}

/** Two lines: user, token (libqi-python's credentials file). */
export function readCredentials(file: string, warn: Warn = warnOnStderr): [string, string] {
  let text: string;
  try {
    text = readSecretFile(file, warn);
  } catch (e) {
    throw usageError(
      `cannot read the credentials file ${file}: ${(e as Error).message}`,
      "a file with the user on line 1 and the token on line 2",
    );
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (!lines[0] || lines[1] === undefined || lines[1] === "") {
    throw usageError(`credentials file ${file} must hold the user on line 1 and the token on line 2`);
  }
  return [lines[0], lines[1]];
}

/**
 * A session connected to the Service Directory at `opts.url`, closed when the command ends.
 * Any failure to get there is exit code 3 (a malformed URL is a usage error, 2).
 */
export async function connectSession(
  opts: ConnectionOptions,
  extra: Partial<SessionOptions> = {},
): Promise<Session> {
  const wait = Number(opts.wait ?? 0);
  if (!Number.isFinite(wait) || wait < 0)
    throw usageError(`--wait must be a number of ms, got "${opts.wait}"`);
  const credentials = userTokenOf(opts);
  if (credentials.user !== undefined && credentials.token === undefined && canPrompt())
    credentials.token = await promptHidden(`token for ${credentials.user}: `);
  const session = new Session({ ...sessionOptions(opts, credentials), ...extra });
  serviceWaits.set(session, wait);
  onCleanup(() => session.close());
  try {
    await session.connect(opts.url);
  } catch (e) {
    const c = classify(e);
    if (c.exitCode === ExitCode.Usage) throw e;
    const hint =
      c.exitCode === ExitCode.Connect && c.hint
        ? c.hint
        : "`qi start` to run a local simulated robot, or --url to reach another one";
    const why =
      isTransportError(e) || c.exitCode === ExitCode.Connect ? c.message : `connection failed: ${c.message}`;
    const text = why.includes(opts.url) ? why : `cannot connect to ${opts.url}: ${why}`;
    throw new CliError(text, ExitCode.Connect, hint, { cause: e });
  }
  return session;
}
