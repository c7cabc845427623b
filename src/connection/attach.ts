/**
 * How higher layers attach to a connection, explicitly and whatever the order they do it in.
 *
 * State: each layer that keeps state per connection owns a typed key (a ConnectionSlot it
 * creates once, at module level) and stores its state under it with `conn.attach(slot, value)`;
 * `conn.attached(slot)` reads it back typed, no cast, no string that two layers could both pick.
 *
 * Requests (Call, Post, Cancel for objects on this connection) go through at most two steps,
 * always in this order whatever order they were attached in:
 * - "route": a forwarder (the gateway's router) sees each request first and takes what it
 *   forwards; it returns false for what is served here (e.g. the Service Directory view);
 * - "serve": the objects served on this connection (object/'s PeerObjects) take the rest and
 *   return false for an address where nothing is served.
 * What no step takes is answered "could not be handled" when it is a Call. A stage holds one
 * step: attaching a second one is an AttachConflict (a QiError), never a silent replacement.
 */
import type { Message } from "../wire/index.js";
import type { Connection } from "./connection.js";
import { QiError } from "./errors.js";

/** A typed key for the state one layer keeps on a connection: `new ConnectionSlot<PeerObjects>("objects")`. */
export class ConnectionSlot<T> {
  /** Never set: makes ConnectionSlot<A> and ConnectionSlot<B> different types. */
  declare private readonly valueType: T;
  /** Says who owns the slot in conflict errors. */
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }
}

/** The two stages a request passes, in order (see the module comment). */
export type RequestStage = "route" | "serve";

/** Takes a request (returns true) or passes it on to the next stage (returns false). */
export type RequestStep = (msg: Message, conn: Connection) => boolean;

/** A second layer attached where one already is: a programming error, raised where it is made. */
export function attachConflict(what: string, peer: string): QiError {
  return new QiError(
    "ERR_CONFLICT",
    `attach conflict on the connection to ${peer}: ${what} is already attached`,
    {
      peer,
    },
  );
}
