/**
 * Calls from services back to clients: a service calls (or posts to) an object a client
 * passed it, at the gateway id it was given (ObjectMap). The request is forwarded on the
 * client's connection at the object's own address there, objects inside mapped both ways,
 * and the service may cancel it.
 */
import { type Connection, canceledCallId, errorText, isQiError, QiError } from "../../connection/index.js";
import { type Message, MessageType } from "../../wire/index.js";
import type { UpstreamExport } from "../client-link.js";
import type { ObjectMap } from "./object-map.js";
import { mapObjects, replyPayloadSignature, requestPayloadSignature } from "./payloads.js";
import { UNHANDLED } from "./replies.js";

export class ReverseCalls {
  /** Calls of each upstream connection in flight toward clients, by their message id there. */
  private readonly inflight = new Map<Connection, Map<number, AbortController>>();

  constructor(private readonly objectMap: ObjectMap) {}

  /** Returns false when the request is not for a client object (then the object layer serves it). */
  route(conn: Connection, msg: Message): boolean {
    if (msg.type === MessageType.Cancel) {
      const id = canceledCallId(msg);
      if (id === undefined) return true;
      const ac = this.inflight.get(conn)?.get(id);
      if (!ac) return false;
      ac.abort(new QiError("ERR_CANCELED", "canceled by the service"));
      return true;
    }
    const exp = this.objectMap.exportAt(conn, msg.service, msg.object);
    if (!exp) return false;
    this.forwardToClient(conn, msg, exp).catch((e) => {
      if (msg.type === MessageType.Call && !conn.isClosed) conn.replyError(msg, errorText(e));
    });
    return true;
  }

  /** An upstream connection closed: the calls it made to clients are given up on. */
  forgetUpstream(conn: Connection): void {
    const calls = this.inflight.get(conn);
    if (calls === undefined) return;
    this.inflight.delete(conn);
    const gone = new QiError("ERR_DISCONNECTED", "the service that called this object went away");
    for (const ac of calls.values()) ac.abort(gone);
  }

  private async forwardToClient(conn: Connection, msg: Message, exp: UpstreamExport): Promise<void> {
    const link = exp.link;
    if (link.conn.isClosed) {
      if (msg.type === MessageType.Call) conn.replyError(msg, UNHANDLED);
      return;
    }
    const payload = mapObjects(msg.payload, requestPayloadSignature(exp.meta, msg), conn, link.conn, (ref) =>
      this.objectMap.importUpstreamObject(link, conn, ref),
    );
    const address = { service: exp.clientService, object: exp.clientObjectId, action: msg.action };
    if (msg.type === MessageType.Post) {
      link.conn.post(address, payload, msg.flags);
      return;
    }
    const ac = new AbortController();
    let calls = this.inflight.get(conn);
    if (calls === undefined) {
      calls = new Map();
      this.inflight.set(conn, calls);
    }
    calls.set(msg.id, ac);
    try {
      const reply = await link.conn.call(address, payload, { flags: msg.flags, signal: ac.signal });
      const out = mapObjects(
        reply.payload,
        replyPayloadSignature(exp.meta, msg.action, reply),
        link.conn,
        conn,
        (ref) => this.objectMap.exportClientObject(link, conn, msg.service, ref),
      );
      conn.reply(msg, out, reply.flags);
    } catch (e) {
      if (conn.isClosed) return;
      if (isQiError(e, "ERR_CANCELED")) conn.replyCanceled(msg);
      else conn.replyError(msg, errorText(e));
    } finally {
      const now = this.inflight.get(conn);
      if (now?.get(msg.id) === ac) {
        now.delete(msg.id);
        if (now.size === 0) this.inflight.delete(conn);
      }
    }
  }
}
