/**
 * Who is in the fleet: each robot announces itself (name, online since, services, version) on
 * the presence subject every heartbeat and answers discovery requests; `qi robots` asks and
 * collects the answers for a moment. Announcements come from NATS participants: sizes and
 * fields are checked before they are shown.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { discoverSubject, newInbox } from "./subjects.js";

export interface RobotAnnouncement {
  name: string;
  /** ISO time the robot joined the fleet. */
  since: string;
  services: string[];
  version: string;
  /** Set in the last announcement of a robot that leaves. */
  gone?: boolean;
}

const MAX_ANNOUNCEMENT_BYTES = 64 * 1024;

export function parseAnnouncement(data: Uint8Array): RobotAnnouncement | undefined {
  if (data.byteLength > MAX_ANNOUNCEMENT_BYTES) return undefined;
  try {
    const a = JSON.parse(new TextDecoder().decode(data)) as Partial<RobotAnnouncement>;
    if (typeof a.name !== "string" || typeof a.since !== "string") return undefined;
    const services = Array.isArray(a.services)
      ? a.services.filter((s): s is string => typeof s === "string")
      : [];
    return {
      name: a.name.slice(0, 64),
      since: a.since.slice(0, 40),
      services: services.slice(0, 1000),
      version: typeof a.version === "string" ? a.version.slice(0, 40) : "",
      ...(a.gone === true ? { gone: true } : {}),
    };
  } catch {
    return undefined;
  }
}

export interface ListRobotsOptions {
  prefix: string;
  /** Longest wait for answers (default 1.5 s). */
  timeoutMs?: number;
  /** Stop this long after the last answer (default 300 ms). */
  quietMs?: number;
}

/** Asks every robot of the fleet, sorted by name. */
export async function listRobots(nc: NatsConnection, o: ListRobotsOptions): Promise<RobotAnnouncement[]> {
  const inbox = newInbox();
  const found = new Map<string, RobotAnnouncement>();
  const timeoutMs = o.timeoutMs ?? 1_500;
  const quietMs = o.quietMs ?? 300;
  await new Promise<void>((resolve) => {
    let quiet: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(all);
      clearTimeout(quiet);
      sub.unsubscribe();
      resolve();
    };
    const sub = nc.subscribe(inbox, {
      max: 10_000,
      callback: (_e, m) => {
        const a = parseAnnouncement(m.data);
        if (a && !a.gone) found.set(a.name, a);
        clearTimeout(quiet);
        quiet = setTimeout(done, quietMs);
      },
    });
    const all = setTimeout(done, timeoutMs);
    nc.publish(discoverSubject(o.prefix), "", { reply: inbox });
  });
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
