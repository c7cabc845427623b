/**
 * Process lifecycle of a command: cleanups run once when the command ends (however it ends),
 * and long-running commands wait for Ctrl-C / SIGTERM to stop cleanly with exit code 0.
 */
type Cleanup = () => unknown | Promise<unknown>;
const cleanups: Cleanup[] = [];

/** Registers something to undo when the command ends (last registered runs first). */
export function onCleanup(fn: Cleanup): void {
  cleanups.push(fn);
}

/** Runs the cleanups, each bounded in time so a stuck one cannot hang the exit. */
export async function runCleanups(timeoutMs = 3_000): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.resolve()
        .then(fn)
        .catch(() => {}),
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}

let shutdown: Promise<NodeJS.Signals> | undefined;

/**
 * Signals this close together are one Ctrl-C delivered twice: under `npm start` the terminal
 * signals the whole process group and npm forwards its copy to qi as well.
 */
const ONE_KEYPRESS_MS = 300;

/**
 * Resolves with the signal name at the first SIGINT or SIGTERM. A second one while the
 * command is still stopping exits at once (130), as terminals users expect (one arriving
 * within ONE_KEYPRESS_MS of the first is the same keypress, and ignored).
 *
 * The handlers are installed at the first call, and every call shares them. Call it before
 * printing "Ctrl-C to stop": a script or test that reads that line and signals at once could
 * otherwise hit the gap before the handler exists, and the signal's default action would kill
 * the process (seen 1 start in 4 on a loaded machine).
 */
export function waitForShutdown(): Promise<NodeJS.Signals> {
  shutdown ??= new Promise((resolve) => {
    let first: number | undefined;
    const handler = (sig: NodeJS.Signals) => {
      const now = performance.now();
      if (first === undefined) {
        first = now;
        resolve(sig);
      } else if (now - first > ONE_KEYPRESS_MS) process.exit(130);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
  return shutdown;
}

/**
 * The events a live command (watch, trace, log) prints, counted against `--count`: it runs
 * until that many were printed, or until Ctrl-C / SIGTERM.
 */
export class EventBudget {
  private seen = 0;
  private finish!: () => void;
  private readonly enough = new Promise<void>((r) => {
    this.finish = r;
  });

  // Armed now, before the command prints "(Ctrl-C to stop)" (see waitForShutdown).
  private readonly shutdown = waitForShutdown();

  constructor(private readonly limit: number | undefined) {}

  /**
   * Whether one more event may be printed (it is then counted). The one that reaches the
   * limit ends the command, once the callback printing it has returned.
   */
  take(): boolean {
    if (this.limit !== undefined && this.seen >= this.limit) return false;
    this.seen++;
    if (this.limit !== undefined && this.seen >= this.limit) this.finish();
    return true;
  }

  /** Resolves at the limit or at the first shutdown signal. */
  done(): Promise<unknown> {
    return Promise.race([this.enough, this.shutdown]);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
