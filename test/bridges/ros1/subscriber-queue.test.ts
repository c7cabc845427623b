/**
 * One ROS subscriber's queue: one message in the socket, at most `limit` behind it, the
 * oldest dropped first when the subscriber does not keep up.
 */
import { describe, expect, it } from "vitest";
import { SubscriberQueue } from "../../../src/bridges/ros1/subscriber-queue.js";

/** A client whose writes complete only when the test says so (a reader that stalls). */
function stalledClient() {
  const written: number[] = [];
  const pending: Array<() => void> = [];
  return {
    written,
    client: {
      write(data: Uint8Array) {
        written.push(data[0]);
        return new Promise<void>((resolve) => pending.push(resolve));
      },
    },
    /** Lets the oldest write complete. */
    async flushOne() {
      pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe("SubscriberQueue", () => {
  it("keeps at most `limit` waiting, dropping the oldest, and sends the newest once the reader catches up", async () => {
    const c = stalledClient();
    let dropped = 0;
    let sent = 0;
    const q = new SubscriberQueue(
      c.client,
      3,
      () => dropped++,
      () => sent++,
    );
    for (let i = 1; i <= 10; i++) q.send(Uint8Array.of(i));
    expect(c.written).toEqual([1]);
    expect(q.depth).toBe(3);
    expect(dropped).toBe(6);
    for (let i = 0; i < 4; i++) await c.flushOne();
    expect(c.written).toEqual([1, 8, 9, 10]);
    expect(sent).toBe(4);
    expect(q.depth).toBe(0);
  });

  it("holds nothing after close", async () => {
    const c = stalledClient();
    const q = new SubscriberQueue(
      c.client,
      3,
      () => {},
      () => {},
    );
    q.send(Uint8Array.of(1));
    q.send(Uint8Array.of(2));
    q.close();
    q.send(Uint8Array.of(3));
    await c.flushOne();
    expect(c.written).toEqual([1]);
    expect(q.depth).toBe(0);
  });
});
