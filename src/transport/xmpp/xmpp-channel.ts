/**
 * A qi Channel over one in-band bytestream to one remote full JID. Outgoing messages are
 * written as header + payload into a byte queue, cut into blocks of at most `blockSize` bytes,
 * each sent as an acknowledged iq; at most `window` blocks are unacknowledged, so the queue is
 * what the local writer sees through bufferedBytes / sendAsync / onDrain (ChannelBase). Incoming
 * blocks must come in sequence and within the block size; they go through a Framer (payload
 * limit) in order. While paused, blocks are kept and their acks held: a sender that respects
 * the window can have no more than `window` of them here; one that does not is cut off.
 */
import type { XmlElement } from "@xmpp/client";
import { encodeHeader, Framer } from "../../wire/index.js";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE, type Message } from "../../wire/index.js";
import { ChannelBase } from "../channel-base.js";
import { asError, TransportError } from "../errors.js";
import { closeIq, dataIq, nextSeq } from "./ibb.js";
import type { ResolvedStreamLimits } from "./options.js";

/** How a channel sends stanzas: through the login it belongs to. */
export interface StanzaSender {
  /** Sends an iq and resolves with its result (rejects on an error reply, a timeout or a lost link). */
  request(iq: XmlElement, timeoutMs: number): Promise<unknown>;
}

export interface XmppChannelParams {
  sender: StanzaSender;
  /** The remote full JID. */
  remote: string;
  /** This side's full JID. */
  local: string;
  sid: string;
  limits: ResolvedStreamLimits;
  maxPayload?: number;
  highWaterMark: number;
  closeTimeout: number;
}

/** What receive() answers: accepted (ack) or refused (iq error, the channel is gone). */
export type BlockVerdict = { ok: true } | { ok: false; condition: string };

interface HeldBlock {
  bytes: Buffer;
  ack: (v: BlockVerdict) => void;
}

export class XmppChannel extends ChannelBase {
  readonly sid: string;
  private readonly sender: StanzaSender;
  private readonly remote: string;
  private readonly limits: ResolvedStreamLimits;
  private readonly framer: Framer;
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private inflight = 0;
  private inflightBytes = 0;
  private sendSeq = 0;
  private recvSeq = 0;
  private pumpScheduled = false;
  private overMark = false;
  private paused = false;
  private held: HeldBlock[] = [];
  /** Set by close(): finish sending, then send the IBB close. */
  private closing = false;
  private ended = false;

  constructor(p: XmppChannelParams) {
    const bare = p.remote.split("/")[0];
    super(
      { remoteAddress: bare, remoteUrl: `xmpp://${p.remote}`, localUrl: `xmpp://${p.local}`, isSecure: true },
      { highWaterMark: p.highWaterMark, closeTimeout: p.closeTimeout },
    );
    this.sid = p.sid;
    this.sender = p.sender;
    this.remote = p.remote;
    this.limits = p.limits;
    this.framer = new Framer((m) => this.deliver(m), { maxPayload: p.maxPayload ?? DEFAULT_MAX_PAYLOAD });
  }

  get bufferedBytes(): number {
    return this.queuedBytes + this.inflightBytes;
  }

  send(msg: Message): boolean {
    if (this.isClosed) {
      throw new TransportError("ERR_CLOSED", `send on closed channel ${this.remoteUrl}`, {
        cause: this.reason,
      });
    }
    const parts = msg.payloadParts ?? [msg.payload];
    let size = 0;
    for (const p of parts) size += p.byteLength;
    const header = new Uint8Array(HEADER_SIZE);
    encodeHeader(msg, size, header, 0);
    this.enqueue(header);
    // The payload is copied: the caller may reuse its buffer once send() returns... and blocks
    // leave later, when the window opens.
    for (const p of parts) if (p.byteLength > 0) this.enqueue(Uint8Array.prototype.slice.call(p));
    this.schedulePump();
    if (this.bufferedBytes <= this.hwm) return true;
    this.overMark = true;
    return false;
  }

  private enqueue(bytes: Uint8Array): void {
    this.queue.push(bytes);
    this.queuedBytes += bytes.byteLength;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // A microtask: what one tick sends shares blocks (many small calls, one stanza).
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** The next block: up to blockSize bytes from the front of the queue. */
  private takeBlock(): Uint8Array {
    const n = Math.min(this.limits.blockSize, this.queuedBytes);
    const block = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.queue[this.queueHead];
      const take = Math.min(head.byteLength, n - filled);
      block.set(take === head.byteLength ? head : head.subarray(0, take), filled);
      filled += take;
      if (take === head.byteLength) {
        this.queueHead++;
      } else {
        this.queue[this.queueHead] = head.subarray(take);
      }
    }
    if (this.queueHead > 64 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    this.queuedBytes -= n;
    return block;
  }

  private pump(): void {
    if (this.ended) return;
    while (this.inflight < this.limits.window && this.queuedBytes > 0) {
      const block = this.takeBlock();
      const seq = this.sendSeq;
      this.sendSeq = nextSeq(seq);
      this.inflight++;
      this.inflightBytes += block.byteLength;
      this.sender.request(dataIq(this.remote, this.sid, seq, block), this.limits.ackTimeoutMs).then(
        () => this.acked(block.byteLength),
        (e) =>
          this.end(
            new TransportError(
              "ERR_CLOSED",
              `${this.remoteUrl}: block ${seq} not acknowledged (${asError(e).message})`,
              { cause: e },
            ),
            true,
          ),
      );
    }
    if (this.closing && this.queuedBytes === 0 && this.inflight === 0) this.end(undefined, true);
  }

  private acked(n: number): void {
    this.inflight--;
    this.inflightBytes -= n;
    if (this.overMark && !this.isClosed && this.bufferedBytes <= this.hwm) {
      this.overMark = false;
      this.onFlushed();
    }
    this.pump();
  }

  /** @internal A data block from the remote JID (the login routed it here by sid). */
  receive(seq: number, bytes: Buffer): Promise<BlockVerdict> | BlockVerdict {
    if (this.ended) return { ok: false, condition: "item-not-found" };
    if (seq !== this.recvSeq || bytes.byteLength > this.limits.blockSize) {
      // XEP-0047 §2.2: a block out of sequence (or oversized) ends the stream.
      const why =
        seq !== this.recvSeq
          ? `block ${seq} out of sequence (expected ${this.recvSeq})`
          : `block of ${bytes.byteLength} bytes over the block size ${this.limits.blockSize}`;
      this.end(new TransportError("ERR_SOCKET", `${this.remoteUrl}: ${why}`), true);
      return { ok: false, condition: "unexpected-request" };
    }
    this.recvSeq = nextSeq(seq);
    if (this.paused || this.held.length > 0) {
      if (this.held.length >= this.limits.window) {
        this.end(
          new TransportError(
            "ERR_SOCKET",
            `${this.remoteUrl}: more than ${this.limits.window} unacknowledged blocks (window)`,
          ),
          true,
        );
        return { ok: false, condition: "resource-constraint" };
      }
      return new Promise((ack) => this.held.push({ bytes, ack }));
    }
    return this.frame(bytes);
  }

  private frame(bytes: Buffer): BlockVerdict {
    try {
      this.framer.push(bytes);
      return { ok: true };
    } catch (e) {
      // A WireError (bad magic, payload too large) or a handler's exception: the stream is lost.
      this.end(asError(e), true);
      return { ok: false, condition: "not-acceptable" };
    }
  }

  close(reason?: Error): void {
    if (this.isClosed) return;
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed locally`));
    this.closing = true;
    this.releaseHeld();
    const timer = setTimeout(() => this.end(undefined, true), this.closeTimeout);
    timer.unref();
    this.pump();
  }

  destroy(reason?: Error): void {
    this.end(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} destroyed`), true);
  }

  /** @internal The peer closed the stream, went offline, or the login was lost: no close iq. */
  lost(reason: Error): void {
    this.end(reason, false);
  }

  private end(reason: Error | undefined, tellPeer: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed`));
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
    this.releaseHeld();
    if (tellPeer) this.sender.request(closeIq(this.remote, this.sid), 5_000).catch(() => {});
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) h.ack({ ok: false, condition: "item-not-found" });
  }

  setMaxPayload(limit: number): void {
    this.framer.setMaxPayload(limit);
  }

  protected pauseSource(): void {
    this.paused = true;
  }

  protected resumeSource(): void {
    this.paused = false;
    while (!this.paused && !this.ended && this.held.length > 0) {
      const h = this.held.shift() as HeldBlock;
      h.ack(this.frame(h.bytes));
    }
  }
}
