/**
 * The real YARP for peer tests: finds the build (`YARP_DIR`, else ../shared/peers/yarp-3.7.2
 * from the project root), runs `yarpserver` on 127.0.0.1 and a free port with its own HOME
 * (where YARP keeps its name-server address), runs `yarp` commands there, and kills every
 * process it started.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const YARP_DIR = process.env.YARP_DIR ?? resolve(process.cwd(), "../shared/peers/yarp-3.7.2");
export const YARP_FOUND =
  existsSync(join(YARP_DIR, "bin", "yarp")) && existsSync(join(YARP_DIR, "bin", "yarpserver"));
if (!YARP_FOUND) console.log(`YARP not found at ${YARP_DIR} (set YARP_DIR): skipping the real-YARP tests`);

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** Whether 127.0.0.1:port can be listened on now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once("error", () => ok(false));
    s.listen(port, "127.0.0.1", () => s.close(() => ok(true)));
  });
}

/**
 * A port for yarpserver below the kernel's ephemeral range (32768+ on Linux): YARP gives its
 * own ports the numbers after the server's, and there they would collide with the ephemeral
 * ports of this machine's outgoing connections (bind: address already in use).
 */
export async function nameServerPort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const base = 20_000 + 100 * Math.floor(Math.random() * 120);
    let free = true;
    for (let k = 0; k < 40 && free; k++) free = await canListen(base + k);
    if (free) return base;
  }
  throw new Error("no free port range for yarpserver");
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` (sync or async) until truthy; throws naming `what` after `timeoutMs`. */
export async function until<T>(
  cond: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export interface Running {
  child: ChildProcess;
  out: string[];
  /** stderr so far (YARP logs there), for failure messages. */
  err(): string;
  /** All stdout so far as one string. */
  text(): string;
  stop(): Promise<void>;
}

export class YarpEnv {
  readonly home = mkdtempSync(join(tmpdir(), "qi-yarp-"));
  readonly bin = join(YARP_DIR, "bin");
  private readonly children = new Set<ChildProcess>();
  server: Running | undefined;
  port = 0;

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, HOME: this.home, YARP_CONF: undefined, YARP_DATA_DIRS: undefined };
  }

  async start(): Promise<void> {
    this.port = await nameServerPort();
    await this.run(["conf", "127.0.0.1", String(this.port)]);
    await this.startServer();
  }

  async startServer(): Promise<void> {
    this.server = this.spawn("yarpserver", [
      "--ip",
      "127.0.0.1",
      "--socket",
      String(this.port),
      "--read",
      "--portdb",
      ":memory:",
      "--subdb",
      ":memory:",
    ]);
    await until(
      async () => (await this.run(["name", "list"]).catch(() => "")).includes("/root"),
      "yarpserver",
    );
  }

  /** Runs `yarp <args>` to completion (stdin from `input`); resolves with stdout. */
  run(args: string[], input?: string, timeoutMs = 15_000): Promise<string> {
    return new Promise((ok, fail) => {
      const child = execFile(
        join(this.bin, "yarp"),
        args,
        { env: this.env, timeout: timeoutMs },
        (err, stdout, stderr) => {
          this.children.delete(child);
          if (err) fail(new Error(`yarp ${args.join(" ")}: ${err.message}\n${stderr}`));
          else ok(stdout);
        },
      );
      this.children.add(child);
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  /** Starts `yarp <args>` (or `yarpserver`) in the background, collecting stdout lines. */
  spawn(program: "yarp" | "yarpserver", args: string[]): Running {
    const child = spawn(join(this.bin, program), args, { env: this.env, stdio: ["pipe", "pipe", "pipe"] });
    this.children.add(child);
    const out: string[] = [];
    let partial = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      out.push(...lines);
    });
    let errText = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      errText = (errText + chunk).slice(-4000);
    });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.once("exit", () => this.children.delete(child));
    return {
      child,
      out,
      err: () => errText,
      text: () => out.join("\n"),
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 3_000);
        await exited;
        clearTimeout(t);
      },
    };
  }

  async close(): Promise<void> {
    for (const c of this.children) {
      c.kill("SIGCONT");
      c.kill("SIGKILL");
    }
    this.children.clear();
    rmSync(this.home, { recursive: true, force: true });
  }
}
