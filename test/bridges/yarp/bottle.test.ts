/**
 * Bottles and the tcp carrier's layouts, checked against bytes the real YARP 3.7.2 sent
 * (`yarp rpc` typing `say "hello" 3 2.5 (1 2) {1 2}`), and hostile input refused cleanly.
 */
import { describe, expect, it } from "vitest";
import {
  BottleError,
  decodeBottle,
  encodeBottleBytes,
  Float,
  Vocab,
} from "../../../src/bridges/yarp/bottle.js";
import { bottleToText, textToBottle } from "../../../src/bridges/yarp/bottle-text.js";
import {
  classifyOpening,
  dataMessage,
  readPortHeader,
  tcpOpening,
} from "../../../src/bridges/yarp/carrier.js";
import { bottleToArgs, qiToItem } from "../../../src/bridges/yarp/convert.js";
import { encodeRgbImage } from "../../../src/bridges/yarp/image.js";
import { parseNameServer } from "../../../src/bridges/yarp/name-client.js";
import { readerName } from "../../../src/bridges/yarp/port.js";
import { parseSettings } from "../../../src/bridges/yarp/settings.js";
import { parseSignature, Raw } from "../../../src/wire/index.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

// Captured from yarp rpc: a mixed list of 6 items; (1 2) is a homogeneous int32 list (tag 0x101).
const FROM_YARP = hex(`
  00010000 06000000
  04000000 03000000 736179
  04000000 05000000 68656c6c6f
  01000000 03000000
  0a000000 0000000000000440
  01010000 02000000 01000000 02000000
  0c000000 02000000 0102`);

describe("binary Bottles", () => {
  it("decode what YARP sends, homogeneous lists included", () => {
    const b = decodeBottle(FROM_YARP);
    expect(b.slice(0, 3)).toEqual(["say", "hello", 3]);
    expect(b[3]).toEqual(new Float(2.5));
    expect(b[4]).toEqual([1, 2]);
    expect(Buffer.from(b[5] as Uint8Array)).toEqual(Buffer.from([1, 2]));
  });

  it("encode to what YARP reads (mixed lists) and round-trip", () => {
    const bottle = ["ok", 42, "x y", new Float(2.5)];
    const bytes = encodeBottleBytes(bottle);
    expect(bytes.subarray(0, 8)).toEqual(hex("00010000 04000000"));
    expect(decodeBottle(bytes)).toEqual(bottle);
    const nested = [[1, [2, "a"]], Vocab.of("mat"), 2n ** 60n, new Uint8Array(20_000).fill(7)];
    expect(decodeBottle(encodeBottleBytes(nested))).toEqual(nested);
  });

  it("refuse truncated, unknown, over-deep and over-long input with a BottleError", () => {
    expect(() => decodeBottle(FROM_YARP.subarray(0, FROM_YARP.length - 1))).toThrow(BottleError);
    expect(() => decodeBottle(hex("00010000 01000000 77000000"))).toThrow(/unknown Bottle tag/);
    expect(() => decodeBottle(hex("00010000 ffffff7f"))).toThrow(/bad list length/);
    let deep: unknown[] = [];
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => decodeBottle(encodeBottleBytes(deep as never))).toThrow(/nested too deeply/);
    expect(() => decodeBottle(hex("01000000"))).toThrow(/list tag/);
  });
});

describe("text Bottles", () => {
  it("print as yarp read does and parse as yarp write does", () => {
    expect(
      bottleToText(["ok", 42, "x y", new Float(2.5), new Float(3), [1, "a"], new Uint8Array([1, 2])]),
    ).toBe('ok 42 "x y" 2.5 3.0 (1 a) {1 2}');
    expect(textToBottle('say "hello \\"you\\"" 3 -2.5e1 (1 (2)) {1 2} [ok]')).toEqual([
      "say",
      'hello "you"',
      3,
      new Float(-25),
      [1, [2]],
      new Uint8Array([1, 2]),
      Vocab.of("ok"),
    ]);
  });

  it("refuse unbalanced input", () => {
    expect(() => textToBottle("(1 2")).toThrow(BottleError);
    expect(() => textToBottle("1 2)")).toThrow(BottleError);
    expect(() => textToBottle('"open')).toThrow(BottleError);
    expect(() => textToBottle("{1 300}")).toThrow(/byte values/);
  });
});

describe("tcp carrier layouts", () => {
  it("open with YA E4 1E 00 00 RP and the sender name, as YARP does", () => {
    expect(tcpOpening("/w12")).toEqual(hex("5941e41e00005250 05000000 2f77313200"));
    expect(classifyOpening(hex("5941e41e00005250"))).toEqual({ kind: "tcp", ack: true });
    expect(classifyOpening(hex("5941641e00005250"))).toEqual({ kind: "tcp", ack: false });
    expect(classifyOpening(Buffer.from("CONNACK "))).toEqual({ kind: "text", ack: true });
    expect(classifyOpening(Buffer.from("GET / HT")).kind).toBe("unknown");
  });

  it("index a data message: two blocks (port header, Bottle) and a zero reply length", () => {
    const [index, header] = dataMessage([Buffer.alloc(38)], false);
    expect(index).toEqual(hex("59410a0000005250 0201ffffffffffffffff 08000000 26000000 00000000"));
    expect(readPortHeader(Buffer.concat([header, Buffer.alloc(4)])).kind).toBe("D");
  });

  it("write a camera frame as a yarp::sig::Image", () => {
    const [header, pixels] = encodeRgbImage(4, 2, new Uint8Array(24))!;
    expect(header.length).toBe(60);
    expect(decodeBottle(Buffer.concat([header, pixels]))).toEqual([
      Vocab.of("mat"),
      Vocab.of("rgb"),
      [3, 24, 1, 4, 2],
      new Uint8Array(24),
    ]);
    expect(encodeRgbImage(4, 2, new Uint8Array(23))).toBeUndefined();
  });
});

describe("qi ↔ Bottle", () => {
  it("converts arguments by the method's signature", () => {
    expect(bottleToArgs(["hi", 1, new Float(0.5)], "(sbf)")).toEqual(["hi", true, 0.5]);
    expect(bottleToArgs([[1, 2], new Uint8Array([9])], "([i]r)")).toEqual([
      [1, 2],
      new Raw(new Uint8Array([9])),
    ]);
    expect(() => bottleToArgs(["x"], "(i)")).toThrow(/argument 1/);
    expect(() => bottleToArgs([], "(s)")).toThrow(/expected 1, got 0/);
  });

  it("keeps floats as floats and raw bytes as blobs", () => {
    expect(qiToItem(87, parseSignature("f"))).toEqual(new Float(87));
    expect(qiToItem(new Map([["a", 1]]), parseSignature("{si}"))).toEqual([["a", 1]]);
    expect(qiToItem(new Raw(new Uint8Array([1])))).toEqual(new Uint8Array([1]));
  });
});

describe("settings", () => {
  it("map nothing unless told, the simulated robot under qi start", () => {
    expect(() => parseSettings({}, false)).toThrow(/bridges\.yarp\.services/);
    expect(Object.keys(parseSettings({}, true).services)).toContain("ALTextToSpeech");
    expect(() => parseSettings({ services: { S: { rpc: ["a b"] } } }, false)).toThrow(/services\.S\.rpc/);
    expect(() => parseSettings({ queue: 0 }, true)).toThrow(/bridges\.yarp\.queue/);
    expect(() => parseNameServer("localhost")).toThrow(/host:port/);
    expect(parseNameServer("127.0.0.1:10000")).toEqual({ host: "127.0.0.1", port: 10000 });
  });

  it("read reader names with a carrier prefix as YARP tools send them", () => {
    expect(readerName("tcp://r11")).toBe("/r11");
    expect(readerName("/r11")).toBe("/r11");
  });
});
