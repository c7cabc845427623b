/**
 * A router between clients and one service, all over in-memory channel pairs (no sockets):
 * real Connections on both ends of every pair, the service a real QiObject served by the
 * object layer, and the gateway's upstream side reduced to a table of that one service.
 */
import pino from "pino";
import { Connection } from "../../../src/connection/index.js";
import { Dispatcher, dispatchModeFromEnv } from "../../../src/dispatch/index.js";
import {
  ClientLink,
  GatewayMetrics,
  Permissions,
  type PermissionsConfig,
} from "../../../src/gateway/index.js";
import { DEFAULT_LIMITS, Router, type RouterLimits } from "../../../src/gateway/router/index.js";
import type { UpstreamView } from "../../../src/gateway/router/target.js";
import { PeerObjects, QiObject } from "../../../src/object/index.js";
import type { ServiceInfo } from "../../../src/session/index.js";
import { type MemoryChannelOptions, memoryChannelPair } from "../../../src/transport/index.js";
import type { MetaObject } from "../../../src/wire/index.js";

export const SERVICE_ID = 7;
export const SERVICE_NAME = "Calc";

/** The gateway's upstream side for one service on one connection. */
class OneService implements UpstreamView {
  constructor(
    readonly info: ServiceInfo,
    readonly conn: Connection,
    readonly meta: MetaObject,
  ) {}
  serviceById(id: number): ServiceInfo | undefined {
    return id === this.info.serviceId ? this.info : undefined;
  }
  connectionNow(id: number): Connection | undefined {
    return id === this.info.serviceId && !this.conn.isClosed ? this.conn : undefined;
  }
  metaObjectNow(_conn: Connection, service: number, object: number): MetaObject | undefined {
    return service === this.info.serviceId && object === 1 ? this.meta : undefined;
  }
  async connectionFor(id: number): Promise<Connection> {
    const conn = this.connectionNow(id);
    if (!conn) throw new Error(`no service #${id}`);
    return conn;
  }
  async metaObject(conn: Connection, service: number, object: number): Promise<MetaObject> {
    const meta = this.metaObjectNow(conn, service, object);
    if (!meta) throw new Error("no such object");
    return meta;
  }
  rememberMetaObject(): void {}
}

export interface RouterWorld {
  router: Router;
  metrics: GatewayMetrics;
  service: Calc;
  /** The gateway's connection to the service, and the service's end of it. */
  upstream: Connection;
  serviceEnd: Connection;
  client(options?: { identity?: string; channel?: MemoryChannelOptions }): Promise<TestClient>;
  close(): Promise<void>;
}

export interface TestClient {
  link: ClientLink;
  /** The client's own end. */
  remote: Connection;
}

const worlds: RouterWorld[] = [];

/** Closes every world made by the test that ends (use in afterEach). */
export async function closeWorlds(): Promise<void> {
  await Promise.all(worlds.splice(0).map((w) => w.close()));
}

export async function routerWorld(
  options: { service?: Calc; limits?: Partial<RouterLimits>; permissions?: PermissionsConfig } = {},
): Promise<RouterWorld> {
  const dispatcher = new Dispatcher({ mode: dispatchModeFromEnv() });
  const service = options.service ?? calc();
  const [up, svc] = memoryChannelPair({ names: ["mem://gateway-up", "mem://service"] });
  const serviceEnd = new Connection(svc, { role: "server" });
  PeerObjects.attach(serviceEnd, {
    dispatcher,
    registry: { mainObject: (id) => (id === SERVICE_ID ? service : undefined) },
  });
  const upstream = new Connection(up, { role: "client" });
  PeerObjects.attach(upstream, { dispatcher });
  await Promise.all([upstream.ready(), serviceEnd.ready()]);
  const info: ServiceInfo = {
    name: SERVICE_NAME,
    serviceId: SERVICE_ID,
    machineId: "m",
    processId: 1,
    endpoints: [],
    sessionId: "s",
    objectUid: "",
  };
  const metrics = new GatewayMetrics();
  const router = new Router(
    new OneService(info, upstream, service.metaObject()),
    new Permissions(options.permissions),
    metrics,
    { ...DEFAULT_LIMITS, ...options.limits },
    pino({ level: "silent" }),
  );
  router.adoptUpstream(upstream);
  const remotes: Connection[] = [];
  const world: RouterWorld = {
    router,
    metrics,
    service,
    upstream,
    serviceEnd,
    async client(o = {}) {
      const [g, c] = memoryChannelPair({ names: ["mem://gateway", "mem://client"], ...o.channel });
      const conn = new Connection(g, { role: "server" });
      PeerObjects.attach(conn, { dispatcher });
      const link = new ClientLink(conn, new QiObject());
      router.addClient(link);
      conn.onClose(() => router.removeClient(link));
      const remote = new Connection(c, { role: "client" });
      PeerObjects.attach(remote, { dispatcher });
      remotes.push(remote);
      await Promise.all([remote.ready(), conn.ready()]);
      conn.identity = o.identity;
      return { link, remote };
    },
    async close() {
      service.release();
      for (const r of remotes) r.close();
      upstream.close();
      await dispatcher.close();
    },
  };
  worlds.push(world);
  return world;
}

/** A service with a quick method, a slow one (answers when `release` is called), an object factory and signals. */
export type Calc = QiObject & { release: () => void; waiting: () => number };

export function calc(): Calc {
  let waiting: Array<() => void> = [];
  const obj = new QiObject({ description: "calc" })
    .method("add", "(ii)", "i", (a: number, b: number) => a + b)
    .method("slow", "(i)", "i", (a: number) => new Promise<number>((r) => waiting.push(() => r(a))))
    .method("echo", "(r)", "r", (r: unknown) => r)
    .method("make", "(s)", "o", (name: string) => new QiObject().method("name", "()", "s", () => name))
    .method("callBack", "(o)", "s", async (cb: { call(m: string, ...args: unknown[]): Promise<unknown> }) =>
      String(await cb.call("call", "hello")),
    )
    .signal("tick", "(i)")
    .signal("other", "(s)") as Calc;
  obj.waiting = () => waiting.length;
  obj.release = () => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  return obj;
}

/** The uid of a member by name. */
export function uid(meta: MetaObject, name: string): number {
  for (const m of meta.methods.values()) if (m.name === name) return m.uid;
  for (const s of meta.signals.values()) if (s.name === name) return s.uid;
  throw new Error(`no member ${name}`);
}

/** Resolves on the next turns of the event loop until `cond` holds (memory channels deliver in macrotasks). */
export async function until(cond: () => boolean, what: string, turns = 2_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}
