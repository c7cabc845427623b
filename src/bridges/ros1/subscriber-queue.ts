/**
 * One ROS subscriber's outgoing queue: one message on its way into the socket and at most
 * `limit` waiting behind it. When the subscriber reads too slowly the oldest waiting message
 * is dropped, so a stalled reader costs at most (limit + 1) messages of memory.
 */

/** What a TCPROS subscriber connection offers (@foxglove/ros1's Client). */
export interface SubscriberClient {
  /** Resolves once the bytes left for the kernel (the socket's write callback). */
  write(data: Uint8Array): Promise<void>;
}

export class SubscriberQueue {
  private readonly waiting: Uint8Array[] = [];
  private writing = false;
  private closed = false;

  constructor(
    private readonly client: SubscriberClient,
    private readonly limit: number,
    private readonly onDrop: () => void,
    private readonly onSent: () => void,
  ) {}

  /** Messages held for this subscriber now (waiting, not counting the one being written). */
  get depth(): number {
    return this.waiting.length;
  }

  send(data: Uint8Array): void {
    if (this.closed) return;
    if (!this.writing) {
      this.write(data);
      return;
    }
    this.waiting.push(data);
    if (this.waiting.length > this.limit) {
      this.waiting.shift();
      this.onDrop();
    }
  }

  close(): void {
    this.closed = true;
    this.waiting.length = 0;
  }

  private write(data: Uint8Array): void {
    this.writing = true;
    void this.client.write(data).then(() => {
      this.onSent();
      this.writing = false;
      const next = this.waiting.shift();
      if (next && !this.closed) this.write(next);
    });
  }
}
