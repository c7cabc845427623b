/**
 * The real ROS 1 for the peer tests: finds `rosmaster`, runs one on a free loopback port with
 * HOME, ROS_HOME and ROS_LOG_DIR in a temp dir, runs ROS command-line tools against it, and
 * kills every process it started.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export function findProgram(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/** rospy lives in the system Python, not whatever python3 comes first on PATH. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

export interface RosEnv {
  port: number;
  masterUri: string;
  env: NodeJS.ProcessEnv;
  dir: string;
  /** Starts (or starts again) rosmaster on the same port; resolves once it answers. */
  startMaster(): Promise<void>;
  stopMaster(): Promise<void>;
  /** Runs a ROS tool; resolves with its output, whatever its exit code. */
  run(
    file: string,
    args: string[],
    timeoutMs?: number,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Starts a long-running ROS tool (killed by close()). */
  spawn(file: string, args: string[]): ChildProcess & { output: () => string };
  close(): Promise<void>;
}

export async function rosEnv(): Promise<RosEnv> {
  const dir = mkdtempSync(join(tmpdir(), "qi-ros1-"));
  const port = await freePort();
  const masterUri = `http://127.0.0.1:${port}/`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    ROS_HOME: dir,
    ROS_LOG_DIR: join(dir, "log"),
    ROS_HOSTNAME: "127.0.0.1",
    ROS_MASTER_URI: masterUri,
    PYTHONDONTWRITEBYTECODE: "1",
  };
  const children = new Set<ChildProcess>();
  let master: ChildProcess | undefined;

  const track = (child: ChildProcess) => {
    children.add(child);
    child.on("exit", () => children.delete(child));
    return child;
  };
  const kill = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });

  const masterAnswers = async (): Promise<boolean> => {
    try {
      const body =
        '<?xml version="1.0"?><methodCall><methodName>getPid</methodName><params><param><value>/test</value></param></params></methodCall>';
      const res = await fetch(masterUri, { method: "POST", body, headers: { "content-type": "text/xml" } });
      return res.ok;
    } catch {
      return false;
    }
  };

  const self: RosEnv = {
    port,
    masterUri,
    env,
    dir,
    async startMaster() {
      master = track(spawn("rosmaster", ["--core", "-p", String(port)], { env, stdio: "ignore" }));
      const t0 = Date.now();
      while (!(await masterAnswers())) {
        if (master.exitCode !== null) throw new Error(`rosmaster exited with ${master.exitCode}`);
        if (Date.now() - t0 > 20_000) throw new Error("rosmaster did not answer in 20 s");
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stopMaster() {
      if (master) await kill(master);
      master = undefined;
    },
    run(file, args, timeoutMs = 30_000) {
      return new Promise((resolve) => {
        const child = execFile(
          file,
          args,
          { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
        track(child);
      });
    },
    spawn(file, args) {
      const child = track(spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] }));
      let out = "";
      child.stdout?.setEncoding("utf8").on("data", (d: string) => {
        out += d;
      });
      child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        out += d;
      });
      return Object.assign(child, { output: () => out });
    },
    async close() {
      await Promise.all([...children].map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
