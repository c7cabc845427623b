/**
 * NATS subject names of the fleet, all under one prefix (default `qi.fleet`), and the check of a
 * robot name: one subject token, so a name can never reach into another robot's subjects.
 */
import { randomBytes } from "node:crypto";

export const DEFAULT_SUBJECT_PREFIX = "qi.fleet";

const ROBOT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function checkRobotName(name: string): string {
  if (!ROBOT_NAME.test(name))
    throw new Error(`bad robot name "${name}": 1 to 64 letters, digits, '-' or '_'`);
  return name;
}

/** Request subject a client opens a channel with (reply: the robot's end). */
export const openSubject = (prefix: string, robot: string) => `${prefix}.robot.${robot}.open`;
/** Where robots announce themselves (heartbeat) and answer `qi robots`. */
export const presenceSubject = (prefix: string) => `${prefix}.presence`;
export const discoverSubject = (prefix: string) => `${prefix}.discover`;
/** Where a robot publishes an event once for every remote subscriber of it. */
export const eventSubject = (prefix: string, robot: string, key: string) =>
  `${prefix}.robot.${robot}.ev.${key}`;

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A fresh inbox subject, `_INBOX.` + 22 random base-62 characters (as nats.js makes them). */
export function newInbox(): string {
  const bytes = randomBytes(22);
  let id = "";
  for (const b of bytes) id += ALPHABET[b % 62];
  return `_INBOX.${id}`;
}

/** A peer's reply subject is checked before use: an inbox, nothing else. */
const INBOX = /^_INBOX\.[A-Za-z0-9]{8,64}$/;
export function isInbox(s: unknown): s is string {
  return typeof s === "string" && INBOX.test(s);
}
