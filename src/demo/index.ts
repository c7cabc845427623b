/** demo/: the simulated robot's NAOqi-like services (ALMemory, ALTextToSpeech, ALVideoDevice, ALBattery, LogManager, ALMotion), hosted by any Session. */
import type { Session } from "../session/index.js";
import { createBattery } from "./battery.js";
import { createLogManager } from "./log-manager.js";
import { createMemory } from "./memory.js";
import { createMotion } from "./motion.js";
import { createTextToSpeech } from "./text-to-speech.js";
import type { DemoOptions, DemoService } from "./types.js";
import { createVideoDevice } from "./video-device.js";

export { createBattery } from "./battery.js";
export {
  createLogManager,
  LOG_LEVELS,
  LOG_MESSAGE_SIGNATURE,
  type LogFn,
  type LogLevelName,
  type LogManagerService,
} from "./log-manager.js";
export { createMemory } from "./memory.js";
export { createMotion } from "./motion.js";
export { createTextToSpeech } from "./text-to-speech.js";
export type { DemoOptions, DemoService } from "./types.js";
export { createVideoDevice, FRAME_BYTES, FRAME_HEIGHT, FRAME_WIDTH } from "./video-device.js";

export interface RunningDemo {
  /** Names of the registered services, in registration order. */
  readonly services: string[];
  /** Stops the timers and unregisters the services (when the session is still up). */
  stop(): Promise<void>;
}

/**
 * Every demo service, not yet registered. LogManager comes after the first four (so they keep
 * their ids) but is made first: the TTS, the battery and ALMotion log through it. ALMotion,
 * added later, comes last for the same reason.
 */
export function createDemoServices(options: DemoOptions): DemoService[] {
  const logs = createLogManager();
  return [
    createMemory(),
    createTextToSpeech(options, logs.log),
    createVideoDevice(),
    createBattery(undefined, logs.log),
    logs,
    createMotion(logs.log),
  ];
}

/** Registers the demo services on `session` and starts their timers. */
export async function startDemo(session: Session, options: DemoOptions): Promise<RunningDemo> {
  const services = createDemoServices(options);
  const ids: number[] = [];
  const stopAll = () => {
    for (const s of services) s.stop?.();
  };
  try {
    for (const s of services) {
      ids.push(await session.registerService(s.name, s.object));
      s.start?.();
    }
  } catch (e) {
    stopAll();
    await Promise.all(ids.map((id) => session.unregisterService(id).catch(() => {})));
    throw e;
  }
  options.logger.info({ services: services.map((s) => s.name) }, "demo services registered");
  let stopped = false;
  return {
    services: services.map((s) => s.name),
    async stop() {
      if (stopped) return;
      stopped = true;
      stopAll();
      await Promise.all(ids.map((id) => session.unregisterService(id).catch(() => {})));
    },
  };
}

// Internal face: what other folders of src/ use (kept up to date by scripts/route-imports.ts).
export { globMatches, levelOf, logLevel } from "./log-manager.js";
