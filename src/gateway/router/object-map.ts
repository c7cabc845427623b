/**
 * Object ids across the gateway, both ways (spec §2.6, §5.7):
 * - an object a service hands to a client (a returned object, an event argument) gets an id
 *   of that client's own; the upstream object is released (terminate) with its last holder;
 * - an object a client passes upstream (a callback) gets a random gateway id on that upstream
 *   connection, and the events the client emits on it are forwarded there.
 * Indexes are keyed by connection and ids; losing a client or an upstream connection drops
 * exactly its branch of them.
 */
import { randomInt } from "node:crypto";
import type { Connection } from "../../connection/index.js";
import { postTerminate } from "../../object/index.js";
import { type Message, MessageFlags, ObjectRef } from "../../wire/index.js";
import type { ClientLink, ExportTarget, UpstreamExport, UpstreamObject } from "../client-link.js";
import type { Upstream } from "../upstream.js";
import { listenToEvents } from "./connection-hooks.js";
import { Index3 } from "./nested-maps.js";
import { mapObjects } from "./payloads.js";

/** Client object ids at or above this are the client's own (spec §5.7); below, handed to it by us. */
const CLIENT_OWN_IDS = 0x80000000;

export class ObjectMap {
  /** Upstream objects clients hold: (upstream connection, service, object). */
  private readonly held = new Index3<Connection, number, number, UpstreamObject>();
  /** Client objects exported upstream: (upstream connection, service, gateway id). */
  private readonly exported = new Index3<Connection, number, number, UpstreamExport>();

  constructor(private readonly upstream: Pick<Upstream, "rememberMetaObject">) {}

  get heldCount(): number {
    return this.held.size;
  }

  get exportCount(): number {
    return this.exported.size;
  }

  /** The gateway ids of the client objects exported upstream (for tests and diagnostics). */
  exportIds(): number[] {
    return [...this.exported.values()].map((exp) => exp.gwId);
  }

  /** The client object exported at (service, id) on `conn`, if any. */
  exportAt(conn: Connection, service: number, id: number): UpstreamExport | undefined {
    return this.exported.get(conn, service, id);
  }

  /** Does a client hold, or own, the object (service, id) of `conn`? */
  isKnown(conn: Connection, service: number, id: number): boolean {
    return this.held.has(conn, service, id) || this.exported.has(conn, service, id);
  }

  /** An object returned by a service: the client gets its own id for it. */
  importUpstreamObject(link: ClientLink, conn: Connection, ref: ObjectRef): ObjectRef {
    if (ref.objectId === 0) return ref;
    // One of the client's own objects coming back: give it its original address.
    const own = this.exported.get(conn, ref.serviceId, ref.objectId);
    if (own && own.link === link)
      return new ObjectRef(ref.metaObject, own.clientService, own.clientObjectId, ref.uid);
    let shared = this.held.get(conn, ref.serviceId, ref.objectId);
    let clientId = shared && link.objectIds.get(shared);
    if (clientId === undefined) {
      if (shared === undefined) {
        shared = { conn, service: ref.serviceId, objectId: ref.objectId, refs: 0 };
        this.held.set(conn, ref.serviceId, ref.objectId, shared);
      }
      shared.refs++;
      clientId = link.allocateObjectId();
      link.objectIds.set(shared, clientId);
      link.objects.set(clientId, {
        clientObjectId: clientId,
        upstream: conn,
        service: ref.serviceId,
        objectId: ref.objectId,
        meta: ref.metaObject,
        uid: ref.uid,
        shared,
      });
      this.upstream.rememberMetaObject(conn, ref.serviceId, ref.objectId, ref.metaObject);
    }
    return new ObjectRef(ref.metaObject, ref.serviceId, clientId, ref.uid);
  }

  /** The client dropped an object (terminate): the upstream one is released with the last holder. */
  releaseClientObject(link: ClientLink, clientObjectId: number): void {
    const mapped = link.objects.get(clientObjectId);
    if (!mapped) return;
    link.objects.delete(clientObjectId);
    link.objectIds.delete(mapped.shared);
    this.release(mapped.shared);
  }

  /** A client left: what it held is released, what it exported is forgotten. */
  forgetClient(link: ClientLink): void {
    for (const mapped of link.objects.values()) this.release(mapped.shared);
    link.objects.clear();
    link.objectIds.clear();
    for (const exp of link.exports.values()) {
      if (this.exported.get(exp.conn, exp.service, exp.gwId) === exp)
        this.exported.delete(exp.conn, exp.service, exp.gwId);
    }
    link.exports.clear();
    link.exportTargets.clear();
  }

  /**
   * An upstream connection closed (its service process died or left): the references held
   * through it and the client objects exported over it are forgotten, so that a gateway
   * outliving many service restarts does not accumulate them. Clients keep their ids for
   * such objects until they release them; calls on them answer an error.
   */
  forgetUpstream(conn: Connection): void {
    this.held.dropBranch(conn);
    const gone = this.exported.dropBranch(conn);
    if (gone === undefined) return;
    for (const exp of gone.values()) {
      const link = exp.link;
      link.exports.delete(conn, exp.clientService, exp.clientObjectId);
      const targets = link.exportTargets.get(exp.clientService, exp.clientObjectId);
      const at = targets?.indexOf(exp.target) ?? -1;
      if (targets && at >= 0) targets.splice(at, 1);
    }
  }

  private release(shared: UpstreamObject): void {
    shared.refs--;
    if (shared.refs > 0) return;
    if (this.held.get(shared.conn, shared.service, shared.objectId) === shared)
      this.held.delete(shared.conn, shared.service, shared.objectId);
    if (!shared.conn.isClosed) postTerminate(shared.conn, shared.service, shared.objectId);
  }

  /** An object the client passes as an argument: upstream sees a gateway-hosted id for it. */
  exportClientObject(link: ClientLink, conn: Connection, service: number, ref: ObjectRef): ObjectRef {
    if (ref.objectId === 0) return ref;
    // An object the client got from upstream, passed back: its upstream address.
    const mapped = ref.objectId < CLIENT_OWN_IDS ? link.objects.get(ref.objectId) : undefined;
    if (mapped && mapped.upstream === conn) {
      return new ObjectRef(ref.metaObject, mapped.service, mapped.objectId, ref.uid);
    }
    let exp = link.exports.get(conn, ref.serviceId, ref.objectId);
    if (exp === undefined) {
      const gwId = this.unusedExportId(conn, service);
      exp = {
        link,
        conn,
        service,
        gwId,
        clientService: ref.serviceId,
        clientObjectId: ref.objectId,
        meta: ref.metaObject,
        target: { conn, service, gwId },
      };
      link.exports.set(conn, ref.serviceId, ref.objectId, exp);
      this.exported.set(conn, service, gwId, exp);
      this.forwardEventsOf(link, ref, exp.target);
    }
    return new ObjectRef(ref.metaObject, service, exp.gwId, ref.uid);
  }

  /**
   * A random id for a client object exported upstream, from the top quarter of the 2^31
   * range libqi keeps for exported objects: sequential ids let one client guess another's
   * (issue 10), and the process-wide counter (allocateClientObjectId, from 2^31) would need
   * 2^30 objects to reach these.
   */
  private unusedExportId(conn: Connection, service: number): number {
    for (;;) {
      const id = randomInt(0xc0000000, 0x100000000);
      if (!this.exported.has(conn, service, id)) return id;
    }
  }

  /**
   * Events the client's object emits go to every upstream connection it was exported to,
   * under the gateway id it has there. One handler per client address: a peer that uses one
   * address for an object it passed to two services still reaches the subscribers of both.
   */
  private forwardEventsOf(link: ClientLink, ref: ObjectRef, target: ExportTarget): void {
    const known = link.exportTargets.get(ref.serviceId, ref.objectId);
    if (known) {
      known.push(target);
      return;
    }
    const targets = [target];
    link.exportTargets.set(ref.serviceId, ref.objectId, targets);
    listenToEvents(link.conn, ref.serviceId, ref.objectId, (ev: Message) => {
      const sig =
        ev.flags & MessageFlags.DynamicPayload ? "m" : ref.metaObject.signals.get(ev.action)?.signature;
      for (const { conn, service, gwId } of targets) {
        if (conn.isClosed) continue;
        const payload = mapObjects(ev.payload, sig, link.conn, conn, (r) =>
          this.exportClientObject(link, conn, service, r),
        );
        conn.sendEvent({ service, object: gwId, action: ev.action }, payload, ev.flags);
      }
    });
  }
}
