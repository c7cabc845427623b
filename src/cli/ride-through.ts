/**
 * Long-running commands (watch, log, trace, top) ride through a restart of the robot (or of
 * `qi start`): the session reconnects by itself (issue 11); this says so on stderr —
 * "reconnecting…", then "reconnected" — and redoes what a reconnection cannot restore by itself
 * (an object created on the robot, a setting the restarted robot forgot) before saying so.
 */
import type { Session } from "../session/index.js";
import { CliError, ExitCode } from "./errors.js";
import { sleep } from "./lifecycle.js";

/** Redoing is retried this long after a reconnection (a restarted robot registers its services one by one). */
export const RESUME_TIMEOUT_MS = 60_000;
const RETRY_MS = 250;

export interface RideThrough {
  /** Rejects when the session gives up reconnecting: the command should end with it. */
  readonly failed: Promise<never>;
  /** Connected, and whatever a reconnection had to redo is done: errors now are real ones. */
  readonly steady: boolean;
}

/**
 * Prints the reconnection lines for `what` ("watching", "listening to LogManager"…) and runs
 * `again` after each reconnection, retried until it succeeds, the connection is lost again (the
 * next reconnection runs it), or RESUME_TIMEOUT_MS passed.
 */
export function rideThrough(session: Session, what: string, again?: () => Promise<void>): RideThrough {
  const say = (text: string) => process.stderr.write(`${text}\n`);
  let round = 0;
  let resuming = false;
  session.on("disconnected", (why) => {
    round++;
    resuming = true;
    say(`connection lost (${why}); reconnecting…`);
  });
  session.on("reconnected", () => {
    const mine = ++round;
    void (async () => {
      const deadline = Date.now() + RESUME_TIMEOUT_MS;
      for (;;) {
        try {
          await again?.();
          if (mine === round) {
            resuming = false;
            say(`reconnected; ${what} again`);
          }
          return;
        } catch (e) {
          // Lost again meanwhile (a newer round redoes it), or out of time.
          if (mine !== round || session.state !== "connected") return;
          if (Date.now() > deadline) {
            resuming = false;
            say(`reconnected, but ${what} could not resume: ${(e as Error).message}`);
            return;
          }
          await sleep(RETRY_MS);
        }
      }
    })();
  });
  const failed = new Promise<never>((_, reject) => {
    session.on("reconnectFailed", (lastError) =>
      reject(
        new CliError(
          `the connection was lost and could not be made again (${lastError ?? "gave up"})`,
          ExitCode.Connect,
        ),
      ),
    );
  });
  failed.catch(() => {}); // observed by the command's race; never an unhandled rejection
  return {
    failed,
    get steady() {
      return !resuming && session.state === "connected";
    },
  };
}
