/**
 * An ALMotion-like service with actions that take seconds, so a Cancel can be seen doing its
 * job (issue 11): `moveTo(x, y, theta)` walks at a simulated pace, reports its progress and
 * stops where it is when canceled; `wakeUp()` and `rest()` run to their end whatever happens,
 * to show a Cancel the method does not honour (the caller then gets the real result).
 */
import { QiError } from "../connection/index.js";
import { CheckedObject } from "./checked-properties.js";
import type { LogFn } from "./log-manager.js";
import type { DemoService } from "./types.js";

/** Simulated walking pace: slow enough to see a move, quick enough for tests. */
const METRES_PER_S = 0.5;
const RADIANS_PER_S = 1;
/** One move is at most this long (a bigger request is refused, not queued). */
export const MAX_MOVE_MS = 20_000;
/** Standing up or sitting down. */
export const POSTURE_MS = 1_500;
const TICK_MS = 100;

interface Action {
  /** Ends it early: the move stops where it is; `error` rejects its call, else it returns. */
  stop(error?: unknown): void;
}

/** `log`, when given, gets an info message per action (category "ALMotion"). */
export function createMotion(log?: LogFn): DemoService {
  let position = { x: 0, y: 0, theta: 0 };
  let awake = false;
  let move: Action | undefined;
  const posture = new Set<Action>();
  const object = new CheckedObject({ description: "Simulated ALMotion: walks and stands up, in time" });

  /** Runs `step(fraction)` every tick for `ms`, emitting `progress(name, fraction)`. */
  const timed = (name: string, ms: number, step: (fraction: number) => void, signal?: AbortSignal) => {
    let action!: Action;
    const done = new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const finish = (error?: unknown) => {
        clearInterval(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const tick = () => {
        const fraction = ms === 0 ? 1 : Math.min(1, (Date.now() - t0) / ms);
        step(fraction);
        object.emit("progress", name, fraction);
        if (fraction >= 1) finish();
      };
      const timer = setInterval(tick, TICK_MS);
      const onAbort = () => {
        log?.("info", "ALMotion", `${name}: canceled`);
        finish(signal?.reason ?? new QiError("ERR_CANCELED", `${name} canceled`));
      };
      action = { stop: finish };
      signal?.addEventListener("abort", onAbort, { once: true });
      object.emit("progress", name, 0);
    });
    return { action, done };
  };

  /** Standing up / sitting down: not stoppable on purpose (see the header). */
  const changePosture = async (name: string, wake: boolean) => {
    log?.("info", "ALMotion", `${name}`);
    const { action, done } = timed(name, POSTURE_MS, () => {});
    posture.add(action);
    try {
      await done;
    } finally {
      posture.delete(action);
    }
    awake = wake;
  };

  object
    .method(
      "moveTo",
      "(fff)",
      "v",
      async function (x: number, y: number, theta: number) {
        if (![x, y, theta].every(Number.isFinite))
          throw new QiError("ERR_BAD_ARGUMENTS", "ALMotion::moveTo: x, y and theta must be finite numbers");
        const ms = Math.max(Math.hypot(x, y) / METRES_PER_S, Math.abs(theta) / RADIANS_PER_S) * 1000;
        if (ms > MAX_MOVE_MS)
          throw new QiError(
            "ERR_BAD_ARGUMENTS",
            `ALMotion::moveTo: at most ${(MAX_MOVE_MS / 1000) * METRES_PER_S} m or ${(MAX_MOVE_MS / 1000) * RADIANS_PER_S} rad in one move`,
          );
        // A new move replaces the one under way, as on the robot.
        move?.stop();
        const start = { ...position };
        // Robot frame: x ahead, y to the left, theta counter-clockwise.
        const cos = Math.cos(start.theta);
        const sin = Math.sin(start.theta);
        log?.("info", "ALMotion", `moveTo ${x} ${y} ${theta}`);
        const { action, done } = timed(
          "moveTo",
          ms,
          (f) => {
            position = {
              x: start.x + f * (x * cos - y * sin),
              y: start.y + f * (x * sin + y * cos),
              theta: start.theta + f * theta,
            };
          },
          this.signal as AbortSignal | undefined,
        );
        move = action;
        try {
          await done;
        } finally {
          if (move === action) move = undefined;
        }
      },
      {
        description: `Walks to (x, y) metres and turns theta radians, relative to where it stands; returns when there (or stopped). Honours cancel: stops where it is. Emits progress("moveTo", 0…1)`,
        parameters: [{ name: "x" }, { name: "y" }, { name: "theta" }],
      },
    )
    .method("stopMove", "()", "v", () => move?.stop(), {
      description: "Stops the move under way where it is; its moveTo returns",
    })
    .method("moveIsActive", "()", "b", () => move !== undefined, {
      description: "Whether a move is under way",
    })
    .method("getRobotPosition", "(b)", "[f]", () => [position.x, position.y, position.theta], {
      description: "[x, y, theta] in the world frame (metres, radians)",
      parameters: [{ name: "useSensors" }],
    })
    .method("wakeUp", "()", "v", () => changePosture("wakeUp", true), {
      description: `Stands up (${POSTURE_MS} ms). Runs to its end even when canceled`,
    })
    .method("rest", "()", "v", () => changePosture("rest", false), {
      description: `Sits down and relaxes (${POSTURE_MS} ms). Runs to its end even when canceled`,
    })
    .method("robotIsWakeUp", "()", "b", () => awake, { description: "Whether it stood up (wakeUp)" })
    .signal("progress", "(sf)");
  return {
    name: "ALMotion",
    object,
    stop() {
      move?.stop(new QiError("ERR_CANCELED", "the simulated robot stopped"));
      for (const a of posture) a.stop(new QiError("ERR_CANCELED", "the simulated robot stopped"));
    },
  };
}
