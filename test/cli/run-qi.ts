/**
 * Runs the real `qi` binary (`node --import tsx src/cli/main.ts …`) as a subprocess, with a
 * timeout, colours off and the QI_* variables of the test process removed unless given.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = "src/cli/main.ts";

export interface QiResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface QiOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export class QiProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  private readonly done: Promise<QiResult>;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], options: QiOptions = {}) {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined };
    for (const k of ["QI_URL", "QI_USER", "QI_TOKEN"]) delete env[k];
    Object.assign(env, options.env);
    this.child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      this.stdout += d;
      this.notify();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      this.stderr += d;
      this.notify();
    });
    const timeoutMs = options.timeoutMs ?? 45_000;
    this.done = new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
      this.child.on("close", (code, signal) => {
        clearTimeout(timer);
        this.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves with the first match of `re` in stdout (or stderr) once it appears. */
  waitFor(re: RegExp, stream: "stdout" | "stderr" = "stdout", timeoutMs = 25_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this[stream].match(re);
        if (m) {
          cleanup();
          resolve(m);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          cleanup();
          reject(
            new Error(
              `qi exited before ${re} appeared on ${stream}; stdout: ${this.stdout} stderr: ${this.stderr}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for ${re} on ${stream}; stdout: ${this.stdout} stderr: ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  kill(signal: NodeJS.Signals = "SIGINT"): void {
    this.child.kill(signal);
  }

  exit(): Promise<QiResult> {
    return this.done;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Runs `qi args…` to completion. */
export function runQi(args: string[], options: QiOptions = {}): Promise<QiResult> {
  return new QiProcess(args, options).exit();
}

/** Runs several invocations at once (subprocess start-up dominates their cost). */
export function runAll(list: string[][], options: QiOptions = {}): Promise<QiResult[]> {
  return Promise.all(list.map((args) => runQi(args, options)));
}
