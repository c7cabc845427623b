/**
 * The client side: a TransportFactory for Session that reaches one robot of the fleet.
 *
 *   const session = new Session({ transport: fleetTransport({ robot: "nao-1" }), user, token });
 *   await session.connect("nats://hub:4222");       // or "nats://hub:4222?robot=nao-1"
 *
 * One NATS connection per factory, shared by its channels (and their shared event
 * subscriptions); closed when its last channel closes.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  type Channel,
  type ConnectOptions,
  TransportError,
  type TransportFactory,
} from "../transport/index.js";
import { type FleetNatsSettings, dialNats, natsServers } from "./nats-options.js";
import { NatsChannel } from "./nats-channel.js";
import { SharedEventSubscriber } from "./shared-events.js";
import {
  checkRobotName,
  DEFAULT_SUBJECT_PREFIX,
  eventSubject,
  isInbox,
  newInbox,
  openSubject,
} from "./subjects.js";

export interface FleetTransportOptions extends Omit<FleetNatsSettings, "servers"> {
  /** The robot to reach (or `?robot=` in the URL). */
  robot?: string;
  prefix?: string;
  /** ms to wait for the robot to answer an open request (default 5 s). */
  openTimeoutMs?: number;
  /** Who the client is, as the robot's gateway logs and rate-limits it (an edge passes its client's address). */
  clientAddress?: string;
  window?: number;
  /** Keep the NATS connection when no channel uses it (an edge; default: close it). */
  keepConnection?: boolean;
}

export function isFleetUrl(url: string): boolean {
  return /^(nats|tls):\/\//.test(url);
}

/** `nats://a:4222,nats://b:4222?robot=x` → servers and robot. */
export function parseFleetUrl(url: string): { servers: string[]; robot?: string } {
  const q = url.indexOf("?");
  const base = q < 0 ? url : url.slice(0, q);
  const robot = q < 0 ? undefined : (new URLSearchParams(url.slice(q + 1)).get("robot") ?? undefined);
  return { servers: natsServers(base), robot };
}

interface Shared {
  nc: NatsConnection;
  events: SharedEventSubscriber;
  users: number;
}

export class FleetTransport implements TransportFactory {
  private shared: Promise<Shared> | undefined;
  private current: Shared | undefined;

  constructor(private readonly options: FleetTransportOptions = {}) {}

  canConnect(url: string): boolean {
    return isFleetUrl(url);
  }

  canListen(): boolean {
    return false;
  }

  async connect(url: string, opts: ConnectOptions = {}): Promise<Channel> {
    const parsed = parseFleetUrl(url);
    return this.connectAs(url, parsed.robot ?? this.options.robot ?? "", this.options.clientAddress, opts);
  }

  /** A channel to `robot` for a client at `clientAddress` (an edge relaying one of its clients). */
  async connectAs(
    url: string,
    robot: string,
    clientAddress?: string,
    opts: ConnectOptions = {},
  ): Promise<Channel> {
    checkRobotName(robot);
    const shared = await this.connection(parseFleetUrl(url).servers);
    shared.users++;
    try {
      return await this.open(shared, robot, url, opts, clientAddress);
    } catch (e) {
      this.release(shared);
      throw e;
    }
  }

  /** The NATS connection of this factory (dialled on first use). */
  async nats(servers: string[]): Promise<NatsConnection> {
    return (await this.connection(servers)).nc;
  }

  private connection(servers: string[]): Promise<Shared> {
    this.shared ??= dialNats({ ...this.options, servers }).then(
      (nc) => {
        const s: Shared = { nc, events: new SharedEventSubscriber(nc), users: 0 };
        nc.closed().then(() => this.forget(s));
        this.current = s;
        return s;
      },
      (e: unknown) => {
        this.shared = undefined;
        throw new TransportError("ERR_CONNECT", `cannot reach NATS at ${servers.join(",")}: ${String(e)}`, {
          cause: e,
        });
      },
    );
    return this.shared;
  }

  private release(s: Shared): void {
    if (--s.users > 0 || this.options.keepConnection) return;
    this.forget(s);
    s.nc.drain().catch(() => s.nc.close());
  }

  /** Closes the NATS connection (channels on it close). */
  async close(): Promise<void> {
    const s = this.current;
    if (!s) return;
    this.forget(s);
    await s.nc.close();
  }

  private forget(s: Shared): void {
    if (this.current !== s) return;
    this.current = undefined;
    this.shared = undefined;
  }

  private async open(
    s: Shared,
    robot: string,
    url: string,
    opts: ConnectOptions,
    clientAddress: string | undefined,
  ): Promise<Channel> {
    const prefix = this.options.prefix ?? DEFAULT_SUBJECT_PREFIX;
    const inbox = newInbox();
    const channel = new NatsChannel({
      nc: s.nc,
      inbox,
      peer: inbox, // replaced below, before anything is sent
      localUrl: `nats:${inbox}`,
      remoteUrl: `${url.split("?")[0]}?robot=${robot}`,
      remoteAddress: `robot ${robot}`,
      subscriber: { events: s.events, subjectOf: (key) => eventSubject(prefix, robot, key) },
      window: this.options.window,
      maxPayload: opts.maxPayload,
    });
    let reply: { inbox?: unknown; error?: unknown };
    try {
      const request = JSON.stringify({ inbox, address: clientAddress });
      const m = await s.nc.request(openSubject(prefix, robot), request, {
        timeout: this.options.openTimeoutMs ?? 5_000,
      });
      reply = m.json<typeof reply>();
    } catch (e) {
      channel.destroy();
      const why = /no responders|503/i.test(String(e)) ? "is not online" : `did not answer (${String(e)})`;
      throw new TransportError("ERR_CONNECT", `robot ${robot} ${why}`, { cause: e });
    }
    if (typeof reply.error === "string" || !isInbox(reply.inbox)) {
      channel.destroy();
      throw new TransportError(
        "ERR_CONNECT",
        `robot ${robot} refused: ${String(reply.error ?? "bad answer")}`,
      );
    }
    channel.connectTo(reply.inbox);
    channel.onClose(() => this.release(s));
    return channel;
  }
}

export function fleetTransport(options: FleetTransportOptions = {}): FleetTransport {
  return new FleetTransport(options);
}
