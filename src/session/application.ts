/**
 * A program's qi start-up in one line, like Python's `qi.Application(sys.argv)`: reads
 * `--qi-url URL` and `--qi-listen-url URL` (also as `--qi-url=URL`) off argv, leaving the
 * program its own arguments; falls back to QI_URL / QI_USER / QI_TOKEN, then to the default
 * URL; `start()` connects (and listens, for a host of services); `run()` waits for Ctrl-C or
 * SIGTERM and closes the session.
 */
import { environmentDefaults } from "./environment.js";
import { Session, type SessionOptions } from "./session.js";

export interface ApplicationOptions extends SessionOptions {
  /** The command line (default process.argv.slice(2)). */
  argv?: string[];
  /** Where to connect when neither argv nor QI_URL says (default the session's default URL). */
  url?: string;
}

export interface QiArguments {
  url?: string;
  listenUrls: string[];
  /** argv without the --qi-* options. */
  rest: string[];
}

const FLAGS = ["--qi-url", "--qi-listen-url"] as const;

/** Splits the --qi-* options off a command line; a flag without its value is an error. */
export function parseQiArguments(argv: readonly string[]): QiArguments {
  const out: QiArguments = { listenUrls: [], rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const flag = FLAGS.find((f) => arg === f || arg.startsWith(`${f}=`));
    if (!flag) {
      out.rest.push(arg);
      continue;
    }
    const value = arg.length > flag.length ? arg.slice(flag.length + 1) : argv[++i];
    if (value === undefined || value === "") throw new TypeError(`${flag} needs a URL`);
    if (flag === "--qi-url") out.url = value;
    else out.listenUrls.push(value);
  }
  return out;
}

export class Application {
  readonly session: Session;
  /** Where start() connects. */
  readonly url: string | undefined;
  readonly listenUrls: string[];
  /** The program's own arguments (argv without --qi-*). */
  readonly args: string[];

  constructor(options: ApplicationOptions = {}) {
    const {
      argv = typeof process === "undefined" ? [] : process.argv.slice(2),
      url,
      ...sessionOptions
    } = options;
    const parsed = parseQiArguments(argv);
    const env = environmentDefaults();
    this.url = parsed.url ?? env.url ?? url;
    this.listenUrls = parsed.listenUrls;
    this.args = parsed.rest;
    const hasCredentials =
      sessionOptions.authenticator !== undefined ||
      sessionOptions.user !== undefined ||
      sessionOptions.token !== undefined;
    this.session = new Session({
      ...sessionOptions,
      authenticator: hasCredentials ? sessionOptions.authenticator : env.authenticator,
    });
  }

  /** Connects (and listens on --qi-listen-url, for services this program hosts). */
  async start(): Promise<Session> {
    await this.session.connect(this.url);
    for (const url of this.listenUrls) await this.session.listen(url);
    return this.session;
  }

  /** Resolves once SIGINT or SIGTERM arrived and the session is closed. */
  async run(): Promise<void> {
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await this.session.close();
  }

  stop(): Promise<void> {
    return this.session.close();
  }
}
