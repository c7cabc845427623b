/**
 * Runs one document's examples (see docs-runs.test.ts for the rules): a shared `qi start` for
 * the document, its TypeScript blocks as scripts, its `$ npx qi` lines as `qi` subprocesses in
 * a temporary directory, servers in the background for the rest of their block.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  type Block,
  type Command,
  commandsOf,
  freePorts,
  isServer,
  type LiveAddresses,
  localise,
  looseLine,
} from "./doc-blocks.js";
import { Session, UserTokenAuthenticator } from "../../src/index.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
const QI = join(ROOT, "src", "cli", "main.ts");
/**
 * How long one process may take before it counts as hung. Everything waits for a condition (an
 * exit, a printed line); this only bounds a process that never gets there. Generous: one `qi`
 * start-up takes 8 s of wall time on two cores at load 25.
 */
const BUDGET_MS = 150_000;
/**
 * The line after which a server has printed everything it will print at start-up: `qi start`
 * and `qi gateway` end their banner with "Ctrl-C to stop" (waiting for their first line only
 * raced the rest of the banner), `qi sd` prints its addresses, `qi demo` what it registered,
 * and `--json` one object (on stdout, which is all the caller looks at).
 */
function readyPattern(words: string[]): RegExp {
  if (words.includes("--json")) return /\}\n/;
  if (words[0] === "sd") return /Service Directory listening on \S+\n/;
  if (words[0] === "demo") return /registered with \S+/;
  return /Ctrl-C to stop/;
}

/** Where a block's commands go and as whom. */
export interface Target {
  url: string;
  user: string;
  token: string;
}

/** A child process with its output gathered and a way to wait for a line. */
export class Proc {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], cwd: string, env: NodeJS.ProcessEnv, stdin?: string, timeoutMs = BUDGET_MS) {
    this.child = spawn(process.execPath, ["--import", TSX, ...args], {
      cwd,
      env,
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (stdin !== undefined) this.child.stdin!.end(stdin);
    const gather = (stream: "stdout" | "stderr") => (d: string) => {
      this[stream] += d;
      for (const w of [...this.waiters]) w();
    };
    this.child.stdout!.setEncoding("utf8").on("data", gather("stdout"));
    this.child.stderr!.setEncoding("utf8").on("data", gather("stderr"));
    this.done = new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
      this.child.on("close", (code) => {
        clearTimeout(timer);
        for (const w of [...this.waiters]) w();
        resolve(code);
      });
    });
  }

  get output(): string {
    return `${this.stdout}${this.stderr}`;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Resolves once `re` matches stdout or stderr; rejects if the process ends first. */
  waitFor(re: RegExp, { stdoutOnly = false, timeoutMs = BUDGET_MS } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for ${re}:\n${this.output}`)),
        timeoutMs,
      );
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (re.test(this.stdout) || (!stdoutOnly && re.test(this.stderr))) finish();
        else if (this.exited) finish(new Error(`exited before ${re}:\n${this.output}`));
      };
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<number | null> {
    if (!this.exited) this.child.kill("SIGINT");
    return this.done;
  }
}

export function qiEnv(target: Target): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined };
  for (const k of ["QI_URL", "QI_USER", "QI_TOKEN", "QI_GATEWAY_TOKEN"]) delete env[k];
  return {
    ...env,
    QI_URL: target.url,
    QI_USER: target.user,
    QI_TOKEN: target.token,
    QI_GATEWAY_TOKEN: target.token,
  };
}

/** The shared simulated robot of one document: `qi start --allow-registration` on free ports. */
export class Robot {
  private constructor(
    readonly proc: Proc,
    readonly live: LiveAddresses,
    readonly target: Target,
  ) {}

  static async start(cwd: string): Promise<Robot> {
    const proc = new Proc(
      [QI, "start", "--allow-registration", "--listen", "tcp://127.0.0.1:0"].concat([
        "--gateway",
        "tcp://127.0.0.1:0",
        "ws://127.0.0.1:0",
      ]),
      cwd,
      qiEnv({ url: "", user: "", token: "" }),
      undefined,
      10 * 60_000,
    );
    await proc.waitFor(/Ctrl-C to stop/);
    const out = proc.stdout;
    const live = {
      sd: /Service Directory listening on (\S+)/.exec(out)![1],
      gateway: /gateway listening on (tcp:\/\/[^,\s]+)/.exec(out)![1],
      ws: /gateway listening on .*(ws:\/\/[^,\s]+)/.exec(out)![1],
      root: ROOT,
    };
    return new Robot(proc, live, { url: live.gateway, user: "nao", token: /token (\S+)/.exec(out)![1] });
  }
}

/** What went wrong with one block, or undefined. */
export type Outcome = string | undefined;

/** Runs a TypeScript block as a script (an ES module) in `dir`. */
export async function runTs(block: Block, dir: string, robot: Robot): Promise<Outcome> {
  const file = join(dir, `block-${block.line}.mts`);
  await writeFile(file, `${localise(block.body, robot.live)}\nexport {};\n`);
  const proc = new Proc([file], dir, qiEnv(robot.target));
  const code = await proc.done;
  return code === 0 ? undefined : `exit ${code}:\n${proc.output.slice(-3000)}`;
}

/** The server must serve: a session through it lists the services of its directory. */
async function serves(target: Target): Promise<string | undefined> {
  const session = new Session({ authenticator: new UserTokenAuthenticator(target.user, target.token) });
  try {
    await session.connect(target.url);
    const names = (await session.services()).map((s) => s.name);
    return names.includes("ServiceDirectory") ? undefined : `services: ${names.join(", ")}`;
  } catch (e) {
    return String(e);
  } finally {
    await session.close();
  }
}

/** The address a server printed for its clients: its gateway's tcp listener, else its directory's. */
function servedTarget(proc: Proc, args: string[], fallback: Target, dir: string): Promise<Target> {
  const url =
    /gateway listening on (tcp:\/\/[^,\s]+)/.exec(proc.stdout)?.[1] ??
    /Service Directory listening on (tcp:\/\/\S+)/.exec(proc.stdout)?.[1] ??
    fallback.url;
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const tokenFile = flag("--token-file");
  const printed = /credentials for this run: user \S+ token (\S+)/.exec(proc.stdout)?.[1];
  return (async () => ({
    url,
    user: flag("--user") ?? fallback.user,
    token:
      printed ??
      flag("--token") ??
      (tokenFile ? (await readFile(join(dir, tokenFile), "utf8")).split("\n")[0] : fallback.token),
  }))();
}

/**
 * The addresses a server command was given (`--listen`, `--gateway`) paired with the ones it
 * printed, scheme by scheme in order, as the doc's clients would write them (0.0.0.0 and
 * localhost are reached as 127.0.0.1).
 */
function movedAddresses(words: string[], printed: string): [string, string][] {
  const given = words.filter((w, i) => /^\w+:\/\//.test(w) && freePorts(words)[i] !== w);
  const actual = [...printed.matchAll(/listening on ([^\n]+)/g)].flatMap((m) => m[1].split(/,\s*/));
  const out: [string, string][] = [];
  for (const url of given) {
    const m = /^(\w+):\/\/([^/:]+):(\d+)/.exec(url);
    const to = m && actual.find((a) => a.startsWith(`${m[1]}://`) && !out.some(([, t]) => t === a));
    if (!m || !to) continue;
    for (const host of ["127.0.0.1", "0.0.0.0", "localhost"]) out.push([`${m[1]}://${host}:${m[3]}`, to]);
  }
  return out;
}

/** Runs the `$ npx qi` lines of a `sh`/`text` block; servers stay up until the block's end. */
export async function runCommands(block: Block, dir: string, robot: Robot): Promise<Outcome> {
  let target = robot.target;
  const servers: Proc[] = [];
  const background: { command: Command; proc: Proc }[] = [];
  const problems: string[] = [];
  /** A server's addresses as the doc wrote them → where it really listens. */
  const moved: [string, string][] = [];
  try {
    for (const command of commandsOf(block)) {
      const words = command.args.map((a) =>
        moved.reduce((w, [from, to]) => w.replaceAll(from, to), localise(a, robot.live)),
      );
      const detach = words.at(-1) === "&";
      if (detach) words.pop();
      const label = `line ${command.line}: qi ${command.args.join(" ")}`;
      if (isServer(words)) {
        const args = freePorts(words);
        const proc = new Proc([QI, ...args], dir, qiEnv(target), undefined, 10 * 60_000);
        servers.push(proc);
        await proc.waitFor(readyPattern(args), { stdoutOnly: true }); // stderr has JSON logs
        const shown = check(command, proc, true);
        if (shown) problems.push(`${label}: ${shown}`);
        target = await servedTarget(proc, args, target, dir);
        moved.push(...movedAddresses(words, proc.stdout));
        const refused = await serves(target);
        if (refused) problems.push(`${label}: does not serve: ${refused}`);
        continue;
      }
      const stdin =
        command.stdin === undefined ? undefined : await readFile(join(dir, command.stdin), "utf8");
      const proc = new Proc([QI, ...words], dir, qiEnv(target), stdin);
      if (detach) {
        // A watcher: the next command may trigger what it waits for once it listens.
        await proc.waitFor(/Ctrl-C to stop/).catch(() => undefined);
        background.push({ command, proc });
        continue;
      }
      await proc.done;
      const problem = check(command, proc);
      if (problem) problems.push(`${label}: ${problem}`);
    }
    for (const { command, proc } of background) {
      await proc.done;
      const problem = check(command, proc);
      if (problem) problems.push(`line ${command.line}: qi ${command.args.join(" ")}: ${problem}`);
    }
  } catch (e) {
    problems.push(String(e));
  } finally {
    for (const proc of [...background.map((b) => b.proc), ...servers]) {
      const code = await proc.stop();
      if (servers.includes(proc) && code !== 0)
        problems.push(`a server exited ${code} on Ctrl-C:\n${proc.output}`);
    }
  }
  return problems.length ? problems.join("\n") : undefined;
}

/**
 * A command succeeded (or failed, when the doc shows `error:`) and printed the lines shown
 * under it, loosely (see looseLine), in any order.
 */
function check(command: Command, proc: Proc, running = false): string | undefined {
  const code = proc.child.exitCode;
  const wantsError = command.expected.some((l) => l.startsWith("error:"));
  if (running ? proc.exited : wantsError ? code === 0 || code === null : code !== 0)
    return `exit ${code}:\n${proc.output.slice(-2000)}`;
  const missing = command.expected.filter((l) => {
    const re = looseLine(l);
    return re && !re.test(proc.output);
  });
  return missing.length
    ? `output lacks:\n  ${missing.join("\n  ")}\ngot:\n${proc.output.slice(-2000)}`
    : undefined;
}

/** Writes a `<!-- file: NAME -->` block into the doc's directory (mode 600: tokens, keys). */
export async function writeDocFile(block: Block, dir: string, robot: Robot | undefined): Promise<void> {
  const handle = await open(join(dir, block.file!), "w", 0o600);
  await handle.writeFile(robot ? localise(`${block.body}\n`, robot.live) : `${block.body}\n`);
  await handle.close();
}
