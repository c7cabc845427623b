/**
 * One call of a client forwarded upstream, recorded once and found by id both ways: the
 * client's inflight table holds it under the client's message id, the upstream connection's
 * pending table under the upstream one, as its CallWaiter. The upstream answer is handed to
 * it straight from that connection's intake: no promise, closure or timer per call.
 */
import type { CallWaiter } from "../../connection/index.js";
import { type Message, MessageType } from "../../wire/index.js";
import type { ClientLink } from "../client-link.js";
import type { UpstreamLoad } from "../upstream-share.js";
import type { Target } from "./target.js";

/** What becomes of a forwarded call's answer (the CallForwarder). */
export interface ForwardedOutcomes {
  answered(call: ForwardedCall, answer: Message): void;
  failed(call: ForwardedCall, error: Error): void;
}

const EMPTY = new Uint8Array(0);

export class ForwardedCall implements CallWaiter {
  /** The id of the forwarded Call on the upstream connection (set once it is sent). */
  upstreamId = 0;
  /**
   * Set once the client canceled it: the Cancel went upstream and the service's real answer
   * (Reply, Error or Canceled) is relayed when it comes, never a Canceled made up here.
   */
  relayLate: ((answer: Message) => void) | undefined = undefined;
  /** The upstream address (the callee): the call's own service and action, the target's object. */
  readonly object: number;
  readonly service: number;

  constructor(
    private readonly outcomes: ForwardedOutcomes,
    readonly link: ClientLink,
    /** The client's message id and object id for the call (its answer goes back under them). */
    readonly clientId: number,
    readonly clientObject: number,
    readonly action: number,
    readonly target: Target,
    /** The place taken in the upstream's fair shares, and by whom (UpstreamShares). */
    readonly load: UpstreamLoad,
    readonly user: string,
    /** performance.now() when forwarded: the latency metric. */
    readonly started: number,
  ) {
    this.service = target.service;
    this.object = target.objectId;
  }

  get upstream(): Target["conn"] {
    return this.target.conn;
  }

  /** The upstream address; the call itself holds it (no object per call). */
  get callee(): this {
    return this;
  }

  answered(answer: Message): void {
    this.outcomes.answered(this, answer);
  }

  failed(error: Error): void {
    this.outcomes.failed(this, error);
  }

  /**
   * An answer (Reply, Error or Canceled) of the service, made the answer to the client's call
   * in place: only its header's addressing changes; its payload is set by the caller.
   */
  readdress(answer: Message): Message {
    answer.id = this.clientId;
    answer.service = this.service;
    answer.object = this.clientObject;
    answer.action = this.action;
    return answer;
  }

  /** The client's call as an answer needs it (for the router's own Error and Canceled answers). */
  clientCall(): Message {
    return {
      id: this.clientId,
      type: MessageType.Call,
      flags: 0,
      service: this.service,
      object: this.clientObject,
      action: this.action,
      payload: EMPTY,
    };
  }
}
