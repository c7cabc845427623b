/**
 * Cancel as the callee (spec §5.5), as libqi 4.0.5 does it: a Cancel is a request. A method
 * that stops on its AbortSignal is answered Canceled (or Error "Call has been canceled."
 * without the shared RemoteCancelableCalls); one that ignores it runs to its end and its real
 * result goes back. Exactly one answer either way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import type { Dynamic } from "../../src/wire/values.js";
import { RawPeer, unhex } from "../connection/raw-peer.js";
import { defaultCapabilities } from "../../src/connection/capabilities.js";
import { encodeCapabilityMap } from "../../src/connection/connection.js";

let sd: Session;
let url: string;
let finished: string[];
let aborted: string[];
const peers: RawPeer[] = [];

beforeAll(async () => {
  finished = [];
  aborted = [];
  sd = new Session();
  [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const obj = new QiObject()
    // 100: ignores its signal entirely.
    .method(
      "sleepy",
      "(i)",
      "i",
      (ms: number) =>
        new Promise((r) =>
          setTimeout(() => {
            finished.push("sleepy");
            r(ms);
          }, ms),
        ),
    )
    // 101: stops when cancelled.
    .method("polite", "(i)", "i", function (ms: number) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          finished.push("polite");
          resolve(ms);
        }, ms);
        this.signal.addEventListener("abort", () => {
          clearTimeout(t);
          aborted.push("polite");
          reject(this.signal.reason);
        });
      });
    });
  expect(await sd.registerService("Sleeper", obj)).toBe(2);
});

afterAll(async () => {
  for (const p of peers) p.destroy();
  await sd.close();
});

async function peer(caps = encodeCapabilityMap(defaultCapabilities())): Promise<RawPeer> {
  const p = await RawPeer.open(url);
  peers.push(p);
  await p.authenticate(caps);
  return p;
}

describe("Cancel (spec §5.5)", () => {
  it("a method that ignores its signal runs to its end: its real result is the one answer", async () => {
    const p = await peer();
    const answer = p.call(2, 1, 100, encode("(i)", [200]), 0, 9);
    await new Promise((r) => setTimeout(r, 20));
    p.writeBytes(unhex("42dead42 0a000000 04000000 0000 07 00 02000000 01000000 00000000 09000000"));
    const f = await answer;
    expect(f.msg.type).toBe(MessageType.Reply);
    expect(decode("i", f.msg.payload)).toBe(200);
    expect(finished).toContain("sleepy");
    await new Promise((r) => setTimeout(r, 30));
    expect(p.frames.filter((x) => x.msg.id === 9)).toHaveLength(1);
  });

  it("aborts the signal of a method that looks at it; one Canceled answer", async () => {
    const p = await peer();
    const answer = p.call(2, 1, 101, encode("(i)", [5_000]), 0, 33);
    await new Promise((r) => setTimeout(r, 20));
    p.send({
      id: p.freshId(),
      type: MessageType.Cancel,
      flags: 0,
      service: 2,
      object: 1,
      action: 0,
      payload: encode("I", 33),
    });
    const f = await answer;
    expect(f.msg.type).toBe(MessageType.Canceled);
    await new Promise((r) => setTimeout(r, 30));
    expect(aborted).toEqual(["polite"]);
    expect(p.frames.filter((x) => x.msg.id === 33)).toHaveLength(1);
  });

  it('without the shared RemoteCancelableCalls the answer is Error "Call has been canceled."', async () => {
    const p = await peer(encodeCapabilityMap(new Map([["MessageFlags", true]])));
    const answer = p.call(2, 1, 101, encode("(i)", [5_000]), 0, 44);
    await new Promise((r) => setTimeout(r, 10));
    p.send({
      id: p.freshId(),
      type: MessageType.Cancel,
      flags: 0,
      service: 2,
      object: 1,
      action: 0,
      payload: encode("I", 44),
    });
    const f = await answer;
    expect(f.msg.type).toBe(MessageType.Error);
    expect((decode("m", f.msg.payload) as Dynamic).value).toBe("Call has been canceled.");
  });

  it("a Cancel for an unknown or finished call is ignored", async () => {
    const p = await peer();
    p.send({
      id: p.freshId(),
      type: MessageType.Cancel,
      flags: 0,
      service: 2,
      object: 1,
      action: 0,
      payload: encode("I", 123456),
    });
    const f = await p.call(2, 1, 100, encode("(i)", [1]), 0, 55);
    expect(f.msg.type).toBe(MessageType.Reply);
    p.send({
      id: p.freshId(),
      type: MessageType.Cancel,
      flags: 0,
      service: 2,
      object: 1,
      action: 0,
      payload: encode("I", 55),
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(p.frames.filter((x) => x.msg.id === 55)).toHaveLength(1);
  });
});
