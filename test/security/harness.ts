/**
 * The target of the security suite: a real gateway process (`qi gateway --config`, the CLI a
 * robot runs) attached to a robot process (Service Directory + services), with users admin,
 * alice, bob and canary, and a canary client that calls every 100 ms and must never notice
 * an attack. Memory cases read the target's RSS from /proc.
 *
 *   const t = await startTarget();           // robot + gateway, killed in afterEach(runCleanup)
 *   const canary = await startCanary(t.gateway.tcpUrl);
 *   ... attack t.gateway.tcpUrl / t.gateway.wsUrl ...
 *   expect(await canary.stop()).toMatchObject({ failures: [] });
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { UserTokenAuthenticator } from "../../src/connection/index.js";
import { hashToken } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { cleanup, runCleanup } from "../gateway/world.js";

export { cleanup, runCleanup };

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface Credentials {
  user: string;
  token: string;
}

/** Every user of the target, with its token (the gateway stores scrypt hashes of them). */
export const USERS = {
  admin: { user: "admin", token: "admin-token-0123456789" },
  alice: { user: "alice", token: "alice-token-0123456789" },
  bob: { user: "bob", token: "bob-token-0123456789" },
  canary: { user: "canary", token: "canary-token-0123456789" },
} satisfies Record<string, Credentials>;

/** Users alice and bob: the robot's services and Vault, any call and subscription, no property writes. */
const ordinaryUser = {
  services: { allow: ["AL*", "Calc", "Vault", "LogManager"] },
  call: { allow: ["*"] },
  subscribe: { allow: ["*"] },
};

/** The gateway configuration a test starts from (see docs/gateway.md); `configure` may change it. */
export function defaultGatewayConfig(attach: string): Record<string, unknown> {
  return {
    attach,
    listen: ["tcp://127.0.0.1:0", "ws://127.0.0.1:0"],
    auth: { users: {} },
    permissions: {
      users: {
        admin: {
          services: { allow: ["*"] },
          call: { allow: ["*"] },
          subscribe: { allow: ["*"] },
          write: { allow: ["*"] },
          register: { allow: ["*"] },
        },
        alice: ordinaryUser,
        bob: ordinaryUser,
        canary: {
          services: { allow: ["Calc"] },
          call: { allow: ["Calc.*"] },
          subscribe: { allow: ["Calc.*"] },
        },
      },
    },
  };
}

export interface ChildTarget {
  proc: ChildProcess;
  pid: number;
  /** Resident set size now, in bytes (from /proc). */
  rss(): number;
  /** Every line the process wrote to stderr so far (the gateway's pino JSON logs). */
  readonly logLines: string[];
  /** Resolves with the exit code or signal; a process killed by the test's cleanup resolves too. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** Is the process still running? */
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface RobotProcess extends ChildTarget {
  /** The Service Directory's URL. */
  url: string;
}

export interface GatewayProcess extends ChildTarget {
  endpoints: string[];
  tcpUrl: string;
  wsUrl: string;
  /** The config file the gateway was started with. */
  configFile: string;
}

export interface Target {
  robot: RobotProcess;
  gateway: GatewayProcess;
}

export interface TargetOptions {
  /** Changes the gateway config (a plain object, written as YAML) before the gateway starts. */
  configure?: (config: Record<string, unknown>) => void;
  /** Extra `qi gateway` arguments. */
  gatewayArgs?: string[];
  /** Node options for the gateway process (e.g. ["--max-old-space-size=256"]). */
  nodeOptions?: string[];
}

/** The robot process and a gateway process attached to it. */
export async function startTarget(options: TargetOptions = {}): Promise<Target> {
  const robot = await startRobot();
  const gateway = await startGatewayProcess(robot.url, options);
  return { robot, gateway };
}

export async function startRobot(): Promise<RobotProcess> {
  const file = fileURLToPath(new URL("./fixtures/robot.ts", import.meta.url));
  const { child, line } = await spawnReady(["--import", "tsx", file], "robot");
  const ready = JSON.parse(line) as { url: string; pid: number };
  return { ...child, url: ready.url };
}

export async function startGatewayProcess(
  attach: string,
  options: TargetOptions = {},
): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), "qi-security-"));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const users: Record<string, { token: string }> = {};
  for (const { user, token } of Object.values(USERS)) users[user] = { token: hashToken(token) };
  writeFileSync(join(dir, "users.yaml"), stringify({ users }));
  const config = defaultGatewayConfig(attach);
  config.auth = { ...(config.auth as object), users: undefined, credentials: "users.yaml" };
  delete (config.auth as Record<string, unknown>).users;
  options.configure?.(config);
  const configFile = join(dir, "gateway.yaml");
  writeFileSync(configFile, stringify(config));
  const args = [
    ...(options.nodeOptions ?? []),
    "--import",
    "tsx",
    join(root, "src/cli/main.ts"),
    "gateway",
    "--config",
    configFile,
    "--json",
    ...(options.gatewayArgs ?? []),
  ];
  const { child, line } = await spawnReady(args, "gateway");
  const ready = JSON.parse(line) as { endpoints: string[] };
  const tcpUrl = ready.endpoints.find((e) => e.startsWith("tcp://")) ?? "";
  const wsUrl = ready.endpoints.find((e) => e.startsWith("ws://")) ?? "";
  return { ...child, endpoints: ready.endpoints, tcpUrl, wsUrl, configFile };
}

/** Spawns `node args…`, waits for its first stdout line, and kills it in the test's cleanup. */
async function spawnReady(args: string[], what: string): Promise<{ child: ChildTarget; line: string }> {
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<NodeJS.Signals | number | null>((r) =>
    proc.once("exit", (code, signal) => r(signal ?? code)),
  );
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (alive()) proc.kill(signal);
    await exited;
  };
  cleanup.push(() => kill());
  const logLines: string[] = [];
  createInterface({ input: proc.stderr! }).on("line", (l) => logLines.push(l));
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`${what} did not start in time: ${logLines.join("\n")}`)),
      30_000,
    );
    createInterface({ input: proc.stdout! }).once("line", (l) => {
      clearTimeout(t);
      resolve(l);
    });
    proc.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`${what} exited (${code}): ${logLines.join("\n")}`));
    });
  });
  const pid = proc.pid!;
  return { child: { proc, pid, rss: () => rssOf(pid), logLines, exited, alive, kill }, line };
}

/** Resident set size of a process, in bytes. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** A client session logged in as `who` (cleaned up after the test). */
export async function login(
  url: string,
  who: Credentials,
  options: ConstructorParameters<typeof Session>[0] = {},
) {
  const s = new Session({ authenticator: new UserTokenAuthenticator(who.user, who.token), ...options });
  cleanup.push(() => s.close());
  await s.connect(url);
  return s;
}

export interface CanaryReport {
  calls: number;
  /** What went wrong, in order: a failed call, a late answer (over `slowMs`), the connection lost. */
  failures: string[];
  maxLatencyMs: number;
}

export interface Canary {
  /** Calls answered so far. */
  readonly calls: number;
  /** Stops calling and reports; waits for the call in flight. */
  stop(): Promise<CanaryReport>;
}

/**
 * A legitimate client (user canary) calling Calc.add every 100 ms over its own connection.
 * An answer later than `slowMs` counts as a failure: an attack must not slow others down
 * without bound.
 */
export async function startCanary(
  url: string,
  options: { slowMs?: number; who?: Credentials } = {},
): Promise<Canary> {
  const slowMs = options.slowMs ?? 2_000;
  const session = await login(url, options.who ?? USERS.canary);
  const calc = await session.service("Calc");
  const report: CanaryReport = { calls: 0, failures: [], maxLatencyMs: 0 };
  session.on("disconnected", () => report.failures.push("canary: connection lost"));
  let stopped = false;
  const loop = (async () => {
    let n = 0;
    while (!stopped) {
      const t0 = performance.now();
      try {
        const sum = await withTimeout(calc.call("add", n, 1) as Promise<number>, slowMs * 2);
        if (sum !== n + 1) report.failures.push(`canary: add(${n}, 1) answered ${sum}`);
      } catch (e) {
        report.failures.push(`canary: call ${n} failed: ${(e as Error).message}`);
      }
      const ms = performance.now() - t0;
      if (ms > slowMs) report.failures.push(`canary: call ${n} took ${ms.toFixed(0)} ms`);
      report.maxLatencyMs = Math.max(report.maxLatencyMs, ms);
      report.calls++;
      n++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    get calls() {
      return report.calls;
    },
    async stop() {
      stopped = true;
      await loop;
      return report;
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
