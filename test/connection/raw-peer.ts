/**
 * A qi peer written by hand over a bare net.Socket: messages are cut out of the byte stream by
 * our Framer, and every message is also kept as the exact bytes that arrived (header + payload),
 * so tests can compare what the TS node wrote with spec §10 and the libqi captures, to the byte.
 */
import { connect as netConnect, type Socket } from "node:net";
import { encode } from "../../src/wire/codec.js";
import { Framer } from "../../src/wire/framer.js";
import { encodeMessage } from "../../src/wire/header.js";
import { HEADER_SIZE, type Message, MessageType } from "../../src/wire/message-types.js";

export interface Frame {
  msg: Message;
  /** The 28 header bytes exactly as received. */
  header: Uint8Array;
  /** Header and payload exactly as received. */
  bytes: Uint8Array;
}

export const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
export const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/[\s|]/g, ""), "hex"));

/** Header bytes as spec §10 writes them: magic | id | size | ver type flags | service | object | action. */
export function headerHex(f: {
  id: number;
  size: number;
  type: number;
  flags: number;
  service: number;
  object: number;
  action: number;
}): string {
  const b = Buffer.alloc(HEADER_SIZE);
  b.set([0x42, 0xde, 0xad, 0x42], 0);
  b.writeUInt32LE(f.id, 4);
  b.writeUInt32LE(f.size, 8);
  b.writeUInt16LE(0, 12);
  b.writeUInt8(f.type, 14);
  b.writeUInt8(f.flags, 15);
  b.writeUInt32LE(f.service, 16);
  b.writeUInt32LE(f.object, 20);
  b.writeUInt32LE(f.action, 24);
  return b.toString("hex");
}

let nextRawId = 1_000_000;

export class RawPeer {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  private raw: Buffer = Buffer.alloc(0);
  private consumed = 0;
  private readonly framer: Framer;
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void; from: number }> = [];
  private frameListener: ((f: Frame) => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.framer = new Framer((m) => this.onMessage(m), { maxPayload: 200_000_000 });
    socket.on("data", (chunk: Buffer) => {
      this.raw = this.raw.length === 0 ? chunk : Buffer.concat([this.raw, chunk]);
      try {
        this.framer.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  /** Wraps an accepted socket (a raw *server* side). */
  static wrap(socket: Socket): RawPeer {
    socket.setNoDelay(true);
    return new RawPeer(socket);
  }

  static open(url: string): Promise<RawPeer> {
    const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(url);
    if (!m) throw new Error(`raw peer: tcp URL expected, got ${url}`);
    return new Promise((resolve, reject) => {
      const s = netConnect({ host: m[1], port: Number(m[2]) });
      s.once("connect", () => {
        s.off("error", reject);
        s.setNoDelay(true);
        resolve(new RawPeer(s));
      });
      s.once("error", reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.closed;
  }

  freshId(): number {
    return nextRawId++;
  }

  send(msg: Message): void {
    this.socket.write(encodeMessage(msg));
  }

  writeBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends a Call and resolves with the first frame answering its id (Reply, Error or Canceled). */
  call(
    service: number,
    object: number,
    action: number,
    payload: Uint8Array = new Uint8Array(0),
    flags = 0,
    id = this.freshId(),
  ): Promise<Frame> {
    const answer = this.waitFor(
      (f) =>
        f.msg.id === id &&
        (f.msg.type === MessageType.Reply ||
          f.msg.type === MessageType.Error ||
          f.msg.type === MessageType.Canceled),
    );
    this.send({ id, type: MessageType.Call, flags, service, object, action, payload });
    return answer;
  }

  /** The next frame (received from now on, or already received when `includePast`) matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5_000, includePast = false): Promise<Frame> {
    if (includePast) {
      const found = this.frames.find(pred);
      if (found) return Promise.resolve(found);
    }
    return new Promise<Frame>((resolve, reject) => {
      const w = { pred, resolve, from: this.frames.length };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error("raw peer: timed out waiting for a frame"));
      }, timeoutMs);
      w.resolve = (f) => {
        clearTimeout(t);
        resolve(f);
      };
      this.waiters.push(w);
      this.closed.then(() => {
        clearTimeout(t);
        if (this.waiters.includes(w)) reject(new Error("raw peer: connection closed while waiting"));
      });
    });
  }

  /** Authenticates like a libqi 4.x client without credentials (spec §10 A); returns the Reply. */
  async authenticate(capabilityPayload: Uint8Array): Promise<Frame> {
    return this.call(0, 0, 8, capabilityPayload);
  }

  registerEvent(service: number, object: number, signal: number, link: bigint): Promise<Frame> {
    return this.call(service, object, 0, encode("(IIL)", [service, signal, link]));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Sees every frame as it arrives (after it is recorded), e.g. to answer the calls of the other side. */
  onFrame(listener: (f: Frame) => void): void {
    this.frameListener = listener;
  }

  private onMessage(msg: Message): void {
    const size = HEADER_SIZE + msg.payload.byteLength;
    const bytes = new Uint8Array(this.raw.subarray(this.consumed, this.consumed + size));
    this.consumed += size;
    if (this.consumed > 1 << 20) {
      this.raw = this.raw.subarray(this.consumed);
      this.consumed = 0;
    }
    const frame: Frame = { msg, header: bytes.subarray(0, HEADER_SIZE), bytes };
    this.frames.push(frame);
    this.frameListener?.(frame);
    for (const w of [...this.waiters]) {
      if (w.pred(frame)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(frame);
      }
    }
  }
}
