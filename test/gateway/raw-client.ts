/**
 * A qi client written by hand over a bare net.Socket (no Connection, no Channel): it does the
 * handshake itself with the Framer and encodeMessage, so a test can stop reading (pause), send
 * garbage or oversized frames, and vanish without any library code cleaning up after it.
 */
import { connect as netConnect, type Socket } from "node:net";
import { defaultCapabilities } from "../../src/connection/capabilities.js";
import { encodeCapabilityMap } from "../../src/connection/connection.js";
import { encode } from "../../src/wire/codec.js";
import { Framer } from "../../src/wire/framer.js";
import { encodeMessage } from "../../src/wire/header.js";
import { type Message, MessageType } from "../../src/wire/message-types.js";

let nextId = 1;

export class RawClient {
  readonly socket: Socket;
  /** Every Event received (only counted unless `keepEvents`). */
  events = 0;
  eventBytes = 0;
  readonly closed: Promise<void>;
  private readonly pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private readonly framer: Framer;
  private eventListener: ((m: Message) => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.framer = new Framer((m) => this.onMessage(m), { maxPayload: 100_000_000 });
    socket.on("data", (chunk: Buffer) => {
      try {
        this.framer.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    this.closed = new Promise<void>((resolve) => {
      socket.once("close", () => {
        for (const p of this.pending.values()) p.reject(new Error("raw client: connection closed"));
        this.pending.clear();
        resolve();
      });
    });
    socket.on("error", () => {});
  }

  /** Opens a TCP connection to `url` (tcp://host:port), without any handshake. */
  static open(url: string): Promise<RawClient> {
    const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(url);
    if (!m) throw new Error(`raw client: tcp URL expected, got ${url}`);
    return new Promise((resolve, reject) => {
      const s = netConnect({ host: m[1], port: Number(m[2]) });
      s.once("connect", () => {
        s.off("error", reject);
        s.setNoDelay(true);
        resolve(new RawClient(s));
      });
      s.once("error", reject);
    });
  }

  /** Opens and authenticates (empty credentials, our default capabilities). */
  static async connect(url: string): Promise<RawClient> {
    const c = await RawClient.open(url);
    try {
      const answer = await c.call(0, 0, 8, encodeCapabilityMap(defaultCapabilities()));
      if (answer.type !== MessageType.Reply)
        throw new Error(`raw client: handshake answered with type ${answer.type}`);
    } catch (e) {
      c.destroy();
      throw e;
    }
    return c;
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.closed;
  }

  /** Sends a Call and resolves with the answer (Reply, Error or Canceled alike). */
  call(
    service: number,
    object: number,
    action: number,
    payload: Uint8Array = new Uint8Array(0),
  ): Promise<Message> {
    const id = nextId++;
    return new Promise<Message>((resolve, reject) => {
      if (this.isClosed) {
        reject(new Error("raw client: connection closed"));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.send({ id, type: MessageType.Call, flags: 0, service, object, action, payload });
    });
  }

  /** `services()` of the directory (member 101 of service 1). */
  services(): Promise<Message> {
    return this.call(1, 1, 101);
  }

  /** registerEvent(service, signal, link) on the main object of `service`. */
  async subscribe(service: number, signal: number, link: bigint): Promise<void> {
    const m = await this.call(service, 1, 0, encode("(IIL)", [service, signal, link]));
    if (m.type !== MessageType.Reply)
      throw new Error(`raw client: registerEvent answered with type ${m.type}`);
  }

  onEvent(cb: (m: Message) => void): void {
    this.eventListener = cb;
  }

  send(msg: Message): boolean {
    return this.socket.write(encodeMessage(msg));
  }

  writeBytes(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  resume(): void {
    this.socket.resume();
  }

  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Ends the connection and waits for the close. */
  async close(): Promise<void> {
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 2_000);
    await this.closed;
    clearTimeout(t);
  }

  private onMessage(m: Message): void {
    if (m.type === MessageType.Event) {
      this.events++;
      this.eventBytes += m.payload.byteLength;
      this.eventListener?.(m);
      return;
    }
    const p = this.pending.get(m.id);
    if (
      p &&
      (m.type === MessageType.Reply || m.type === MessageType.Error || m.type === MessageType.Canceled)
    ) {
      this.pending.delete(m.id);
      p.resolve(m);
    }
  }
}
