/**
 * Bytes from a socket, read as a protocol parser needs them: `read(n)` and `readLine(max)`
 * resolve when enough has arrived. The socket is paused while more than `highWater` bytes wait
 * unread, so a peer that sends faster than the bridge handles its messages is slowed by TCP,
 * never buffered without bound.
 */
import type { Socket } from "node:net";

export class ConnectionClosed extends Error {
  override name = "ConnectionClosed";
}

export class ByteQueue {
  private chunks: Buffer[] = [];
  private length = 0;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly highWater = 1 << 20,
  ) {
    socket.on("data", (b: Buffer) => {
      this.chunks.push(b);
      this.length += b.length;
      if (this.length > this.highWater) socket.pause();
      this.notify();
    });
    const end = () => {
      this.closed = true;
      this.notify();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  get buffered(): number {
    return this.length;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async waitFor(cond: () => boolean): Promise<void> {
    while (!cond()) {
      if (this.closed) throw new ConnectionClosed("connection closed");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Exactly n bytes (one copy only when they span chunks). */
  async read(n: number): Promise<Buffer> {
    await this.waitFor(() => this.length >= n);
    let out: Buffer;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0];
        const take = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, take);
        filled += take;
        if (take === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(take);
      }
    }
    this.length -= n;
    if (this.length <= this.highWater && this.socket.isPaused()) this.socket.resume();
    return out;
  }

  /** One line without its `\n` (and `\r`); throws when a line grows past `max` bytes. */
  async readLine(max: number): Promise<string> {
    let scanned = 0;
    for (;;) {
      const at = this.indexOfNewline(scanned);
      if (at >= 0) {
        const line = (await this.read(at + 1)).toString("utf8", 0, at);
        return line.endsWith("\r") ? line.slice(0, -1) : line;
      }
      scanned = this.length;
      if (this.length > max) throw new Error(`line longer than ${max} bytes`);
      const before = this.length;
      await this.waitFor(() => this.length > before);
    }
  }

  private indexOfNewline(from: number): number {
    let offset = 0;
    for (const c of this.chunks) {
      if (offset + c.length > from) {
        const i = c.indexOf(10, Math.max(0, from - offset));
        if (i >= 0) return offset + i;
      }
      offset += c.length;
    }
    return -1;
  }
}
