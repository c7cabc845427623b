/**
 * A Channel over one WebSocket of the `ws` package (client or server side): one binary message
 * per qi message (ws-frame.ts); a text message closes with 1008, a malformed one with 1007, one
 * over maxPayload with 1009 — before it is buffered when a server-side guard is set
 * (ws-size-guard.ts). Frames sent in one tick leave in one writev.
 */
import type { Socket } from "node:net";
import WebSocket, { type RawData } from "ws";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE, type Message } from "../wire/index.js";
import {
  type ChannelOptions,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  socketCloseReason,
} from "./channel.js";
import { asError, nodeErrorCode, TransportError } from "./errors.js";
import { NodeChannelBase } from "./node-channel-base.js";
import { closeCodeFor, closeReasonText, encodeFrame, parseFrame, WsCloseCode } from "./ws-frame.js";
import { WsSizeGuard } from "./ws-size-guard.js";

export type WsScheme = "ws" | "wss";

const allocFrame = (n: number): Uint8Array => Buffer.allocUnsafe(n);

/** How long a peer that announced an oversized message gets to read our close frame. */
const OVERSIZED_CLOSE_GRACE_MS = 500;

/** A Channel over one WebSocket (client or server side) of the `ws` package. */
export class WsChannel extends NodeChannelBase {
  /** The close code and reason of the WebSocket close, once closed (1006: no close frame). */
  closeCode: number | undefined;
  closeText: string | undefined;

  private readonly ws: WebSocket;
  private readonly socket: Socket;
  private maxPayload: number;
  private corked = false;
  /**
   * Server side, while our limit is below the `ws` library's own (before authentication): reads
   * the frame headers off the socket so an oversized message is refused before it is buffered.
   */
  private guard: WsSizeGuard | undefined;
  /** The largest message (header included) the `ws` library itself accepts on this socket. */
  private readonly libraryLimit: number;

  /**
   * `libraryLimit`: server side, the maxPayload the `ws` server was made with; a lower limit
   * (setMaxPayload) is then enforced on frame headers, before `ws` buffers anything.
   * @internal made by the ws drivers only: keeps the `ws` types out of the published .d.ts
   */
  constructor(
    ws: WebSocket,
    socket: Socket,
    scheme: WsScheme,
    opts: ChannelOptions = {},
    libraryLimit?: number,
  ) {
    super(socket, scheme, scheme === "wss", opts, {
      highWaterMark: DEFAULT_HIGH_WATER_MARK,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT_MS,
      keepAliveMs: 30_000,
    });
    this.ws = ws;
    this.socket = socket;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.libraryLimit = libraryLimit ?? Number.POSITIVE_INFINITY;
    if (libraryLimit !== undefined) {
      // Before the ws library's listener: the header of an oversized message is seen first.
      this.guard = new WsSizeGuard(this.maxPayload + HEADER_SIZE);
      socket.prependListener("data", this.onRawData);
    }
    ws.binaryType = "nodebuffer";
    ws.on("message", (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on("close", (code: number, why: Buffer) => {
      this.closeCode ??= code;
      this.closeText ??= why.toString();
      const detail = `${code}${why.length > 0 ? ` ${why.toString()}` : ""}`;
      const text =
        code === 1006
          ? `connection ${this.remoteUrl} lost (1006: closed without a close frame)`
          : `connection ${this.remoteUrl} closed by peer (${detail})`;
      this.finish(new TransportError("ERR_CLOSED", text));
    });
    ws.on("error", (err: Error) => this.finish(this.errorReason(err)));
    if (ws.readyState !== WebSocket.OPEN) {
      this.finish(new TransportError("ERR_CLOSED", "WebSocket not open"));
    }
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  send(msg: Message): boolean {
    if (this.isClosed) {
      throw new TransportError("ERR_CLOSED", `send on closed channel ${this.remoteUrl}`, {
        cause: this.reason,
      });
    }
    const frame = encodeFrame(msg, allocFrame); // validates the header before anything is sent
    const over = this.ws.bufferedAmount + frame.byteLength > this.hwm;
    // Frames sent in one tick leave in one writev (as on SocketChannel): the ws library writes
    // each frame apart, a syscall per message when events fan out to a browser.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.ws.send(frame, { binary: true, compress: false, fin: true }, over ? this.onFlushed : undefined);
    return this.ws.bufferedAmount <= this.hwm;
  }

  /** Closes gracefully: pending output is sent, then a close frame (1000). */
  close(reason?: Error): void {
    this.closeWith(WsCloseCode.Normal, "", reason);
  }

  destroy(reason?: Error): void {
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} destroyed`));
    this.ws.terminate();
  }

  /**
   * Messages over `limit` are refused from now on. Server side, below the ws library's own cap
   * the refusal happens on the frame header (nothing of the message is buffered); once the limit
   * reaches that cap the header check stops and the library enforces it (no cost per frame).
   */
  setMaxPayload(limit: number): void {
    this.maxPayload = limit;
    const guard = this.guard;
    if (guard === undefined) return;
    if (limit + HEADER_SIZE >= this.libraryLimit) this.dropGuard();
    else guard.limit = limit + HEADER_SIZE;
  }

  private readonly onRawData = (chunk: Buffer): void => {
    const guard = this.guard;
    if (guard === undefined || guard.push(chunk)) return;
    const size = guard.refusedSize - HEADER_SIZE;
    this.dropGuard();
    this.socket.pause(); // the rest of that message is never read
    this.closeWith(
      WsCloseCode.TooBig,
      `message over the limit of ${this.maxPayload} payload bytes`,
      new TransportError(
        "ERR_SOCKET",
        `${this.remoteUrl} announced a ${size}-byte message over the limit of ${this.maxPayload} payload bytes (closed with 1009 before reading it)`,
      ),
      OVERSIZED_CLOSE_GRACE_MS,
    );
  };

  private dropGuard(): void {
    this.guard = undefined;
    this.socket.off("data", this.onRawData);
  }

  protected pauseSource(): void {
    this.ws.pause();
  }

  protected resumeSource(): void {
    this.ws.resume();
  }

  // --------------------------------------------------------------------------------------------

  private closeWith(code: number, text: string, reason?: Error, graceMs = this.closeTimeout): void {
    if (this.isClosed) return;
    this.closeCode = code;
    this.closeText = text;
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed locally`));
    const ws = this.ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    const timer = setTimeout(() => ws.terminate(), graceMs);
    timer.unref();
    ws.once("close", () => clearTimeout(timer));
    ws.close(code, closeReasonText(text));
  }

  private errorReason(err: Error): Error {
    const code = nodeErrorCode(err);
    if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
      this.closeCode = WsCloseCode.TooBig;
      return new TransportError(
        "ERR_SOCKET",
        `${this.remoteUrl} sent a message over the limit of ${this.maxPayload} payload bytes (closed with 1009)`,
        { cause: err },
      );
    }
    if (code?.startsWith("WS_ERR_")) {
      return new TransportError(
        "ERR_SOCKET",
        `WebSocket protocol error from ${this.remoteUrl}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    return socketCloseReason(err, this.remoteUrl);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.isClosed) return;
    if (!isBinary) {
      const text = "text frames are not accepted: send each qi message as one binary frame";
      this.closeWith(
        WsCloseCode.PolicyViolation,
        text,
        new TransportError("ERR_SOCKET", `${this.remoteUrl} sent a text frame (closed with 1008)`),
      );
      return;
    }
    const buf = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : (data as Buffer);
    let msg: Message;
    try {
      msg = parseFrame(buf, this.maxPayload);
    } catch (e) {
      const err = asError(e);
      this.closeWith(closeCodeFor(err), err.message, err);
      return;
    }
    try {
      this.deliver(msg);
    } catch (e) {
      this.destroy(asError(e));
    }
  }
}
