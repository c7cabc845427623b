/**
 * Services that external clients register through the gateway (off by default): each one is
 * registered in the internal Service Directory by the gateway's own session (see
 * ExternalService for how requests reach the client).
 *
 * When the directory restarts, every service whose client is still connected is registered
 * again (and made ready again if it was): the client is not told to do anything, its service
 * comes back, possibly under another id inside, which the gateway translates. A name taken
 * in the new directory by then wins over the client's: that registration is dropped, with a
 * warning, and the client's registration calls for it answer as for an unknown service.
 */
import type { Logger } from "pino";
import { errorText } from "../connection/index.js";
import { QiError } from "../connection/index.js";
import { Reserved } from "../object/index.js";
import type { ServiceInfo } from "../session/index.js";
import { encode } from "../wire/index.js";
import { ByteString } from "../wire/index.js";
import { decodeMetaObject } from "../wire/index.js";
import type { ClientLink } from "./client-link.js";
import { ExternalService } from "./external-service.js";
import type { Permissions } from "./permissions.js";
import type { Upstream } from "./upstream.js";

export interface ExternalServicesOptions {
  upstream: Upstream;
  permissions: Permissions;
  logger: Logger;
  /** Services one client may have registered at once (default 16). */
  maxRegistrations?: number;
  /** Longest service name a client may register (default 256 characters). */
  maxNameLength?: number;
}

/** The services external clients registered (by their owner and the id it was given). */
export class ExternalServices {
  private readonly services = new Set<ExternalService>();
  /** Registrations each client has under way (awaiting the directory). */
  private readonly registering = new Map<ClientLink, number>();
  /** Counts directory losses: work begun before one is not carried on after it. */
  private attachment = 0;

  constructor(private readonly options: ExternalServicesOptions) {
    options.upstream.on("detached", () => this.directoryLost());
    options.upstream.on("attached", () => void this.registerAllAgain());
  }

  /** Registers `info.name` for `owner` (pending); resolves with the id the directory gave it. */
  async register(owner: ClientLink, info: ServiceInfo): Promise<number> {
    const name = info.name;
    const maxName = this.options.maxNameLength ?? 256;
    if (name.length > maxName) {
      // Logged (the logger clips the name) so an operator sees who tries.
      this.options.logger.warn(
        { client: owner.number, user: owner.identity, service: name },
        "service registration refused: name too long",
      );
      throw new QiError(
        "ERR_BAD_ARGUMENTS",
        `Service name longer than ${maxName} characters (${name.length}).`,
      );
    }
    if (!this.options.permissions.allows(owner.identity, "register", name)) {
      throw new QiError("ERR_PERMISSION", `Permission denied: cannot register service "${name}".`);
    }
    // Registrations under way count too: parallel calls must not get past the limit.
    const max = this.options.maxRegistrations ?? 16;
    const underWay = this.registering.get(owner) ?? 0;
    let owned = underWay;
    for (const service of this.services) if (service.owner === owner) owned++;
    if (owned >= max) {
      throw new QiError("ERR_LIMIT", `Too many services registered by this client (limit ${max}).`);
    }
    if (this.options.upstream.serviceByName(name)) {
      throw new QiError("ERR_BAD_ARGUMENTS", `Service "${name}" is already registered.`);
    }
    const service = new ExternalService(name, owner, uidBytes(info.objectUid));
    const attachment = this.attachment;
    this.registering.set(owner, underWay + 1);
    let id: number;
    try {
      id = await this.options.upstream.registerForwarded(name, service);
    } finally {
      const left = (this.registering.get(owner) ?? 1) - 1;
      if (left > 0) this.registering.set(owner, left);
      else this.registering.delete(owner);
    }
    // Registered in a directory that is gone already: the client should try again.
    if (attachment !== this.attachment)
      throw new QiError("ERR_DISCONNECTED", "the service directory went away during the registration");
    service.ownerId = id;
    service.internalId = id;
    this.services.add(service);
    if (owner.conn.isClosed) this.releaseAll(owner);
    return id;
  }

  /**
   * serviceReady from the owner: its MetaObject is read (the owner serves the object under
   * its id only once it knows the id, so not earlier), then the service becomes visible inside.
   * While the directory is away it is made ready when registered again.
   */
  async ready(owner: ClientLink, id: number): Promise<void> {
    const service = this.owned(owner, id);
    try {
      const reply = await owner.conn.call(
        { service: id, object: 1, action: Reserved.metaObject },
        encode("(I)", [id]),
      );
      service.meta = decodeMetaObject(reply.payload);
    } catch (e) {
      throw new QiError("ERR_REMOTE", `cannot read the MetaObject of "${service.name}": ${errorText(e)}`);
    }
    service.announced = true;
    if (service.internalId !== 0) await this.options.upstream.serviceReady(service.internalId);
    this.options.logger.info(
      {
        client: owner.number,
        user: owner.identity,
        service: service.name,
        id,
        internalId: service.internalId,
      },
      "external service registered",
    );
  }

  async unregister(owner: ClientLink, id: number): Promise<void> {
    const service = this.owned(owner, id);
    await this.forget(service);
    this.options.logger.info(
      { client: owner.number, service: service.name, id },
      "external service unregistered",
    );
  }

  /** Whether `id` (as the owner knows it) is one of the owner's services. */
  owns(owner: ClientLink, id: number): boolean {
    return this.find(owner, id) !== undefined;
  }

  /** The owner left: its services leave the internal directory. */
  releaseAll(owner: ClientLink): void {
    for (const service of [...this.services]) {
      if (service.owner !== owner) continue;
      this.forget(service).catch(() => {});
      this.options.logger.info(
        { client: owner.number, service: service.name, id: service.ownerId },
        "external service gone with its client",
      );
    }
  }

  /** The Service Directory is gone, and the registrations with it; the services wait for the next one. */
  private directoryLost(): void {
    this.attachment++;
    for (const service of this.services) service.detach();
  }

  /** Attached again: every service of a connected client is registered in the new directory. */
  private async registerAllAgain(): Promise<void> {
    const attachment = this.attachment;
    // One after the other: the session's first registration opens its listener.
    for (const service of [...this.services]) {
      if (attachment !== this.attachment) return;
      if (this.services.has(service) && !service.owner.conn.isClosed)
        await this.registerAgain(service, attachment);
    }
  }

  private async registerAgain(service: ExternalService, attachment: number): Promise<void> {
    const upstream = this.options.upstream;
    if (upstream.serviceByName(service.name)) {
      this.drop(service, "the name is taken in the new service directory");
      return;
    }
    let id: number;
    try {
      id = await upstream.registerForwarded(service.name, service);
    } catch (e) {
      if (attachment === this.attachment && this.services.has(service)) this.drop(service, errorText(e));
      return;
    }
    if (attachment !== this.attachment) return; // gone again: the next attachment retries
    if (!this.services.has(service)) {
      // Unregistered, or its client left, while this was under way.
      upstream.unregisterForwarded(id).catch(() => {});
      return;
    }
    service.internalId = id;
    if (service.announced) {
      try {
        await upstream.serviceReady(id);
      } catch (e) {
        if (attachment !== this.attachment || !this.services.has(service)) return;
        this.drop(service, errorText(e)); // which unregisters `id` too
        return;
      }
    }
    this.options.logger.info(
      { client: service.owner.number, service: service.name, id: service.ownerId, internalId: id },
      "external service registered again in the new service directory",
    );
  }

  /** A service that cannot be registered again: the client's registration is gone. */
  private drop(service: ExternalService, reason: string): void {
    this.forget(service).catch(() => {});
    this.options.logger.warn(
      {
        client: service.owner.number,
        user: service.owner.identity,
        service: service.name,
        id: service.ownerId,
        reason,
      },
      "external service dropped: cannot register it again after the service directory restarted",
    );
  }

  /** No longer ours to forward; it leaves the directory it is registered in, if any. */
  private forget(service: ExternalService): Promise<void> {
    this.services.delete(service);
    service.dispose();
    return service.internalId === 0
      ? Promise.resolve()
      : this.options.upstream.unregisterForwarded(service.internalId);
  }

  private find(owner: ClientLink, id: number): ExternalService | undefined {
    for (const service of this.services)
      if (service.owner === owner && service.ownerId === id) return service;
    return undefined;
  }

  private owned(owner: ClientLink, id: number): ExternalService {
    const service = this.find(owner, id);
    if (!service)
      throw new QiError("ERR_NO_SUCH_SERVICE", `Service #${id} was not registered by this client.`);
    return service;
  }
}

/** ServiceInfo.objectUid arrives as a (binary) string; the forwarder keeps its 20 bytes. */
function uidBytes(uid: ServiceInfo["objectUid"]): Uint8Array {
  const bytes = uid instanceof ByteString ? uid.bytes : new TextEncoder().encode(uid);
  const out = new Uint8Array(20);
  out.set(bytes.subarray(0, 20));
  return out;
}
