/**
 * The qi ↔ MCAP codec (shared by `qi record`, `qi play` and the console) and the guarded file
 * reader: values round-trip by signature, the camera frame is a RawImage with bounds-checked
 * lengths, and a hostile file cannot make the reader ask for more bytes than the file has.
 */
import { McapIndexedReader, TempBuffer } from "@mcap/core";
import { describe, expect, it } from "vitest";
import {
  channelDefinition,
  decodeEvent,
  decodeRawImage,
  encodeEvent,
  McapRecording,
  openRecording,
  type QiMember,
  RecordingFileError,
} from "../../src/record/index.js";
import { Optional, Raw, Struct } from "../../src/wire/index.js";

const signal = (signature: string): QiMember => ({ service: "S", member: "m", kind: "signal", signature });

describe("channel codec", () => {
  it("round-trips structured values by the recorded signature", () => {
    // A struct, a list, a map, 64-bit beyond 2^53, raw bytes.
    const sig = "((ii)<Point,x,y>[s]{si}Lr)";
    const member = signal(sig);
    const args = [
      new Struct("Point", { x: 1, y: -2 }),
      ["a", "b"],
      new Map([["k", 3]]),
      2n ** 60n + 1n,
      new Raw(new Uint8Array([0, 255, 7])),
    ];
    const back = decodeEvent(member, encodeEvent(member, args, 0n), 0) as unknown[];
    expect(back[0]).toEqual(args[0]);
    expect(back.slice(1, 4)).toEqual(args.slice(1, 4));
    expect([...(back[4] as Raw).bytes]).toEqual([0, 255, 7]);
    const schema = JSON.parse(new TextDecoder().decode(channelDefinition(member).schemaData));
    expect(schema.properties.args.prefixItems[0]).toMatchObject({ type: "object", title: "Point" });
    expect(schema.properties.args.prefixItems[4].properties.base64.contentEncoding).toBe("base64");
  });

  it("writes float32 values in their shortest form, which decode to the same float32", () => {
    const member = signal("(fd[f])");
    const f = Math.fround(0.8);
    const text = new TextDecoder().decode(encodeEvent(member, [f, 0.1, [Math.fround(-2.3), 1e-45]], 0n));
    // float32 parts short, the double untouched.
    expect(JSON.parse(text)).toEqual({ args: [0.8, 0.1, [-2.3, 1e-45]] });
    const back = decodeEvent(member, new TextEncoder().encode(text), 0) as [number, number, number[]];
    expect(back[0]).toBe(f);
    expect(back[2].map((x) => Math.fround(x))).toEqual([Math.fround(-2.3), Math.fround(1e-45)]);
    const property: QiMember = { service: "S", member: "p", kind: "property", signature: "f" };
    expect(new TextDecoder().decode(encodeEvent(property, f, 0n))).toBe('{"value":0.8}');
  });

  it("keeps optionals and property values", () => {
    const member: QiMember = { service: "S", member: "p", kind: "property", signature: "+s" };
    expect(decodeEvent(member, encodeEvent(member, Optional.of("x"), 0n), 0)).toEqual(Optional.of("x"));
    expect(decodeEvent(member, encodeEvent(member, Optional.NONE, 0n), 0)).toEqual(Optional.NONE);
  });

  it("writes the camera frame as a RawImage whose lengths are checked on the way back", () => {
    const member = signal("(iiIr)");
    const pixels = new Uint8Array(2 * 3 * 3).fill(9);
    const data = encodeEvent(member, [2, 3, 41, new Raw(pixels)], 1_500_000_000n);
    expect(channelDefinition(member)).toMatchObject({
      schemaName: "foxglove_msgs/RawImage",
      messageEncoding: "ros1",
    });
    const [w, h, seq, raw] = decodeEvent(member, data, 41) as [number, number, number, Raw];
    expect([w, h, seq, [...raw.bytes]]).toEqual([2, 3, 41, [...pixels]]);
    // A data length beyond the message: an error, not a read past the end.
    const lying = data.slice();
    new DataView(lying.buffer).setUint32(lying.length - pixels.length - 4, 0xffffffff, true);
    expect(() => decodeRawImage(lying)).toThrow(/needs 4294967295 bytes/);
  });
});

describe("openRecording", () => {
  async function smallRecording(): Promise<Uint8Array> {
    const buffer = new TempBuffer();
    const rec = await McapRecording.start(buffer);
    const key = await rec.addMember(signal("(i)"));
    for (let i = 0; i < 10; i++) rec.write(key, [i], BigInt(i) * 1000n);
    await rec.close();
    return buffer.get();
  }

  it("reads what McapRecording wrote", async () => {
    const bytes = await smallRecording();
    const reader = await McapIndexedReader.Initialize({ readable: new TempBuffer(bytes) });
    expect(reader.statistics?.messageCount).toBe(10n);
  });

  it("never asks the file for more bytes than it has, whatever its records claim", async () => {
    const bytes = await smallRecording();
    // Every u64 of the summary and footer in turn set to a huge length or offset.
    for (let at = bytes.length - 8 - 29; at < bytes.length - 8 - 8; at += 4) {
      const hostile = bytes.slice();
      new DataView(hostile.buffer).setBigUint64(at, 2n ** 62n, true);
      let largest = 0;
      const source = {
        size: hostile.length,
        read: async (offset: number, length: number) => {
          largest = Math.max(largest, length);
          return hostile.slice(offset, offset + length);
        },
      };
      try {
        const reader = await openRecording(source, "hostile.mcap");
        for await (const _ of reader.readMessages()) {
          // reading is what may fail
        }
      } catch (e) {
        expect(e).toBeInstanceOf(RecordingFileError);
        expect((e as Error).message).toMatch(/hostile\.mcap/);
      }
      expect(largest).toBeLessThanOrEqual(hostile.length);
    }
  });
});
