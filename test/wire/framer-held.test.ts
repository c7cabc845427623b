import { describe, expect, it } from "vitest";
import { Framer } from "../../src/wire/framer.js";
import { encodeHeader } from "../../src/wire/header.js";
import { HEADER_SIZE, type Message, MessageType } from "../../src/wire/message-types.js";

function frame(id: number, payloadSize: number): Uint8Array {
  const msg: Message = {
    id,
    type: MessageType.Call,
    flags: 0,
    service: 1,
    object: 1,
    action: 100,
    payload: new Uint8Array(payloadSize).fill(id & 0xff),
  };
  const out = new Uint8Array(HEADER_SIZE + payloadSize);
  encodeHeader(msg, payloadSize, out, 0);
  out.set(msg.payload, HEADER_SIZE);
  return out;
}

describe("Framer holds no buffer between messages (idle connections cost nothing)", () => {
  it("whole messages in one chunk: nothing held", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m));
    expect(f.heldBytes).toBe(0);
    f.push(frame(1, 10));
    expect(got).toHaveLength(1);
    expect(f.heldBytes).toBe(0);
  });

  it("a header split across chunks: its scratch is made then dropped", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m));
    const bytes = frame(2, 8);
    f.push(bytes.subarray(0, 10));
    expect(f.heldBytes).toBe(HEADER_SIZE);
    f.push(bytes.subarray(10));
    expect(got).toHaveLength(1);
    expect(f.heldBytes).toBe(0);
  });

  it("a payload spanning chunks is held only until it is delivered", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m));
    const bytes = frame(3, 100_000);
    f.push(bytes.subarray(0, 50_000));
    expect(f.heldBytes).toBeGreaterThan(0);
    f.push(bytes.subarray(50_000));
    expect(got).toHaveLength(1);
    expect(got[0].payload.length).toBe(100_000);
    expect(f.heldBytes).toBe(0);
  });

  it("pull mode: the read buffer is released once committed", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m), { readBufferSize: 4096 });
    const target = f.readBuffer();
    expect(f.heldBytes).toBe(4096);
    const bytes = frame(4, 16);
    target.set(bytes);
    f.commitRead(bytes.length);
    expect(got).toHaveLength(1);
    expect(f.heldBytes).toBe(0);
  });
});
