/**
 * Every way the router hooks into a Connection, in one place: the requests of a client, the
 * requests of an upstream connection (calls on client objects it was handed), the events of
 * one remote object, a connection's end, and the object layer's own share of a connection
 * (PeerObjects, which serves what the router does not route). The router attaches as the
 * connection's "route" stage; PeerObjects is its "serve" stage, so whatever the router leaves
 * (returns false for) is served as it would be without a gateway, whichever attached first.
 */
import type { Connection } from "../../connection/index.js";
import { PeerObjects } from "../../object/index.js";
import type { Message } from "../../wire/index.js";

/**
 * Every Call, Post and Cancel on `conn` (a client's, or an upstream's calling objects clients
 * passed on) goes to `route` first; what it leaves (returns false for) is served by the
 * connection's object layer as it would be without a gateway.
 */
export function routeRequests(conn: Connection, route: (msg: Message) => boolean): void {
  conn.attachRequests("route", route);
}

/** Events of the remote object (service, object) on `conn` go to `handler` (one per object). */
export function listenToEvents(
  conn: Connection,
  service: number,
  object: number,
  handler: (msg: Message) => void,
): void {
  conn.setEventHandler(service, object, handler);
}

export function whenClosed(conn: Connection, cb: () => void): void {
  conn.onClose(cb);
}

/** Does the object layer of `conn` serve the object (service, object) itself? */
export function servedLocally(conn: Connection, service: number, object: number): boolean {
  return PeerObjects.of(conn)?.resolve(service, object) !== undefined;
}
