/**
 * Replays spec §10 and the real libqi 4.0.5 captures against TS nodes: a raw TCP peer (Framer +
 * hand-written headers, no Connection) talks to a TS Service Directory (listenStandalone) and to
 * a TS host serving the Calc of the captures, and the bytes that come back are compared with
 * what libqi 4.0.5 wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultCapabilities } from "../../src/connection/capabilities.js";
import { encodeCapabilityMap } from "../../src/connection/connection.js";
import { QiObject } from "../../src/object/index.js";
import { SERVICE_INFO_SIGNATURE, SERVICE_INFO_SIGNATURE_V25, Session } from "../../src/session/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageFlags, MessageType } from "../../src/wire/message-types.js";
import { ByteString, Dynamic, Struct } from "../../src/wire/values.js";
import { CalcIds, libqiCalc } from "./calc.js";
import { capture } from "./fixtures.js";
import { type Frame, headerHex, hex, RawPeer, unhex } from "./raw-peer.js";

/** Spec §10 (A): the 6-capability map a 4.x client sends in its authenticate Call. */
const SPEC_A_PAYLOAD =
  "06000000" +
  "12000000" +
  Buffer.from("ClientServerSocket").toString("hex") +
  "0100000062" +
  "01" +
  "0c000000" +
  Buffer.from("MessageFlags").toString("hex") +
  "0100000062" +
  "01" +
  "0f000000" +
  Buffer.from("MetaObjectCache").toString("hex") +
  "0100000062" +
  "00" +
  "0c000000" +
  Buffer.from("ObjectPtrUID").toString("hex") +
  "0100000062" +
  "01" +
  "13000000" +
  Buffer.from("RelativeEndpointURI").toString("hex") +
  "0100000062" +
  "01" +
  "15000000" +
  Buffer.from("RemoteCancelableCalls").toString("hex") +
  "0100000062" +
  "01";
const SPEC_A_CALL = `42dead42 01000000 a1000000 0000 01 00 00000000 00000000 08000000 ${SPEC_A_PAYLOAD}`;

let sd: Session;
let host: Session;
let calc: QiObject;
let pair: QiObject;
let sdUrl: string;
let hostUrl: string;
const peers: RawPeer[] = [];

async function rawPeer(url: string, authenticate = true): Promise<RawPeer> {
  const p = await RawPeer.open(url);
  peers.push(p);
  if (authenticate) {
    const reply = await p.authenticate(unhex(SPEC_A_PAYLOAD));
    expect(reply.msg.type).toBe(MessageType.Reply);
  }
  return p;
}

beforeAll(async () => {
  sd = new Session({ machineId: "412e19bf-a39f-48c6-a222-413584355200" });
  [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  host = new Session({ machineId: "412e19bf-a39f-48c6-a222-413584355200" });
  await host.connect(sdUrl);
  calc = libqiCalc();
  expect(await host.registerService("Calc", calc)).toBe(2);
  // A method with parameters (is) as member 100, for the DynamicPayload example (L2).
  pair = new QiObject().method("pair", "(is)", "s", (n: number, s: string) => `${n}:${s}`);
  expect(await host.registerService("Pair", pair)).toBe(3);
  [hostUrl] = host.endpoints();
});

afterAll(async () => {
  for (const p of peers) p.destroy();
  await host?.close();
  await sd?.close();
});

describe("authentication (spec §5.1, §10 A/B)", () => {
  it("our default capability map is the 6-entry map of spec §10 (A)", () => {
    expect(hex(encodeCapabilityMap(defaultCapabilities()))).toBe(SPEC_A_PAYLOAD);
  });

  it("answers the authenticate Call of §10 (A) with exactly libqi's Reply (§10 B + capture)", async () => {
    const p = await rawPeer(sdUrl, false);
    const reply = p.waitFor(() => true);
    p.writeBytes(unhex(SPEC_A_CALL));
    const f = await reply;
    const payload = capture("sd_authenticate_reply_payload").hex;
    expect(payload.length / 2).toBe(0xbd);
    expect(hex(f.bytes)).toBe(
      headerHex({ id: 1, size: 0xbd, type: 2, flags: 0, service: 0, object: 0, action: 8 }) + payload,
    );
    // Bytewise key order: the 6 capabilities, then __qi_auth_state as I 3.
    expect(
      [...(decode("{sm}", f.msg.payload) as Map<string, Dynamic>)].map(([k, v]) => `${k}=${v.signature}`),
    ).toEqual([
      "ClientServerSocket=b",
      "MessageFlags=b",
      "MetaObjectCache=b",
      "ObjectPtrUID=b",
      "RelativeEndpointURI=b",
      "RemoteCancelableCalls=b",
      "__qi_auth_state=I",
    ]);
  });

  it("a repeated authenticate Call is answered {__qi_auth_state: 3} only (spec §4.3)", async () => {
    const p = await rawPeer(sdUrl);
    const f = await p.call(0, 0, 8, unhex(SPEC_A_PAYLOAD));
    expect(f.msg.type).toBe(MessageType.Reply);
    expect(hex(f.msg.payload)).toBe(
      `01000000 0f000000 ${Buffer.from("__qi_auth_state").toString("hex")} 01000000 49 03000000`.replace(
        / /g,
        "",
      ),
    );
  });
});

describe("Service Directory (service 1)", () => {
  it("metaObject(0) on (1,1) (§10 E) returns libqi 4.0.5's SD MetaObject byte for byte", async () => {
    const p = await rawPeer(sdUrl);
    const expected = capture("sd_metaobject_reply_payload").hex;
    const answer = p.waitFor((f) => f.msg.id === 4);
    p.writeBytes(unhex("42dead42 04000000 04000000 0000 01 00 01000000 01000000 02000000 00000000"));
    const f = await answer;
    expect(hex(f.header)).toBe(
      headerHex({ id: 4, size: expected.length / 2, type: 2, flags: 0, service: 1, object: 1, action: 2 }),
    );
    expect(hex(f.msg.payload)).toBe(expected);
  });

  it('services() (§10 C) has the captured shape: relative endpoints, sessionId "0", objectUid', async () => {
    const p = await rawPeer(sdUrl);
    const answer = p.waitFor((f) => f.msg.id === 2);
    p.writeBytes(unhex("42dead42 02000000 00000000 0000 01 00 01000000 01000000 65000000"));
    const f = await answer;
    expect(hex(f.header)).toBe(
      headerHex({
        id: 2,
        size: f.msg.payload.byteLength,
        type: 2,
        flags: 0,
        service: 1,
        object: 1,
        action: 101,
      }),
    );
    const cap = capture("sd_services_reply_payload");
    const ours = decode(cap.signature, f.msg.payload) as Struct[];
    const theirs = decode(cap.signature, unhex(cap.hex)) as Struct[];
    // Only SD + Calc + Pair here, libqi's capture had SD + Calc.
    expect(ours.map((s) => s.fields.name)).toEqual(["ServiceDirectory", "Calc", "Pair"]);
    // The libqi reply with our variable fields substituted must re-encode to our bytes.
    const substituted = theirs.map(
      (t, i) =>
        new Struct("ServiceInfo", {
          ...t.fields,
          ...pick(ours[i].fields, ["machineId", "processId", "endpoints", "sessionId", "objectUid"]),
        }),
    );
    substituted.push(ours[2]);
    expect(hex(encode(cap.signature, substituted))).toBe(hex(f.msg.payload));
    // And the substituted fields have the captured form.
    expect(ours[0].fields).toMatchObject({
      serviceId: 1,
      sessionId: "0",
      objectUid: "",
      endpoints: ["qi:ServiceDirectory", sdUrl],
    });
    expect(theirs[0].fields.endpoints).toEqual(["qi:ServiceDirectory", "tcp://127.0.0.1:19559"]);
    // Calc and Pair live behind the same endpoint: each gets the qi: name of both (libqi: qi:Calc only, one service there).
    expect(ours[1].fields.endpoints).toEqual(["qi:Calc", "qi:Pair", hostUrl]);
    expect(theirs[1].fields.endpoints).toEqual(["qi:Calc", "tcp://127.0.0.1:40187"]);
    expect(ours[1].fields.objectUid).toBeInstanceOf(ByteString);
    expect(hex((ours[1].fields.objectUid as ByteString).bytes)).toBe(hex(calc.uid));
    expect(ours[1].fields.sessionId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('service("Foo") of an unknown name (§10 D) answers libqi\'s Error text', async () => {
    const p = await rawPeer(sdUrl);
    const answer = p.waitFor((f) => f.msg.id === 3);
    p.writeBytes(unhex("42dead42 03000000 07000000 0000 01 00 01000000 01000000 64000000 03000000 466f6f"));
    const f = await answer;
    const text = "Cannot find service 'Foo' in index";
    const payload = encode("m", new Dynamic("s", text));
    expect(hex(f.bytes)).toBe(
      headerHex({ id: 3, size: payload.byteLength, type: 3, flags: 0, service: 1, object: 1, action: 100 }) +
        hex(payload),
    );
  });

  it("registerEvent on serviceAdded (§10 F) then an Event serviceAdded (§10 G)", async () => {
    const p = await rawPeer(sdUrl);
    const answer = p.waitFor((f) => f.msg.id === 5);
    p.writeBytes(
      unhex(
        "42dead42 05000000 10000000 0000 01 00 01000000 01000000 00000000 01000000 6a000000 01000000 6a000000",
      ),
    );
    const f = await answer;
    expect(hex(f.header)).toBe(
      headerHex({ id: 5, size: 8, type: 2, flags: 0, service: 1, object: 1, action: 0 }),
    );
    expect(hex(f.msg.payload).slice(8)).toBe("6a000000"); // server link: signal id in the high word, like libqi
    const event = p.waitFor((e) => e.msg.type === MessageType.Event);
    const extra = new Session();
    try {
      await extra.connect(sdUrl);
      const id = await extra.registerService("Foo", new QiObject());
      const e = await event;
      const payload = `${hex(encode("I", id))}03000000466f6f`;
      expect(hex(e.bytes)).toBe(
        headerHex({ id: e.msg.id, size: 11, type: 5, flags: 0, service: 1, object: 1, action: 106 }) +
          payload,
      );
      expect(e.msg.id).not.toBe(5);
    } finally {
      await extra.close();
    }
  });
});

describe("a Calc served by a TS host, against the Calc captures", () => {
  it("metaObject(0) on (2,1) equals calc_metaobject_reply_payload byte for byte", async () => {
    const p = await rawPeer(hostUrl);
    const f = await p.call(2, 1, 2, encode("(I)", [0]));
    const expected = capture("calc_metaobject_reply_payload").hex;
    expect(hex(f.header)).toBe(
      headerHex({
        id: f.msg.id,
        size: expected.length / 2,
        type: 2,
        flags: 0,
        service: 2,
        object: 1,
        action: 2,
      }),
    );
    expect(hex(f.msg.payload)).toBe(expected);
  });

  it("replies copy the Call's id, service, object and action (spec §1.5)", async () => {
    const p = await rawPeer(hostUrl);
    const f = await p.call(2, 1, CalcIds.add, encode("(ii)", [40, 2]), 0, 0xfedcba98);
    expect(hex(f.bytes)).toBe(
      headerHex({ id: 0xfedcba98, size: 4, type: 2, flags: 0, service: 2, object: 1, action: 100 }) +
        "2a000000",
    );
    const c = await p.call(2, 1, CalcIds.concat, encode("(ss)", ["foo", "bar"]), 0, 77);
    expect(hex(c.bytes)).toBe(
      headerHex({ id: 77, size: 10, type: 2, flags: 0, service: 2, object: 1, action: 102 }) +
        hex(encode("s", "foobar")),
    );
    const s = await p.call(2, 1, CalcIds.sum, encode("([i])", [[1, 2, 3, 4]]));
    expect(decode("i", s.msg.payload)).toBe(10);
    const k = await p.call(
      2,
      1,
      CalcIds.keys,
      encode("({si})", [
        new Map([
          ["b", 2],
          ["a", 1],
        ]),
      ]),
    );
    expect(decode("[s]", k.msg.payload)).toEqual(["a", "b"]);
  });

  it("registerEvent answers an L; tick(18) goes out as libqi's Event (header and payload)", async () => {
    const p = await rawPeer(hostUrl);
    const link = (107n << 32n) | 19n;
    const reg = await p.registerEvent(2, 1, CalcIds.tick, link);
    const cap = capture("calc_registerEvent_reply_payload");
    expect(cap.signature).toBe("L");
    expect(hex(reg.header)).toBe(
      headerHex({ id: reg.msg.id, size: 8, type: 2, flags: 0, service: 2, object: 1, action: 0 }),
    );
    expect(reg.msg.payload.byteLength).toBe(cap.hex.length / 2);
    // libqi answers (signal id << 32) | its own counter: the high word is the signal id.
    expect(hex(reg.msg.payload).slice(8)).toBe(cap.hex.slice(8));
    const events = [
      p.waitFor((f) => f.msg.type === MessageType.Event),
      p.waitFor((f) => f.msg.type === MessageType.Event && f.msg.payload[0] === 19),
    ];
    calc.emit("tick", 18);
    calc.emit("tick", 19);
    const [e1, e2] = await Promise.all(events);
    expect(capture("calc_tick_event_header").hex).toBe("type=5 flags=0 service=2 object=1 action=107");
    expect(hex(e1.bytes)).toBe(
      headerHex({ id: e1.msg.id, size: 4, type: 5, flags: 0, service: 2, object: 1, action: 107 }) +
        capture("calc_tick_event_payload").hex,
    );
    // Events carry fresh ids from the host's counter (not the registerEvent's id).
    expect(e1.msg.id).not.toBe(reg.msg.id);
    expect(e2.msg.id).toBeGreaterThan(e1.msg.id);
    // Unsubscribe with the same triple (spec §5.6): Reply void, and no more events.
    const un = await p.call(2, 1, 1, encode("(IIL)", [2, CalcIds.tick, link]));
    expect(hex(un.bytes)).toBe(
      headerHex({ id: un.msg.id, size: 0, type: 2, flags: 0, service: 2, object: 1, action: 1 }),
    );
    const before = p.frames.length;
    calc.emit("tick", 20);
    await new Promise((r) => setTimeout(r, 50));
    expect(p.frames.length).toBe(before);
    // An unknown link is an Error (spec §3.2); the invalid link 2^64-1 is a no-op success.
    expect((await p.call(2, 1, 1, encode("(IIL)", [2, CalcIds.tick, 12345n]))).msg.type).toBe(
      MessageType.Error,
    );
    expect((await p.call(2, 1, 1, encode("(IIL)", [2, CalcIds.tick, 0xffffffffffffffffn]))).msg.type).toBe(
      MessageType.Reply,
    );
  });

  it('property("level") and property(108) answer 010000006907000000', async () => {
    const p = await rawPeer(hostUrl);
    const expected = capture("calc_property_level_reply_payload").hex;
    expect(expected).toBe("010000006907000000");
    const byName = await p.call(2, 1, 5, encode("(m)", [new Dynamic("s", "level")]));
    expect(hex(byName.bytes)).toBe(
      headerHex({ id: byName.msg.id, size: 9, type: 2, flags: 0, service: 2, object: 1, action: 5 }) +
        expected,
    );
    const byId = await p.call(2, 1, 5, encode("(m)", [new Dynamic("I", CalcIds.level)]));
    expect(hex(byId.msg.payload)).toBe(expected);
    const names = await p.call(2, 1, 7);
    expect(decode("[s]", names.msg.payload)).toEqual(["level"]);
  });

  it('fail("boom") answers the captured Error payload (§10 H)', async () => {
    const p = await rawPeer(hostUrl);
    const f = await p.call(2, 1, CalcIds.fail, encode("(s)", ["boom"]), 0, 3);
    const expected = capture("calc_fail_error_payload").hex;
    expect(hex(f.bytes)).toBe(
      headerHex({ id: 3, size: 13, type: 3, flags: 0, service: 2, object: 1, action: 106 }) + expected,
    );
    // Spec §10 (H) gives the same payload.
    expect(expected).toBe("01000000730400000062" + "6f6f6d");
  });

  it("unknown actions and objects get libqi's error texts", async () => {
    const p = await rawPeer(hostUrl);
    const noMethod = await p.call(2, 1, 150, new Uint8Array(0), 0, 9);
    expect(noMethod.msg.type).toBe(MessageType.Error);
    expect((decode("m", noMethod.msg.payload) as Dynamic).value).toBe("No such method {2.1.150, id:9}");
    const noObject = await p.call(2, 7, 100);
    expect((decode("m", noObject.msg.payload) as Dynamic).value).toBe(
      "The call request could not be handled.",
    );
    const noService = await p.call(42, 1, 100);
    expect((decode("m", noService.msg.payload) as Dynamic).value).toBe(
      "The call request could not be handled.",
    );
  });
});

describe("DynamicPayload and ReturnType as receiver (spec §1.4)", () => {
  it("answers the DynamicPayload Call of §10 (L2)", async () => {
    const p = await rawPeer(hostUrl);
    // (L2) with service 3 (our Pair) instead of 12.
    const answer = p.waitFor((f) => f.msg.id === 12);
    p.writeBytes(
      unhex(
        "42dead42 0c000000 11000000 0000 01 01 03000000 01000000 64000000 04000000 28697329 01000000 01000000 78",
      ),
    );
    const f = await answer;
    expect(hex(f.bytes)).toBe(
      headerHex({ id: 12, size: 7, type: 2, flags: 0, service: 3, object: 1, action: 100 }) +
        hex(encode("s", "1:x")),
    );
  });

  it("converts a DynamicPayload tuple to the method's parameters, or answers an Error", async () => {
    const p = await rawPeer(hostUrl);
    const ok = await p.call(
      2,
      1,
      CalcIds.add,
      encode("m", new Dynamic("(ll)", [40n, 2n])),
      MessageFlags.DynamicPayload,
    );
    expect(ok.msg.type).toBe(MessageType.Reply);
    expect(hex(ok.msg.payload)).toBe("2a000000");
    const bad = await p.call(
      2,
      1,
      CalcIds.add,
      encode("m", new Dynamic("(ss)", ["a", "b"])),
      MessageFlags.DynamicPayload,
    );
    expect(bad.msg.type).toBe(MessageType.Error);
  });

  it("the L2 payload without the flag is what a dynamic parameter carries: echo(m) returns it unchanged", async () => {
    const p = await rawPeer(hostUrl);
    const payload = unhex("04000000 28697329 01000000 01000000 78");
    const f = await p.call(2, 1, CalcIds.echo, payload);
    expect(f.msg.type).toBe(MessageType.Reply);
    expect(hex(f.msg.payload)).toBe(hex(payload));
  });

  it("DynamicPayload and ReturnType together: the dynamic arguments, then the wanted signature", async () => {
    const p = await rawPeer(sdUrl);
    const payload = Buffer.concat([
      encode("m", new Dynamic("(s)", ["Calc"])),
      encode("s", SERVICE_INFO_SIGNATURE_V25),
    ]);
    const f = await p.call(1, 1, 100, payload, MessageFlags.DynamicPayload | MessageFlags.ReturnType);
    expect(f.msg.type).toBe(MessageType.Reply);
    expect(f.msg.flags).toBe(MessageFlags.DynamicPayload);
    const d = decode("m", f.msg.payload) as Dynamic;
    expect(d.signature).toBe(SERVICE_INFO_SIGNATURE_V25);
    expect((d.value as Struct).fields).toMatchObject({ name: "Calc", serviceId: 2 });
  });

  it('ReturnType: service("Calc") asked as a 6-field ServiceInfo gets a DynamicPayload 6-field struct', async () => {
    const p = await rawPeer(sdUrl);
    const payload = Buffer.concat([encode("s", "Calc"), encode("s", SERVICE_INFO_SIGNATURE_V25)]);
    const f = await p.call(1, 1, 100, payload, MessageFlags.ReturnType);
    expect(f.msg.type).toBe(MessageType.Reply);
    expect(f.msg.flags).toBe(MessageFlags.DynamicPayload);
    const d = decode("m", f.msg.payload) as Dynamic;
    expect(d.signature).toBe(SERVICE_INFO_SIGNATURE_V25);
    const s = d.value as Struct;
    expect(Object.keys(s.fields)).toEqual([
      "name",
      "serviceId",
      "machineId",
      "processId",
      "endpoints",
      "sessionId",
    ]);
    expect(s.fields).toMatchObject({ name: "Calc", serviceId: 2 });
    // Byte-exact: the dynamic is the requested signature followed by the 6-field encoding.
    expect(hex(f.msg.payload)).toBe(hex(encode("m", new Dynamic(SERVICE_INFO_SIGNATURE_V25, s))));
    // A plain call gets the 7-field form without flags.
    const plain = await p.call(1, 1, 100, encode("s", "Calc"));
    expect(plain.msg.flags).toBe(0);
    expect(Object.keys((decode(SERVICE_INFO_SIGNATURE, plain.msg.payload) as Struct).fields)).toHaveLength(7);
  });

  it("ReturnType on services() converts the list; an impossible ReturnType falls back to the advertised type", async () => {
    const p = await rawPeer(sdUrl);
    const f = await p.call(
      1,
      1,
      101,
      encode("s", `[${SERVICE_INFO_SIGNATURE_V25}]`),
      MessageFlags.ReturnType,
    );
    expect(f.msg.flags).toBe(MessageFlags.DynamicPayload);
    const list = (decode("m", f.msg.payload) as Dynamic).value as Struct[];
    expect(list.map((s) => Object.keys(s.fields).length)).toEqual([6, 6, 6]);
    const fallback = await p.call(
      2,
      1,
      100,
      Buffer.concat([encode("(ii)", [1, 2]), encode("s", "[s]")]),
      MessageFlags.ReturnType,
      undefined,
    );
    // Wrong service: the SD peer has no service 2; use the host for this one below.
    expect(fallback.msg.type).toBe(MessageType.Error);
    const h = await rawPeer(hostUrl);
    const fb = await h.call(
      2,
      1,
      CalcIds.add,
      Buffer.concat([encode("(ii)", [1, 2]), encode("s", "[s]")]),
      MessageFlags.ReturnType,
    );
    expect(fb.msg.flags).toBe(0);
    expect(hex(fb.msg.payload)).toBe("03000000");
  });

  it("registerEventWithSignature makes events DynamicPayload in the asked signature", async () => {
    const p = await rawPeer(hostUrl);
    const reg = await p.call(2, 1, 8, encode("(IILs)", [2, CalcIds.tick, (107n << 32n) | 1n, "(d)"]));
    expect(reg.msg.type).toBe(MessageType.Reply);
    expect(reg.msg.payload.byteLength).toBe(8);
    const event = p.waitFor((f: Frame) => f.msg.type === MessageType.Event);
    calc.emit("tick", 18);
    const e = await event;
    expect(e.msg.flags).toBe(MessageFlags.DynamicPayload);
    expect(hex(e.bytes)).toBe(
      headerHex({ id: e.msg.id, size: 15, type: 5, flags: 1, service: 2, object: 1, action: 107 }) +
        "030000002864290000000000003240",
    );
    await p.call(2, 1, 1, encode("(IIL)", [2, CalcIds.tick, (107n << 32n) | 1n]));
  });

  it('accepts a 2.5-style 6-field registerService sent as DynamicPayload (objectUid defaults to "")', async () => {
    const p = await rawPeer(sdUrl);
    const info25 = new Struct("ServiceInfo", {
      name: "Legacy25",
      serviceId: 0,
      machineId: "m25",
      processId: 25,
      endpoints: ["tcp://127.0.0.1:1"],
      sessionId: "s25",
    });
    const payload = encode("m", new Dynamic(`(${SERVICE_INFO_SIGNATURE_V25})`, [info25]));
    const reg = await p.call(1, 1, 102, payload, MessageFlags.DynamicPayload);
    expect(reg.msg.type).toBe(MessageType.Reply);
    const id = decode("I", reg.msg.payload) as number;
    expect(id).toBeGreaterThan(3);
    expect((await p.call(1, 1, 104, encode("(I)", [id]))).msg.type).toBe(MessageType.Reply);
    const info = await p.call(1, 1, 100, encode("s", "Legacy25"));
    const s = decode(SERVICE_INFO_SIGNATURE, info.msg.payload) as Struct;
    expect(s.fields).toMatchObject({
      name: "Legacy25",
      serviceId: id,
      machineId: "m25",
      processId: 25,
      sessionId: "s25",
      objectUid: "",
    });
    // Its services go away with the connection that registered them.
    const gone = new Promise<void>((resolve) =>
      sd.once("serviceUnregistered", (_i, n) => n === "Legacy25" && resolve()),
    );
    p.destroy();
    await gone;
  });
});

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}
