/**
 * The robot side: `qi gateway --fleet URL --robot NAME`. Dials NATS, announces the robot with a
 * heartbeat, and serves its gateway to remote clients: each open request becomes a NatsChannel
 * handed to `Gateway.acceptChannel`, so every remote client goes through the full qi handshake,
 * authentication and permissions, as on tcp. Events sent to many remote clients leave once
 * (shared-events.ts).
 */
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { Channel } from "../transport/index.js";
import { parseAnnouncement, type RobotAnnouncement } from "./presence.js";
import { NatsChannel } from "./nats-channel.js";
import { SharedEventPublisher } from "./shared-events.js";
import {
  checkRobotName,
  DEFAULT_SUBJECT_PREFIX,
  discoverSubject,
  isInbox,
  newInbox,
  openSubject,
  presenceSubject,
} from "./subjects.js";

export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_MAX_REMOTE_CLIENTS = 1_000;

export interface RobotOptions {
  nc: NatsConnection;
  robot: string;
  /** Serves one remote client (the gateway's acceptChannel). */
  accept: (channel: Channel) => void;
  /** What the announcement lists. */
  services: () => Promise<string[]> | string[];
  version?: string;
  prefix?: string;
  heartbeatMs?: number;
  /** Remote clients served at once (default 1,000); more are refused with a clear answer. */
  maxClients?: number;
  window?: number;
  maxPayload?: number;
  keepaliveMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export class FleetRobot {
  readonly name: string;
  readonly since = new Date().toISOString();
  readonly events: SharedEventPublisher;
  private readonly prefix: string;
  private readonly channels = new Set<NatsChannel>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(private readonly o: RobotOptions) {
    this.name = checkRobotName(o.robot);
    this.prefix = o.prefix ?? DEFAULT_SUBJECT_PREFIX;
    this.events = new SharedEventPublisher(o.nc);
    o.nc.subscribe(openSubject(this.prefix, this.name), { callback: (_e, m) => this.open(m) });
    o.nc.subscribe(discoverSubject(this.prefix), {
      callback: (_e, m) => {
        void this.announce(m.reply);
      },
    });
    this.timer = setInterval(() => this.announce(), o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Starts serving and announces at once; resolves when NATS has the subscriptions. */
  static async start(o: RobotOptions): Promise<FleetRobot> {
    const r = new FleetRobot(o);
    await o.nc.flush();
    await r.announce();
    return r;
  }

  get clientCount(): number {
    return this.channels.size;
  }

  /** Announces, to the presence subject or to one asker. */
  async announce(reply?: string): Promise<void> {
    if (this.closed) return;
    let services: string[] = [];
    try {
      services = await this.o.services();
    } catch {
      // the Service Directory is away for a moment: announce the robot with no services
    }
    const a: RobotAnnouncement = {
      name: this.name,
      since: this.since,
      services,
      version: this.o.version ?? "",
    };
    this.publish(reply && reply.length < 256 ? reply : presenceSubject(this.prefix), JSON.stringify(a));
  }

  private publish(subject: string, data: string): void {
    try {
      this.o.nc.publish(subject, data);
    } catch {
      // NATS connection closed: the robot is leaving anyway
    }
  }

  private open(m: Msg): void {
    if (!m.reply || this.closed) return;
    let req: { inbox?: unknown; address?: unknown };
    try {
      req = m.data.byteLength <= 1024 ? (m.json() as typeof req) : {};
    } catch {
      req = {};
    }
    if (!isInbox(req.inbox)) {
      m.respond(JSON.stringify({ error: "bad open request" }));
      return;
    }
    const max = this.o.maxClients ?? DEFAULT_MAX_REMOTE_CLIENTS;
    if (this.channels.size >= max) {
      m.respond(JSON.stringify({ error: `robot ${this.name} serves ${max} remote clients already` }));
      return;
    }
    const address = typeof req.address === "string" ? req.address.slice(0, 64) : "";
    const inbox = newInbox();
    const channel = new NatsChannel({
      nc: this.o.nc,
      inbox,
      peer: req.inbox,
      localUrl: `nats:${this.name}`,
      remoteUrl: `nats:${req.inbox}`,
      remoteAddress: address ? `nats/${address}` : "nats",
      publisher: { events: this.events, prefix: this.prefix, robot: this.name },
      window: this.o.window,
      maxPayload: this.o.maxPayload,
      keepaliveMs: this.o.keepaliveMs,
    });
    this.channels.add(channel);
    channel.onClose(() => this.channels.delete(channel));
    this.o.accept(channel);
    m.respond(JSON.stringify({ inbox }));
  }

  /** Says goodbye, closes every remote client's channel. The NATS connection is the caller's. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    const gone: RobotAnnouncement = {
      name: this.name,
      since: this.since,
      services: [],
      version: "",
      gone: true,
    };
    this.publish(presenceSubject(this.prefix), JSON.stringify(gone));
    this.closed = true;
    for (const c of [...this.channels]) c.close();
    await this.o.nc.flush().catch(() => {});
  }
}

export { parseAnnouncement };
