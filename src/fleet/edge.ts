/**
 * An edge gateway: serves every robot of the fleet to clients that only speak qi (libqi, the
 * browser client, the qi command) on tcp/tcps/ws/wss listeners. It is a relay, not a second
 * gateway: each client gets its own channel to its robot over NATS, and the robot's gateway
 * does the handshake, authentication and permissions with the client's own credentials.
 *
 * Which robot: the edge reads the user name from the client's authenticate call (the first qi
 * call of every libqi client) and looks it up in `robotOfUser` (the config's
 * `fleet.users: { alice: nao-1 }`), else takes the edge's default robot (`--robot`); a client
 * with neither is refused. Any number of edges can run; they hold no state.
 */
import { decodeHandshakeMap } from "../connection/index.js";
import { type Channel, type Listener, type ListenOptions, listen } from "../transport/index.js";
import { type Message, MessageType } from "../wire/index.js";
import { pipeChannels } from "./pipe.js";
import type { FleetTransport } from "./transport.js";

export const DEFAULT_EDGE_MAX_CLIENTS = 10_000;
/** Messages a client may send before its authenticate call (libqi: one Capability message). */
const MAX_MESSAGES_BEFORE_AUTH = 16;
const AUTHENTICATE_ACTION = 8;

export interface EdgeOptions {
  /** The fleet's NATS URL(s) (what FleetTransport connects with). */
  url: string;
  transport: FleetTransport;
  listen: string[];
  listenOptions?: ListenOptions;
  /** The robot of a user (undefined: the default robot). */
  robotOfUser?: (user: string) => string | undefined;
  defaultRobot?: string;
  maxClients?: number;
  /** ms a client has to send its authenticate call (default 10 s). */
  handshakeTimeoutMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export class FleetEdge {
  private listeners: Listener[] = [];
  private readonly clients = new Set<Channel>();

  private constructor(private readonly o: EdgeOptions) {}

  static async start(o: EdgeOptions): Promise<FleetEdge> {
    const edge = new FleetEdge(o);
    try {
      for (const url of o.listen)
        edge.listeners.push(await listen(url, o.listenOptions ?? {}, (c) => edge.accept(c)));
    } catch (e) {
      await edge.close();
      throw e;
    }
    return edge;
  }

  endpoints(): string[] {
    return this.listeners.flatMap((l) => l.endpoints());
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.close();
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners = [];
  }

  private accept(client: Channel): void {
    if (this.clients.size >= (this.o.maxClients ?? DEFAULT_EDGE_MAX_CLIENTS)) {
      client.destroy(new Error("edge serves its maximum of clients"));
      return;
    }
    this.clients.add(client);
    client.onClose(() => this.clients.delete(client));
    client.setMaxPayload(64 * 1024); // before authentication, as the gateway does
    const early: Message[] = [];
    const timer = setTimeout(
      () => client.destroy(new Error("no authenticate call in time")),
      this.o.handshakeTimeoutMs ?? 10_000,
    );
    timer.unref();
    const stop = client.onMessage((m) => {
      early.push(m);
      if (early.length > MAX_MESSAGES_BEFORE_AUTH) {
        client.destroy(new Error("too many messages before authentication"));
        return;
      }
      if (
        m.type !== MessageType.Call ||
        m.service !== 0 ||
        m.object !== 0 ||
        m.action !== AUTHENTICATE_ACTION
      )
        return;
      stop();
      clearTimeout(timer);
      client.pause();
      const robot = this.robotFor(m);
      if (!robot) {
        client.destroy(new Error("no robot for this user on this edge"));
        return;
      }
      this.relay(client, robot, early).catch((e: unknown) => {
        this.o.log?.("cannot reach robot", { robot, error: String(e) });
        client.destroy(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  private robotFor(auth: Message): string | undefined {
    let user: unknown;
    try {
      const map = decodeHandshakeMap(auth.payload, "stop");
      user = map.get("user") ?? map.get("auth_user");
    } catch {
      return undefined;
    }
    const chosen = typeof user === "string" ? this.o.robotOfUser?.(user) : undefined;
    return chosen ?? this.o.defaultRobot;
  }

  private async relay(client: Channel, robot: string, early: Message[]): Promise<void> {
    const upstream = await this.o.transport.connectAs(this.o.url, robot, client.remoteAddress);
    if (client.closed) {
      upstream.close();
      return;
    }
    client.setMaxPayload(50_000_000);
    for (const m of early) upstream.send(m);
    pipeChannels(client, upstream);
    client.resume();
  }
}
