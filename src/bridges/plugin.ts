/**
 * What a bridge to another robotics framework (ROS 1, rosbridge, Foxglove, YARP) is to the
 * gateway: a plug-in started in the gateway's process, that reaches the robot's services only
 * as a qi client of the gateway with a user of its own, so the gateway's permissions bound
 * what the other framework can see and do. Every bridge is off unless named, and says when it
 * starts that its framework has no authentication of its own.
 */
import type { Logger } from "pino";
import type { Gateway } from "../gateway/index.js";
import type { Session } from "../session/index.js";

/** Counters of one bridge, shown in the gateway's Prometheus output (`qi_bridge_*`). */
export interface BridgeMetrics {
  /** Messages from the other framework into qi. */
  messagesIn(n?: number): void;
  /** Messages from qi out to the other framework. */
  messagesOut(n?: number): void;
  /** Messages dropped because a peer of the other framework read too slowly. */
  dropped(n?: number): void;
  /** Subscribers on the other framework's side, now. */
  subscribers(count: number): void;
}

export interface BridgeContext {
  /** Connected to the gateway as the bridge's user (in process, no socket, no token). */
  session: Session;
  /** The user the bridge logs in as (`bridge-<name>` unless the config names another). */
  user: string;
  logger: Logger;
  /**
   * This bridge's settings: its section of the gateway config (`bridges: { <name>: {...} }`)
   * merged with its command-line flags. Unvalidated: the bridge checks what it reads and
   * throws a ConfigError-like message naming the key.
   */
  settings: Readonly<Record<string, unknown>>;
  /** `qi start`: map the simulated robot's services (camera, battery, say, ALMemory). */
  demo: boolean;
  metrics: BridgeMetrics;
  /**
   * The gateway, for bridges that log their own clients in (rosbridge, Foxglove): check
   * credentials with `authenticate` and act for that user with `connectInProcess`.
   */
  gateway: Gateway;
}

export interface RunningBridge {
  /** Lines telling a user where to point the other framework's tools. */
  readonly endpoints: string[];
  close(): Promise<void>;
}

export interface BridgePlugin {
  readonly name: string;
  start(context: BridgeContext): Promise<RunningBridge>;
}

/** A command-line flag of a bridge, e.g. `--ros-master <url>` stored as settings.master. */
export interface BridgeFlag {
  flags: string;
  description: string;
  /** The settings key the value is stored under. */
  key: string;
}

/** What the CLI and the config know of a bridge before loading it (its code loads on use). */
export interface BridgeEntry {
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  /** Printed (and logged) whenever the bridge is enabled. */
  readonly warning: string;
  readonly flags: readonly BridgeFlag[];
  load(): Promise<BridgePlugin>;
}
