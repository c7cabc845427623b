/** Shared pieces of the resilience tests: free ports, waiting for conditions, a `qi start` process. */
import { createServer } from "node:net";
import { QiProcess } from "../cli/run-qi.js";

/** A port free on 127.0.0.1 now (bound on 0 and released), to restart a server on the same one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `cond` every 10 ms until true; throws with `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface StartedQi {
  proc: QiProcess;
  /** Kills the process (SIGKILL: a crash, nothing said goodbye) and waits for its end. */
  kill(): Promise<void>;
}

/**
 * `qi start` on fixed ports with a fixed token (so a restart is the same robot to a client),
 * the gateway on tcp only, or none (`gwPort` undefined: `--no-gateway`).
 */
export async function startQi(sdPort: number, gwPort: number | undefined, token: string): Promise<StartedQi> {
  const args = ["start", "--listen", `tcp://127.0.0.1:${sdPort}`];
  if (gwPort === undefined) args.push("--no-gateway");
  else args.push("--gateway", `tcp://127.0.0.1:${gwPort}`, "--token", token);
  const proc = new QiProcess(args, { timeoutMs: 120_000 });
  await proc.waitFor(gwPort === undefined ? /services: / : /gateway listening/, "stdout", 60_000);
  return {
    proc,
    async kill() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.kill("SIGKILL");
      await proc.exit();
    },
  };
}
