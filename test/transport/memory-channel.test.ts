import { describe, expect, it } from "vitest";
import { memoryChannelPair } from "../../src/transport/index.js";
import { MEMORY_BY_REFERENCE_MIN } from "../../src/transport/memory-channel.js";
import { type Message, MessageType } from "../../src/wire/message-types.js";
import { passOn, POOL_MIN, reusedPayloads, takePayload } from "../../src/wire/payload-pool.js";

function call(id: number, size = 4): Message {
  return {
    id,
    type: MessageType.Call,
    flags: 0,
    service: 1,
    object: 1,
    action: 100,
    payload: new Uint8Array(size).fill(id & 0xff),
  };
}

function collect(ch: { onMessage(cb: (m: Message) => void): () => void }): Message[] {
  const got: Message[] = [];
  ch.onMessage((m) => got.push(m));
  return got;
}

const turn = () => new Promise((r) => setImmediate(r));

describe("memoryChannelPair", () => {
  it("carries messages both ways, in order, small payloads as copies of the sent bytes", async () => {
    const [a, b] = memoryChannelPair();
    const atB = collect(b);
    const atA = collect(a);
    const sent = call(1);
    a.send(sent);
    a.send(call(2));
    b.send(call(3));
    sent.payload.fill(0xee);
    await turn();
    expect(atB.map((m) => m.id)).toEqual([1, 2]);
    expect(Array.from(atB[0].payload)).toEqual([1, 1, 1, 1]);
    expect(atA.map((m) => m.id)).toEqual([3]);
  });

  it("hands a large payload over by reference: the receiver sees the sender's bytes, not a copy", async () => {
    const [a, b] = memoryChannelPair();
    const atB = collect(b);
    const frame = call(1, MEMORY_BY_REFERENCE_MIN);
    a.send(frame);
    await turn();
    expect(atB[0].payload).toBe(frame.payload);
    expect(atB[0].payload.byteLength).toBe(MEMORY_BY_REFERENCE_MIN);
    expect(atB[0]).not.toBe(frame);
    // Just under the threshold: copied, like every small payload.
    a.send(call(2, MEMORY_BY_REFERENCE_MIN - 1));
    await turn();
    expect(atB[1].payload).not.toBe(frame.payload);
    expect(atB[1].payload.buffer).not.toBe(frame.payload.buffer);
  });

  it("copies a passed-on payload once and gives its memory back to the pool at once", async () => {
    const [a, b] = memoryChannelPair();
    const atB = collect(b);
    const size = POOL_MIN + 1000;
    const pooled = takePayload(size, (n) => new Uint8Array(n));
    pooled.fill(9);
    passOn(pooled);
    const reusedBefore = reusedPayloads();
    a.send({ ...call(1), payload: pooled });
    // Written, as far as the pool knows: the memory went back to the pool (every view of it
    // detached), and the next payload of that size gets it.
    expect(pooled.byteLength).toBe(0);
    const next = takePayload(size, (n) => new Uint8Array(n));
    expect(reusedPayloads()).toBe(reusedBefore + 1);
    next.fill(0);
    await turn();
    expect(atB[0].payload.byteLength).toBe(size);
    expect(atB[0].payload.every((x) => x === 9)).toBe(true);
  });

  it("returns false past the high-water mark while the reader is paused, and drains on resume", async () => {
    const [a, b] = memoryChannelPair({ highWaterMark: 100 });
    const atB = collect(b);
    b.pause();
    let drains = 0;
    a.onDrain(() => drains++);
    expect(a.send(call(1, 50))).toBe(true);
    expect(a.send(call(2, 50))).toBe(false);
    const waited = a.sendAsync(call(3, 10));
    await turn();
    expect(atB).toHaveLength(0);
    expect(a.bufferedBytes).toBe(3 * 28 + 110);
    b.resume();
    await waited;
    expect(atB.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(drains).toBe(1);
    expect(a.bufferedBytes).toBe(0);
  });

  it("enforces the reader's payload limit like a socket channel", async () => {
    const [a, b] = memoryChannelPair({ maxPayload: 8 });
    const reasons: Array<Error | undefined> = [];
    b.onClose((r) => reasons.push(r));
    a.onClose((r) => reasons.push(r));
    collect(b);
    a.send(call(1, 9));
    await turn();
    expect(b.closed && a.closed).toBe(true);
    expect((reasons[0] as { code?: string }).code).toBe("QI_ERR_WIRE_PAYLOAD_TOO_LARGE");
  });

  it("close() delivers what was sent before closing both ends; destroy() drops it", async () => {
    const [a, b] = memoryChannelPair();
    const atB = collect(b);
    a.send(call(1));
    a.close();
    await turn();
    expect(atB.map((m) => m.id)).toEqual([1]);
    expect(a.closed && b.closed).toBe(true);
    expect(() => a.send(call(2))).toThrow(/closed/);

    const [c, d] = memoryChannelPair();
    const atD = collect(d);
    c.send(call(1));
    c.destroy();
    await turn();
    expect(atD).toHaveLength(0);
    expect(d.closed).toBe(true);
  });

  it("holds messages that arrive before the first handler", async () => {
    const [a, b] = memoryChannelPair();
    a.send(call(7));
    await turn();
    const atB = collect(b);
    await turn();
    expect(atB.map((m) => m.id)).toEqual([7]);
  });
});
