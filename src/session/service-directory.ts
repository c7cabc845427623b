/**
 * The Service Directory object (service 1, spec §4): names → ServiceInfo, pending → ready,
 * ids never reused, and every service of a vanished connection unregistered. Member ids come
 * out as libqi's (100 service … 109 _socketOfService) because they are declared in that order.
 */
import type { Connection } from "../connection/index.js";
import { QiError } from "../connection/index.js";
import { Capability } from "../connection/index.js";
import { QiObject } from "../object/index.js";
import { sortEndpoints } from "../transport/index.js";
import {
  type ServiceInfo,
  SERVICE_INFO_SIGNATURE,
  serviceInfoFromValue,
  serviceInfoToStruct,
} from "./service-info.js";

export const SERVICE_DIRECTORY_ID = 1;
export const SERVICE_DIRECTORY_NAME = "ServiceDirectory";

interface Entry {
  info: ServiceInfo;
  ready: boolean;
  /** The connection it was registered through; undefined for in-process registrations. */
  owner: Connection | undefined;
}

export interface ServiceDirectoryOptions {
  machineId: string;
  /** The directory's own listening endpoints (its ServiceInfo). */
  endpoints: () => string[];
}

export class ServiceDirectory {
  readonly object: QiObject;
  private readonly entries = new Map<number, Entry>();
  private readonly byName = new Map<string, number>();
  private lastId = 0;
  private readonly watched = new WeakSet<Connection>();
  private readonly options: ServiceDirectoryOptions;

  constructor(options: ServiceDirectoryOptions) {
    this.options = options;
    const sd = this;
    const INFO = SERVICE_INFO_SIGNATURE;
    this.object = new QiObject({ description: "" })
      .method("service", "(s)", INFO, function (name: string) {
        return serviceInfoToStruct(sd.service(name, relativeOk(this.connection)));
      })
      .method("services", "()", `[${INFO}]`, function () {
        return sd.services(relativeOk(this.connection)).map(serviceInfoToStruct);
      })
      .method("registerService", `(${INFO})`, "I", function (info: unknown) {
        return sd.registerService(serviceInfoFromValue(info), this.connection);
      })
      .method("unregisterService", "(I)", "v", (id: number) => sd.unregisterService(id))
      .method("serviceReady", "(I)", "v", (id: number) => sd.serviceReady(id))
      .method("updateServiceInfo", `(${INFO})`, "v", (info: unknown) =>
        sd.updateServiceInfo(serviceInfoFromValue(info)),
      )
      .signal("serviceAdded", "(Is)")
      .signal("serviceRemoved", "(Is)")
      .method("machineId", "()", "s", () => options.machineId)
      // Local helper in libqi (returns the registering socket); meaningless remotely (spec §4.1).
      .method("_socketOfService", "(I)", "o", () => null);
    // The directory registers itself first, as id 1, ready (spec §4.2).
    const id = this.register(
      {
        name: SERVICE_DIRECTORY_NAME,
        serviceId: 0,
        machineId: options.machineId,
        processId: process.pid,
        endpoints: [],
        sessionId: "0",
        objectUid: "",
      },
      undefined,
    );
    this.entries.get(id)!.ready = true;
  }

  service(name: string, relative = true): ServiceInfo {
    const id = this.byName.get(name);
    if (id === undefined) throw new QiError("ERR_NO_SUCH_SERVICE", `Cannot find service '${name}' in index`);
    const entry = this.entries.get(id)!;
    if (!entry.ready)
      throw new QiError("ERR_NO_SUCH_SERVICE", `Cannot find ServiceInfo for service '${name}'`);
    return this.published(entry, relative);
  }

  /** Ready services, ordered by id. */
  services(relative = true): ServiceInfo[] {
    return [...this.entries.values()].filter((e) => e.ready).map((e) => this.published(e, relative));
  }

  registerService(info: ServiceInfo, owner: Connection | undefined): number {
    return this.register(info, owner);
  }

  unregisterService(id: number): void {
    const entry = this.entries.get(id);
    if (!entry) throw new QiError("ERR_NO_SUCH_SERVICE", `Can't find service #${id}`);
    if (id === SERVICE_DIRECTORY_ID)
      throw new QiError("ERR_BAD_ARGUMENTS", "the ServiceDirectory cannot be unregistered");
    this.entries.delete(id);
    this.byName.delete(entry.info.name);
    this.object.emit("serviceRemoved", id, entry.info.name);
  }

  serviceReady(id: number): void {
    const entry = this.entries.get(id);
    if (!entry || entry.ready) throw new QiError("ERR_NO_SUCH_SERVICE", `Can't find pending service #${id}`);
    entry.ready = true;
    this.object.emit("serviceAdded", id, entry.info.name);
  }

  /** Replaces a service's info, and the endpoints of every ready service of the same session. */
  updateServiceInfo(info: ServiceInfo): void {
    const entry = this.entries.get(info.serviceId);
    if (!entry) throw new QiError("ERR_NO_SUCH_SERVICE", `Can't find service #${info.serviceId}`);
    entry.info = { ...info, name: entry.info.name };
    for (const other of this.entries.values()) {
      if (
        other !== entry &&
        other.ready &&
        other.info.sessionId === info.sessionId &&
        info.sessionId !== ""
      ) {
        other.info = { ...other.info, endpoints: [...info.endpoints] };
      }
    }
  }

  /** Registers a service living in this process (no owning connection). */
  registerLocal(info: ServiceInfo): number {
    return this.register(info, undefined);
  }

  idOf(name: string): number | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.entries.size;
  }

  private register(info: ServiceInfo, owner: Connection | undefined): number {
    const existing = this.byName.get(info.name);
    if (existing !== undefined) {
      throw new QiError(
        "ERR_BAD_ARGUMENTS",
        `Service "${info.name}" (#${existing}) is already registered. Rejecting conflicting registration attempt.`,
      );
    }
    if (info.name === "") throw new QiError("ERR_BAD_ARGUMENTS", "a service needs a name");
    const id = ++this.lastId; // never reused
    this.entries.set(id, { info: { ...info, serviceId: id }, ready: false, owner });
    this.byName.set(info.name, id);
    if (owner && !this.watched.has(owner)) {
      this.watched.add(owner);
      // The services of a vanished connection go away with it (spec §4.2).
      owner.onClose(() => this.dropServicesOf(owner));
    }
    return id;
  }

  private dropServicesOf(owner: Connection): void {
    for (const [id, entry] of [...this.entries]) {
      if (entry.owner !== owner) continue;
      this.entries.delete(id);
      this.byName.delete(entry.info.name);
      // Pending ones too, as an explicit unregisterService does (spec §4.2).
      this.object.emit("serviceRemoved", id, entry.info.name);
    }
  }

  /**
   * The info as libqi 4.x publishes it (spec §4.2): relative endpoints from the registrant
   * dropped, duplicates removed, `qi:X` added for every service X whose endpoints are all
   * among this one's (when the caller understands relative endpoints), sorted by preference.
   */
  private published(entry: Entry, relative: boolean): ServiceInfo {
    const info = entry.info;
    const own = info.serviceId === SERVICE_DIRECTORY_ID ? this.options.endpoints() : info.endpoints;
    const absolute = [...new Set(own.filter((e) => !e.startsWith("qi:")))];
    const endpoints = [...absolute];
    if (relative && absolute.length > 0) {
      const set = new Set(absolute);
      for (const other of this.entries.values()) {
        if (!other.ready) continue;
        const otherEndpoints = (
          other.info.serviceId === SERVICE_DIRECTORY_ID ? this.options.endpoints() : other.info.endpoints
        ).filter((e) => !e.startsWith("qi:"));
        if (otherEndpoints.length > 0 && otherEndpoints.every((e) => set.has(e)))
          endpoints.push(`qi:${other.info.name}`);
      }
    }
    return { ...info, endpoints: sortEndpoints(endpoints) };
  }
}

function relativeOk(conn: Connection): boolean {
  return conn.shared(Capability.RelativeEndpointURI);
}
