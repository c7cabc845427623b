/**
 * The service proxies a Session has handed out, kept across losses so that the proxies the app
 * holds keep working: one per name, suspended while its service is gone (calls fail at once
 * with ERR_DISCONNECTED and a reason), and rebound when it is back, on whatever connection and
 * under whatever id the directory then gives it, with every signal subscription registered
 * again once. Objects passed by reference are not here: they cannot be re-created.
 */
import { QiError } from "../connection/errors.js";
import type { Connection } from "../connection/index.js";
import { PeerObjects, type RemoteObject } from "../object/index.js";
import { fetchMetaObject, fetchProxy } from "./connections.js";
import type { ServiceInfo } from "./service-info.js";

export interface HeldServicesHooks {
  /** Where the named service is now (throws when it is not registered). */
  locate(name: string): Promise<{ connection: Connection; info: ServiceInfo }>;
  /** The service was reached through `conn` (for `qi:X` endpoints). */
  reachedThrough(name: string, conn: Connection): void;
}

export class HeldServices {
  private readonly proxies = new Map<string, Promise<RemoteObject>>();
  private readonly restoring = new Map<string, Promise<RemoteObject>>();

  constructor(private readonly hooks: HeldServicesHooks) {}

  /** The proxy of `name`: made on first use, brought back to life when it was suspended or cut. */
  get(name: string): Promise<RemoteObject> {
    const held = this.proxies.get(name);
    if (held === undefined) {
      const made = this.make(name);
      this.proxies.set(name, made);
      made.catch(() => {
        if (this.proxies.get(name) === made) this.proxies.delete(name);
      });
      return made;
    }
    return held.then((proxy) => (proxy.isUsable ? proxy : this.restore(name, proxy)));
  }

  /** The service is gone (unregistered, or the directory lost): its proxy waits for it. */
  suspend(name: string, reason: string): void {
    this.proxies.get(name)?.then(
      (p) => p.suspend(reason),
      () => {},
    );
  }

  suspendAll(reason: (name: string) => string): void {
    for (const name of this.proxies.keys()) this.suspend(name, reason(name));
  }

  /** A service of that name was registered: a proxy the app holds for it is rebound now. */
  async registered(name: string): Promise<void> {
    const held = this.proxies.get(name);
    if (held === undefined) return;
    const proxy = await held.catch(() => undefined);
    if (proxy !== undefined && !proxy.isUsable) await this.restore(name, proxy).catch(() => {});
  }

  /** After a reconnection: every proxy held is rebound if its service is there (else on its registration). */
  async restoreAll(): Promise<void> {
    await Promise.all([...this.proxies.keys()].map((name) => this.registered(name)));
  }

  /** Proxies rebound and their signals registered again; the names whose service is not back. */
  async missing(): Promise<string[]> {
    const out: string[] = [];
    for (const [name, p] of this.proxies) if (!(await p.catch(() => undefined))?.isUsable) out.push(name);
    return out;
  }

  forget(): void {
    this.proxies.clear();
  }

  private async make(name: string): Promise<RemoteObject> {
    const { connection, info } = await this.hooks.locate(name);
    const proxy = await fetchProxy(connection, info.serviceId);
    this.hooks.reachedThrough(name, connection);
    return proxy;
  }

  /** One restoration per name at a time: a reconnection and a serviceAdded may both ask. */
  private restore(name: string, proxy: RemoteObject): Promise<RemoteObject> {
    const running = this.restoring.get(name);
    if (running !== undefined) return running;
    const restoring = (async () => {
      const { connection, info } = await this.hooks.locate(name);
      const peer = PeerObjects.of(connection);
      if (peer === undefined) throw new QiError("ERR_DISCONNECTED", `no connection to service "${name}"`);
      await proxy.rebind(peer, info.serviceId, await fetchMetaObject(connection, info.serviceId));
      this.hooks.reachedThrough(name, connection);
      return proxy;
    })().finally(() => {
      if (this.restoring.get(name) === restoring) this.restoring.delete(name);
    });
    this.restoring.set(name, restoring);
    return restoring;
  }
}
