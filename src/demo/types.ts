/** What every simulated service of the demo robot provides. */
import type { Logger } from "pino";
import type { QiObject } from "../object/index.js";

export interface DemoService {
  /** The service name it is registered under (NAOqi's names). */
  readonly name: string;
  readonly object: QiObject;
  /** Starts its timers, if it has any. */
  start?(): void;
  /** Stops its timers; the object stays usable. */
  stop?(): void;
}

export interface DemoOptions {
  logger: Logger;
}
