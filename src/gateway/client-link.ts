/**
 * The gateway's state for one external client: its connection and identity, the calls it
 * has in flight upstream, and the objects it may reach. Object ids the client sees are
 * allocated per client, so a client can only ever address objects handed to it. Every index
 * is keyed by typed values (connections, ids, records), never by strings built per message.
 */
import type { Connection } from "../connection/index.js";
import type { QiObject } from "../object/index.js";
import type { MetaObject } from "../wire/index.js";
import type { ForwardedCall } from "./router/forwarded-call.js";
import { Index2, Index3 } from "./router/nested-maps.js";
import type { Fanout } from "./router/signal-fanout.js";

export type { ForwardedCall };

/**
 * An object living upstream that clients hold references to: one record per (upstream
 * connection, service, object), released upstream (terminate) with its last holder.
 */
export interface UpstreamObject {
  readonly conn: Connection;
  readonly service: number;
  readonly objectId: number;
  /** Clients holding it (each with its own id for it). */
  refs: number;
}

/** An object living upstream that this client holds a reference to, under its own id for it. */
export interface MappedObject {
  clientObjectId: number;
  upstream: Connection;
  service: number;
  objectId: number;
  meta: MetaObject;
  uid: Uint8Array | undefined;
  shared: UpstreamObject;
}

/** One of the client's own objects (a callback it passed), as the gateway exports it upstream. */
export interface UpstreamExport {
  readonly link: ClientLink;
  readonly conn: Connection;
  /** Its address upstream: the service it was passed to, and the gateway's random id. */
  readonly service: number;
  readonly gwId: number;
  /** Its address on the client's connection. */
  readonly clientService: number;
  readonly clientObjectId: number;
  readonly meta: MetaObject;
  /** Where its events go (listed in the link's exportTargets). */
  readonly target: ExportTarget;
}

/** Where one of the client's own objects was exported: an upstream connection and its id there. */
export interface ExportTarget {
  conn: Connection;
  service: number;
  gwId: number;
}

let nextClientNumber = 1;

export class ClientLink {
  readonly number = nextClientNumber++;
  readonly conn: Connection;
  readonly view: QiObject;
  readonly connectedAt = Date.now();
  /** Calls of this client forwarded upstream, by the client's message id. */
  readonly inflight = new Map<number, ForwardedCall>();
  /** Objects handed to this client: client-side object id → upstream object. */
  readonly objects = new Map<number, MappedObject>();
  /** The client's id for each upstream object it holds. */
  readonly objectIds = new Map<UpstreamObject, number>();
  /** Subscriptions: (service, client object id, client link id) → the fan-out serving it. */
  readonly subscriptions = new Index3<number, number, bigint, Fanout>();
  /** The client's own objects exported upstream: (upstream connection, client service, client object). */
  readonly exports = new Index3<Connection, number, number, UpstreamExport>();
  /** The client's own objects (client service, client object) → where their events are forwarded. */
  readonly exportTargets = new Index2<number, number, ExportTarget[]>();
  /** Requests waiting for their service's connection or MetaObject (they count as pending). */
  waiting = 0;
  /** Subscriptions asked for and not answered yet (they count toward the subscription limit). */
  subscribing = 0;
  droppedEvents = 0;
  /** Bytes of events dropped since the outgoing queue was last under the soft limit. */
  owedBytes = 0;
  /** Reading from this client is paused until its channel drains: this stops waiting for that. */
  stopWaitingForDrain: (() => void) | undefined;
  private nextObjectId = 2;

  constructor(conn: Connection, view: QiObject) {
    this.conn = conn;
    this.view = view;
  }

  get identity(): string | undefined {
    return this.conn.identity;
  }

  allocateObjectId(): number {
    // Below 2^31: the client's own exported objects use ids from 2^31 (spec §5.7).
    this.nextObjectId = this.nextObjectId >= 0x7fffffff ? 3 : this.nextObjectId + 1;
    return this.nextObjectId;
  }
}
