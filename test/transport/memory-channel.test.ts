import { describe, expect, it } from "vitest";
import { memoryChannelPair } from "../../src/transport/index.js";
import { type Message, MessageType } from "../../src/wire/message-types.js";

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
  it("carries messages both ways, in order, as copies of the sent bytes", async () => {
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
