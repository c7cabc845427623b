import { afterEach, describe, expect, it } from "vitest";
import { memoryChannelPair } from "../../src/transport/memory-channel.js";
import type { SocketChannel } from "../../src/transport/channel.js";
import { encodePayload, GatheredPayload, withPayload } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import { Raw } from "../../src/wire/values.js";
import { channelPair, collect, type Pair } from "../helpers/channels.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function pair(): Promise<Pair> {
  const p = await channelPair();
  cleanups.push(() => p.close());
  return p;
}

const header = (id: number) => ({ id, type: MessageType.Call, flags: 0, service: 1, object: 1, action: 100 });

function frameOf(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

describe("SocketChannel: gathered payloads go out by reference (writev), not concatenated", () => {
  it("the caller's block itself is written: a change before the tick's flush is what arrives", async () => {
    const { client, server } = await pair();
    const frame = frameOf(640 * 480 * 3, 1);
    const payload = encodePayload("r", new Raw(frame));
    expect(payload).toBeInstanceOf(GatheredPayload);
    const got = collect(server, 1);
    client.send(withPayload(header(1), payload));
    // Sent by reference: nothing was copied, so the bytes leave as they are at the write.
    frame.fill(7);
    const [m] = await got;
    expect(m.payload.length).toBe(frame.length + 4);
    expect(m.payload[4]).toBe(7);
    expect(m.payload[m.payload.length - 1]).toBe(7);
  });

  it("keeps order with plain messages sent around it, small parts batched", async () => {
    const { client, server } = await pair();
    const got = collect(server, 3);
    client.send(withPayload(header(1), Uint8Array.of(1, 2, 3)));
    const big = frameOf(100_000, 9);
    client.send(withPayload(header(2), encodePayload("(ir)", [5, new Raw(big)])));
    client.send(withPayload(header(3), Uint8Array.of(4)));
    const ms = await got;
    expect(ms.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(ms[1].payload.length).toBe(4 + 4 + big.length);
    expect(ms[1].payload.subarray(0, 8)).toEqual(Uint8Array.of(5, 0, 0, 0, 0xa0, 0x86, 0x01, 0));
    expect(ms[1].payload.every((b, i) => i < 8 || b === 9)).toBe(true);
  });

  it("holds no buffer once the tick's messages are flushed", async () => {
    const { client, server } = await pair();
    const got = collect(server, 2);
    client.send(withPayload(header(1), Uint8Array.of(1)));
    // The tick's batch, until the tick ends.
    expect((client as SocketChannel).heldBytes).toBeGreaterThan(0);
    client.send(withPayload(header(2), encodePayload("r", new Raw(frameOf(50_000, 2)))));
    await got;
    expect((client as SocketChannel).heldBytes).toBe(0);
    expect((server as SocketChannel).heldBytes).toBe(0);
  });
});

describe("channels that need one array read the gathered message's payload", () => {
  it("the memory pair delivers the same bytes", async () => {
    const [a, b] = memoryChannelPair();
    cleanups.push(() => a.destroy());
    const frame = frameOf(70_000, 3);
    const got = collect(b, 1);
    a.send(withPayload(header(1), encodePayload("r", new Raw(frame))));
    const [m] = await got;
    expect(m.payload.length).toBe(70_004);
    expect(m.payload.subarray(4).every((x) => x === 3)).toBe(true);
  });
});
