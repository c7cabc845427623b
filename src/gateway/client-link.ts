/**
 * The gateway's state for one external client: its connection and identity, the calls it
 * has in flight upstream, and the objects it may reach. Object ids the client sees are
 * allocated per client, so a client can only ever address objects handed to it.
 */
import type { Connection } from "../connection/index.js";
import type { QiObject } from "../object/index.js";
import type { MetaObject } from "../wire/index.js";

/** An object living upstream that this client holds a reference to. */
export interface MappedObject {
  clientObjectId: number;
  upstream: Connection;
  service: number;
  objectId: number;
  meta: MetaObject;
  uid: Uint8Array | undefined;
  /** Key of the shared upstream reference (for the terminate refcount). */
  upstreamKey: string;
}

/** Where one of the client's own objects was exported: an upstream connection and its id there. */
export interface ExportTarget {
  conn: Connection;
  service: number;
  gwId: number;
}

/** A call of this client forwarded upstream: where it went, under which id. */
export interface ForwardedCall {
  upstream: Connection;
  /** The id of the forwarded Call on the upstream connection. */
  upstreamId: number;
  service: number;
  /** The member called and the MetaObject it belongs to: to read a late Reply (releaseLateReply). */
  action: number;
  meta: MetaObject;
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
  readonly objectIdsByUpstream = new Map<string, number>();
  /** Subscriptions: "service.object.link" → fan-out key (one entry per client link id). */
  readonly subscriptions = new Map<string, string>();
  /** Keys of the client's own objects exported upstream by the gateway. */
  readonly exportedUpstream = new Set<string>();
  /** The client's own objects ("service.object") → where their events are forwarded. */
  readonly exportTargets = new Map<string, ExportTarget[]>();
  /** Requests waiting for their service's connection or MetaObject (they count as pending). */
  waiting = 0;
  /** Subscriptions asked for and not answered yet (they count toward the subscription limit). */
  subscribing = 0;
  droppedEvents = 0;
  /** Bytes of events dropped since the outgoing queue was last under the soft limit. */
  owedBytes = 0;
  /** Reading from this client is paused until its outgoing queue drains. */
  throttle: ReturnType<typeof setInterval> | undefined;
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
