/**
 * The services a Session hosts: registering them with its directory (a remote one, or its own
 * after listenStandalone), making them ready, unregistering them, and registering them again
 * after the directory was lost and found (ids may change; callers keep the first one).
 */
import { QiError } from "../connection/errors.js";
import { QiObject, type RemoteObject, type RequestForwarder, type ServiceRegistry } from "../object/index.js";
import { Strand } from "../dispatch/index.js";
import { SERVICE_DIRECTORY_ID, type ServiceDirectory } from "./service-directory.js";
import { type ServiceInfo, serviceInfoToStruct, uidAsString } from "./service-info.js";

/** A service registered again after a reconnection: the id it was first given, the new one. */
export interface ReregisteredService {
  name: string;
  firstId: number;
  id: number;
}

interface Hosted {
  name: string;
  object: QiObject | RequestForwarder;
  /** Made visible (serviceReady), to be made visible again after a reconnection. */
  ready: boolean;
  /** The id registerService returned; callers keep using it after a re-registration. */
  firstId: number;
  /** Unregistered while the directory was being reached again. */
  removed?: boolean;
}

/** What the host needs of its Session. */
export interface HostContext {
  machineId: string;
  sessionId: string;
  /** The directory proxy; throws ERR_DISCONNECTED without one. */
  sd(): RemoteObject;
  /** This session's own directory (listenStandalone), if it is one. */
  directory(): ServiceDirectory | undefined;
  /** The endpoints to publish for the hosted services. */
  endpoints(): string[];
  /** Listens somewhere if the session does not yet (a host must be reachable). */
  ensureListening(): Promise<void>;
  /** The directory is being reached again: ids are not to be sent to it meanwhile. */
  reconnecting(): boolean;
}

export class ServiceHost {
  /** Services this session hosts: service id → main object. */
  private readonly hosted = new Map<number, Hosted>();
  /** First id → current id, for services registered again under a new id. */
  private readonly currentIds = new Map<number, number>();
  /** Serves the main objects of the hosted services (and of the own directory) to peers. */
  readonly registry: ServiceRegistry;

  constructor(private readonly ctx: HostContext) {
    this.registry = {
      mainObject: (id) => (id === SERVICE_DIRECTORY_ID ? ctx.directory()?.object : this.byId(id)?.object),
    };
  }

  get size(): number {
    return this.hosted.size;
  }

  async register(name: string, object: QiObject | RequestForwarder, ready: boolean): Promise<number> {
    if (object instanceof QiObject && object.wantsStrand && !object.strand) object.strand = new Strand();
    const directory = this.ctx.directory();
    if (directory) {
      // In-process registration on our own directory: reachable over our listeners.
      const id = directory.registerLocal(this.infoFor(name, object));
      this.hosted.set(id, { name, object, ready, firstId: id });
      if (ready) directory.serviceReady(id);
      return id;
    }
    await this.ctx.ensureListening();
    const sd = this.ctx.sd();
    const id = await sd.call<number>("registerService", serviceInfoToStruct(this.infoFor(name, object)));
    const entry: Hosted = { name, object, ready: false, firstId: id };
    this.hosted.set(id, entry);
    if (!ready) return id;
    try {
      await sd.call("serviceReady", id);
      entry.ready = true;
    } catch (e) {
      // Not left half-registered with the directory either.
      this.hosted.delete(id);
      await sd.call("unregisterService", id).catch(() => {});
      throw e;
    }
    return id;
  }

  async ready(id: number): Promise<void> {
    const entry = this.entry(id);
    if (!this.ctx.reconnecting()) {
      const directory = this.ctx.directory();
      if (directory) directory.serviceReady(this.current(id));
      else await this.ctx.sd().call("serviceReady", this.current(id));
    }
    // While reconnecting our ids mean nothing to the directory: made ready once registered again.
    entry.ready = true;
  }

  async unregister(id: number): Promise<void> {
    const current = this.current(id);
    const entry = this.entry(id);
    if (this.ctx.reconnecting()) {
      // Never send an old id to the directory being reached again: it may be another host's
      // service there. Forgotten here; registerAgain drops it (or unregisters its new id).
      entry.removed = true;
      this.forget(current, entry);
      return;
    }
    try {
      const directory = this.ctx.directory();
      if (directory) directory.unregisterService(current);
      else await this.ctx.sd().call("unregisterService", current);
    } finally {
      this.forget(current, entry);
    }
  }

  /** Tells the directory the new endpoints of every hosted service (after a new listener). */
  async publishEndpoints(): Promise<void> {
    const sd = this.ctx.sd();
    for (const [id, { name, object }] of this.hosted) {
      await sd.call(
        "updateServiceInfo",
        serviceInfoToStruct({ ...this.infoFor(name, object), serviceId: id }),
      );
    }
  }

  /**
   * Registers each hosted service with the (new) directory, in the order they were first
   * registered, then makes the ready ones visible: the new ids are all known to our registry
   * before any client can see them (and a new id may be another service's old one).
   */
  async registerAgain(): Promise<ReregisteredService[]> {
    const sd = this.ctx.sd();
    const entries = [...this.hosted.values()];
    const ids: number[] = [];
    for (const entry of entries) {
      ids.push(
        await sd.call<number>("registerService", serviceInfoToStruct(this.infoFor(entry.name, entry.object))),
      );
    }
    const out: ReregisteredService[] = [];
    // Only the entries registered again move: a service registered meanwhile keeps its id.
    const moving = new Set(entries);
    for (const [id, entry] of this.hosted) if (moving.has(entry)) this.hosted.delete(id);
    for (const [i, entry] of entries.entries()) {
      const id = ids[i]!;
      if (entry.removed) {
        await sd.call("unregisterService", id);
        continue;
      }
      this.hosted.set(id, entry);
      if (id === entry.firstId) this.currentIds.delete(entry.firstId);
      else this.currentIds.set(entry.firstId, id);
      out.push({ name: entry.name, firstId: entry.firstId, id });
    }
    for (const { id } of out) if (this.hosted.get(id)?.ready) await sd.call("serviceReady", id);
    return out;
  }

  /** A hosted service by its current id, or by the id it had before a re-registration. */
  private byId(id: number): Hosted | undefined {
    return this.hosted.get(id) ?? this.hosted.get(this.currentIds.get(id) ?? -1);
  }

  private current(id: number): number {
    return this.currentIds.get(id) ?? id;
  }

  private entry(id: number): Hosted {
    const entry = this.hosted.get(this.current(id));
    if (!entry) throw new QiError("ERR_NO_SUCH_SERVICE", `this session hosts no service #${id}`);
    return entry;
  }

  private forget(current: number, entry: Hosted): void {
    this.hosted.delete(current);
    this.currentIds.delete(entry.firstId);
  }

  private infoFor(name: string, object: { uid: Uint8Array }): ServiceInfo {
    return {
      name,
      serviceId: 0,
      machineId: this.ctx.machineId,
      processId: runtimeProcessId(),
      endpoints: this.ctx.endpoints(),
      sessionId: this.ctx.sessionId,
      objectUid: uidAsString(object.uid),
    };
  }
}

/** The process id on Node; 0 where there is no process (a web page), as libqi's JS client sent. */
function runtimeProcessId(): number {
  return (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
}
