/**
 * Requests the peer sends us (spec §5.3): admission of its Calls (one call per message id in
 * progress, at most maxIncomingCalls at once), the request steps higher layers attached (see
 * attach.ts), the Event handlers of the remote objects we hold, and the answers we give.
 *
 * Everything here is made on first use: an idle connection holds this object and nothing more.
 */
import { type Payload, withPayload } from "../wire/index.js";
import { type Message, MessageType } from "../wire/index.js";
import { attachConflict, type RequestStage, type RequestStep } from "./attach.js";
import { Capability } from "./capabilities.js";
import type { Connection } from "./connection.js";
import { EMPTY_PAYLOAD, encodeErrorPayload, UNHANDLED_REQUEST } from "./messages.js";

/** Receives Event messages for one remote object (service, object). */
export type EventHandler = (msg: Message) => void;

export class IncomingRequests {
  /**
   * Ids of the peer's calls dispatched and not answered yet: a second call with an id still in
   * progress is refused, so limits keyed by message id (served calls, forwarded calls) cannot
   * be bypassed by reusing one, and answers always reach the right caller.
   */
  private inProgress: Set<number> | undefined;
  private routeStep: RequestStep | undefined;
  private serveStep: RequestStep | undefined;
  /** Event handlers by service, then object: two number lookups per Event, no key string. */
  private events: Map<number, Map<number, EventHandler>> | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly maxIncomingCalls: number,
  ) {}

  // --- attaching --------------------------------------------------------------------------

  attach(stage: RequestStage, step: RequestStep): () => void {
    if ((stage === "route" ? this.routeStep : this.serveStep) !== undefined)
      throw attachConflict(`a "${stage}" request step`, this.conn.peer);
    if (stage === "route") this.routeStep = step;
    else this.serveStep = step;
    return () => {
      if (stage === "route" && this.routeStep === step) this.routeStep = undefined;
      if (stage === "serve" && this.serveStep === step) this.serveStep = undefined;
    };
  }

  hasStep(stage: RequestStage): boolean {
    return (stage === "route" ? this.routeStep : this.serveStep) !== undefined;
  }

  setEventHandler(service: number, object: number, handler: EventHandler | undefined): void {
    if (handler) {
      this.events ??= new Map();
      let byObject = this.events.get(service);
      if (!byObject) {
        byObject = new Map();
        this.events.set(service, byObject);
      }
      byObject.set(object, handler);
      return;
    }
    const byObject = this.events?.get(service);
    if (!byObject) return;
    byObject.delete(object);
    if (byObject.size === 0) this.events?.delete(service);
  }

  // --- receiving --------------------------------------------------------------------------

  onEvent(msg: Message): void {
    this.events?.get(msg.service)?.get(msg.object)?.(msg);
  }

  /** A Call for an object (not service 0): admitted, then given to the steps. */
  onCall(msg: Message): void {
    if (this.admit(msg)) this.dispatch(msg);
  }

  /** Post and Cancel: not answered, so not admitted; given to the steps. */
  dispatch(msg: Message): void {
    const conn = this.conn;
    if (this.routeStep?.(msg, conn)) return;
    if (this.serveStep?.(msg, conn)) return;
    if (msg.type === MessageType.Call)
      this.answer(msg, MessageType.Error, encodeErrorPayload(UNHANDLED_REQUEST), 0);
  }

  /**
   * Records an incoming Call as in progress, or refuses it (an Error answer that leaves the
   * original call alone) when its id is already in progress or too many calls are.
   */
  private admit(msg: Message): boolean {
    this.inProgress ??= new Set();
    const calls = this.inProgress;
    if (calls.has(msg.id)) {
      this.refuse(
        msg,
        `duplicate message id ${msg.id}: a call with this id is still in progress on this connection`,
      );
      return false;
    }
    if (calls.size >= this.maxIncomingCalls) {
      this.refuse(msg, `Too many calls in progress on this connection (limit ${this.maxIncomingCalls}).`);
      return false;
    }
    calls.add(msg.id);
    return true;
  }

  // --- answering --------------------------------------------------------------------------

  /** Answers a Call at its full address (spec §1.5: id, service, object and action copied). */
  answer(call: Message, type: MessageType, payload: Payload, flags: number): void {
    this.inProgress?.delete(call.id);
    this.conn.sendOwed(
      withPayload(
        {
          id: call.id,
          type,
          flags,
          service: call.service,
          object: call.object,
          action: call.action,
        },
        payload,
      ),
    );
  }

  /** An answer whose header a forwarder already set to the call it answers (Connection.relayAnswer). */
  relay(answer: Message): void {
    this.inProgress?.delete(answer.id);
    this.conn.sendOwed(answer);
  }

  canceled(call: Message): void {
    // Without the shared capability the peer does not know Canceled (spec §5.3).
    if (this.conn.shared(Capability.RemoteCancelableCalls))
      this.answer(call, MessageType.Canceled, EMPTY_PAYLOAD, 0);
    else this.answer(call, MessageType.Error, encodeErrorPayload("Call has been canceled."), 0);
  }

  /** An Error answer that does not count as the answer of a call in progress with the same id. */
  private refuse(msg: Message, text: string): void {
    this.conn.sendOwed({
      id: msg.id,
      type: MessageType.Error,
      flags: 0,
      service: msg.service,
      object: msg.object,
      action: msg.action,
      payload: encodeErrorPayload(text),
    });
  }

  /** The connection closed: nothing is in progress or listened to any more. */
  clear(): void {
    this.inProgress = undefined;
    this.events = undefined;
  }
}
