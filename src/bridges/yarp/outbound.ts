/**
 * One output connection of a bridge port to a YARP reader (the tcp carrier, with
 * acknowledgements). One message is in flight at a time: the next goes when the reader has
 * acknowledged the last. Messages wait in a bounded queue; when it is full the oldest is
 * dropped, so a reader that stops reading costs at most `queue` messages of memory, and a
 * reader that catches up gets the newest data.
 */
import { connect, type Socket } from "node:net";
import { ByteQueue, ConnectionClosed } from "./byte-queue.js";
import { commandMessage, dataMessage, readYarpNumber, tcpOpening } from "./carrier.js";

export interface OutboundOptions {
  /** Our port's name, sent as the sender name. */
  from: string;
  /** The reader's port name (for logs and `[list] [out]`). */
  to: string;
  host: string;
  port: number;
  /** Messages that may wait for a slow reader before the oldest is dropped. */
  queue: number;
  connectTimeoutMs: number;
  onDrop: (n: number) => void;
  onSent: () => void;
  onClose: (reason: string) => void;
}

export class Outbound {
  private socket: Socket | undefined;
  private readonly waiting: Uint8Array[][] = [];
  private inFlight = false;
  private closed = false;

  private constructor(private readonly options: OutboundOptions) {}

  get to(): string {
    return this.options.to;
  }

  /** Connects and completes the tcp opening; rejects when the reader cannot be reached. */
  static async open(options: OutboundOptions): Promise<Outbound> {
    const out = new Outbound(options);
    await out.start();
    return out;
  }

  private async start(): Promise<void> {
    const { host, port, connectTimeoutMs } = this.options;
    const socket = connect(port, host);
    this.socket = socket;
    socket.setNoDelay(true);
    const q = new ByteQueue(socket, 64 * 1024);
    const timer = setTimeout(
      () => socket.destroy(new Error(`no answer within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      socket.write(tcpOpening(this.options.from));
      if (readYarpNumber(await q.read(8)) === undefined)
        throw new Error("not a YARP port (bad opening reply)");
    } catch (e) {
      socket.destroy();
      throw new Error(`cannot connect to ${this.options.to} at ${host}:${port}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    socket.on("error", () => {});
    socket.on("close", () => this.finish("reader went away"));
    void this.readAcks(q);
  }

  /** Queues one encoded Bottle for this reader (dropping the oldest waiting one when full). */
  send(bottleChunks: Uint8Array[]): void {
    if (this.closed) return;
    this.waiting.push(bottleChunks);
    if (this.waiting.length > this.options.queue) {
      this.waiting.shift();
      this.options.onDrop(1);
    }
    this.pump();
  }

  get queued(): number {
    return this.waiting.length;
  }

  private pump(): void {
    if (this.inFlight || this.closed || this.waiting.length === 0) return;
    const next = this.waiting.shift()!;
    this.inFlight = true;
    const socket = this.socket!;
    socket.cork();
    for (const part of dataMessage(next, false)) socket.write(part);
    socket.uncork();
  }

  /** Each acknowledgement is a yarp number giving how many more bytes follow (discarded). */
  private async readAcks(q: ByteQueue): Promise<void> {
    try {
      for (;;) {
        const extra = readYarpNumber(await q.read(8));
        if (extra === undefined || extra < 0 || extra > 1 << 20) throw new Error("bad acknowledgement");
        if (extra > 0) await q.read(extra);
        this.inFlight = false;
        this.options.onSent();
        this.pump();
      }
    } catch (e) {
      this.finish(e instanceof ConnectionClosed ? "reader went away" : (e as Error).message);
    }
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting.length = 0;
    this.socket?.destroy();
    this.options.onClose(reason);
  }

  /** Says goodbye (`q`) when idle, then closes. */
  close(): void {
    if (this.closed) return;
    const socket = this.socket;
    if (socket && !this.inFlight) for (const part of commandMessage("q")) socket.write(part);
    this.closed = true;
    this.waiting.length = 0;
    socket?.end();
    setTimeout(() => socket?.destroy(), 1_000).unref();
    this.options.onClose("closed");
  }
}
