import { describe, expect, it } from "vitest";
import { WireError } from "../../src/wire/errors.js";
import {
  decodeHeader,
  encodeHeader,
  encodeMessage,
  headerBytes,
  nextMessageId,
  setMessageIdCounter,
} from "../../src/wire/header.js";
import {
  DEFAULT_MAX_PAYLOAD,
  HEADER_SIZE,
  type Message,
  MessageFlags,
  MessageType,
} from "../../src/wire/message-types.js";
import { concat, hex, toHex } from "./framer-helpers.js";

// The six capability entries of spec §10 (A), each value a dynamic "b".
const CAPS_6 = `
12 00 00 00 "ClientServerSocket" 01 00 00 00 62 01
0c 00 00 00 "MessageFlags"       01 00 00 00 62 01
0f 00 00 00 "MetaObjectCache"    01 00 00 00 62 00
0c 00 00 00 "ObjectPtrUID"       01 00 00 00 62 01
13 00 00 00 "RelativeEndpointURI" 01 00 00 00 62 01
15 00 00 00 "RemoteCancelableCalls" 01 00 00 00 62 01`;

interface Example {
  name: string;
  header: string;
  payload: string;
  fields: Omit<Message, "payload" | "size" | "version">;
}

// Header and payload hex copied from spec §10. (F reply) is derived from the (F) text
// ("type 2, same address/id") and is not a spec hex line.
const EXAMPLES: Example[] = [
  {
    name: "(A) Authenticate Call, 4.x client",
    header: "42 de ad 42 | 01 00 00 00 | a1 00 00 00 | 00 00 01 00 | 00 00 00 00 | 00 00 00 00 | 08 00 00 00",
    payload: `06 00 00 00 ${CAPS_6}`,
    fields: { id: 1, type: MessageType.Call, flags: 0, service: 0, object: 0, action: 8 },
  },
  {
    name: "(B) Authenticate Reply, 4.x server",
    header: "42 de ad 42 | 01 00 00 00 | bd 00 00 00 | 00 00 02 00 | 00 00 00 00 | 00 00 00 00 | 08 00 00 00",
    payload: `07 00 00 00 ${CAPS_6}
      0f 00 00 00 "__qi_auth_state" 01 00 00 00 49 03 00 00 00`,
    fields: { id: 1, type: MessageType.Reply, flags: 0, service: 0, object: 0, action: 8 },
  },
  {
    name: "(C) services() on the SD",
    header: "42 de ad 42 02 00 00 00 00 00 00 00 00 00 01 00 01 00 00 00 01 00 00 00 65 00 00 00",
    payload: "",
    fields: { id: 2, type: MessageType.Call, flags: 0, service: 1, object: 1, action: 101 },
  },
  {
    name: '(D) service("Foo")',
    header: "42 de ad 42 03 00 00 00 07 00 00 00 00 00 01 00 01 00 00 00 01 00 00 00 64 00 00 00",
    payload: "03 00 00 00 46 6f 6f",
    fields: { id: 3, type: MessageType.Call, flags: 0, service: 1, object: 1, action: 100 },
  },
  {
    name: "(E) metaObject(0) on the SD",
    header: "42 de ad 42 04 00 00 00 04 00 00 00 00 00 01 00 01 00 00 00 01 00 00 00 02 00 00 00",
    payload: "00 00 00 00",
    fields: { id: 4, type: MessageType.Call, flags: 0, service: 1, object: 1, action: 2 },
  },
  {
    name: "(F) registerEvent(1, 106, link)",
    header: "42 de ad 42 05 00 00 00 10 00 00 00 00 00 01 00 01 00 00 00 01 00 00 00 00 00 00 00",
    payload: "01 00 00 00 6a 00 00 00 01 00 00 00 6a 00 00 00",
    fields: { id: 5, type: MessageType.Call, flags: 0, service: 1, object: 1, action: 0 },
  },
  {
    name: "(F reply) registerEvent Reply (derived)",
    header: "42 de ad 42 05 00 00 00 08 00 00 00 00 00 02 00 01 00 00 00 01 00 00 00 00 00 00 00",
    payload: "07 00 00 00 00 00 00 00",
    fields: { id: 5, type: MessageType.Reply, flags: 0, service: 1, object: 1, action: 0 },
  },
  {
    name: '(G) Event serviceAdded(12, "Foo")',
    header: "42 de ad 42 2a 00 00 00 0b 00 00 00 00 00 05 00 01 00 00 00 01 00 00 00 6a 00 00 00",
    payload: "0c 00 00 00 03 00 00 00 46 6f 6f",
    fields: { id: 42, type: MessageType.Event, flags: 0, service: 1, object: 1, action: 106 },
  },
  {
    name: '(H) Error "boom"',
    header: "42 de ad 42 03 00 00 00 0d 00 00 00 00 00 03 00 01 00 00 00 01 00 00 00 64 00 00 00",
    payload: "01 00 00 00 73 04 00 00 00 62 6f 6f 6d",
    fields: { id: 3, type: MessageType.Error, flags: 0, service: 1, object: 1, action: 100 },
  },
  {
    name: "(K) Cancel call 9",
    header: "42 de ad 42 0a 00 00 00 04 00 00 00 00 00 07 00 0c 00 00 00 01 00 00 00 00 00 00 00",
    payload: "09 00 00 00",
    fields: { id: 10, type: MessageType.Cancel, flags: 0, service: 12, object: 1, action: 0 },
  },
  {
    name: "(K) Canceled answer",
    header: "42 de ad 42 09 00 00 00 00 00 00 00 00 00 08 00 0c 00 00 00 01 00 00 00 64 00 00 00",
    payload: "",
    fields: { id: 9, type: MessageType.Canceled, flags: 0, service: 12, object: 1, action: 100 },
  },
  {
    name: "(L) Post terminate(12)",
    header: "42 de ad 42 0b 00 00 00 04 00 00 00 00 00 04 00 0c 00 00 00 03 00 00 00 03 00 00 00",
    payload: "0c 00 00 00",
    fields: { id: 11, type: MessageType.Post, flags: 0, service: 12, object: 3, action: 3 },
  },
  {
    name: "(L2) Call with DynamicPayload",
    header: "42 de ad 42 0c 00 00 00 11 00 00 00 00 00 01 01 0c 00 00 00 01 00 00 00 64 00 00 00",
    payload: "04 00 00 00 28 69 73 29 01 00 00 00 01 00 00 00 78",
    fields: {
      id: 12,
      type: MessageType.Call,
      flags: MessageFlags.DynamicPayload,
      service: 12,
      object: 1,
      action: 100,
    },
  },
];

/** A valid header (example C) to corrupt. */
const VALID = hex(EXAMPLES[2].header);

function corrupt(at: number, value: number, base = VALID): Uint8Array {
  const b = base.slice();
  b[at] = value;
  return b;
}

function catchWire(fn: () => unknown): WireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WireError);
    return e as WireError;
  }
  throw new Error("expected a WireError");
}

describe("spec §10 header examples", () => {
  for (const ex of EXAMPLES) {
    describe(ex.name, () => {
      const header = hex(ex.header);
      const payload = hex(ex.payload);
      const msg: Message = { ...ex.fields, payload };

      it("has a 28-byte header whose size field matches the payload", () => {
        expect(header.length).toBe(HEADER_SIZE);
        expect(header[8] | (header[9] << 8) | (header[10] << 16) | (header[11] << 24)).toBe(payload.length);
      });

      it("encodes byte for byte", () => {
        expect(toHex(encodeMessage(msg))).toBe(toHex(concat([header, payload])));
        expect(toHex(headerBytes(msg))).toBe(toHex(header));
        const target = new Uint8Array(40).fill(0xee);
        encodeHeader(msg, payload.length, target, 5);
        expect(toHex(target.subarray(5, 33))).toBe(toHex(header));
        expect(target[4]).toBe(0xee);
        expect(target[33]).toBe(0xee);
      });

      it("decodes back", () => {
        expect(decodeHeader(header)).toEqual({ ...ex.fields, size: payload.length, version: 0 });
        const shifted = concat([hex("ff ff ff"), header, payload]);
        expect(decodeHeader(shifted, 3)).toEqual({ ...ex.fields, size: payload.length, version: 0 });
      });
    });
  }

  it("(A) and (B) payload sizes are 161 and 189 as the headers say", () => {
    expect(hex(EXAMPLES[0].payload).length).toBe(161);
    expect(hex(EXAMPLES[1].payload).length).toBe(189);
  });
});

describe("encodeHeader", () => {
  it("ignores msg.size and uses the payload length", () => {
    const m: Message = {
      id: 7,
      size: 999,
      type: 2,
      flags: 0,
      service: 1,
      object: 1,
      action: 3,
      payload: hex("aa bb"),
    };
    expect(toHex(encodeMessage(m))).toBe(
      "42 de ad 42 07 00 00 00 02 00 00 00 00 00 02 00 01 00 00 00 01 00 00 00 03 00 00 00 aa bb",
    );
  });

  it("encodes full-range u32 fields little-endian", () => {
    const m: Message = {
      id: 0xffffffff,
      type: 8,
      flags: 0xff,
      service: 0x01020304,
      object: 0x80000000,
      action: 0xfffffffe,
      payload: new Uint8Array(0),
    };
    expect(toHex(headerBytes(m))).toBe(
      "42 de ad 42 ff ff ff ff 00 00 00 00 00 00 08 ff 04 03 02 01 00 00 00 80 fe ff ff ff",
    );
    expect(decodeHeader(headerBytes(m))).toEqual({ ...m, payload: undefined, size: 0, version: 0 });
  });

  it("rejects out-of-range fields with ERR_VALUE_MISMATCH", () => {
    const base: Message = {
      id: 1,
      type: 1,
      flags: 0,
      service: 0,
      object: 0,
      action: 0,
      payload: new Uint8Array(0),
    };
    for (const bad of [
      { id: -1 },
      { id: 2 ** 32 },
      { id: 1.5 },
      { id: Number.NaN },
      { type: 256 },
      { flags: -1 },
      { service: 2 ** 32 },
      { object: -3 },
      { action: 0.1 },
      { version: 0x10000 },
    ]) {
      expect(catchWire(() => headerBytes({ ...base, ...bad } as Message)).code).toBe(
        "QI_ERR_WIRE_VALUE_MISMATCH",
      );
    }
  });

  it("throws RangeError when the target is too small", () => {
    const m: Message = {
      id: 1,
      type: 1,
      flags: 0,
      service: 0,
      object: 0,
      action: 0,
      payload: new Uint8Array(0),
    };
    expect(() => encodeHeader(m, 0, new Uint8Array(27))).toThrow(RangeError);
    expect(() => encodeHeader(m, 0, new Uint8Array(30), 3)).toThrow(RangeError);
  });
});

describe("decodeHeader errors", () => {
  it("QI_ERR_WIRE_BAD_MAGIC at the header offset, for each of the 4 magic bytes", () => {
    for (let i = 0; i < 4; i++) {
      const e = catchWire(() => decodeHeader(corrupt(i, VALID[i] ^ 0x01)));
      expect(e.code).toBe("QI_ERR_WIRE_BAD_MAGIC");
      expect(e.offset).toBe(0);
    }
    // The byte-swapped integer form (42 AD DE 42) is not the magic.
    const swapped = concat([hex("42 ad de 42"), VALID.subarray(4)]);
    expect(catchWire(() => decodeHeader(swapped)).code).toBe("QI_ERR_WIRE_BAD_MAGIC");
    const e = catchWire(() => decodeHeader(concat([hex("00 00 00 00 00"), swapped]), 5));
    expect(e.offset).toBe(5);
  });

  it("QI_ERR_WIRE_BAD_VERSION at offset +12 (either version byte)", () => {
    for (const [at, v] of [
      [12, 1],
      [13, 1],
      [12, 0xff],
    ] as const) {
      const e = catchWire(() => decodeHeader(corrupt(at, v)));
      expect(e.code).toBe("QI_ERR_WIRE_BAD_VERSION");
      expect(e.offset).toBe(12);
    }
    const e = catchWire(() => decodeHeader(concat([new Uint8Array(10), corrupt(12, 2)]), 10));
    expect(e.offset).toBe(22);
  });

  it("QI_ERR_WIRE_BAD_TYPE at offset +14 for 0 and 9..255; 1..8 accepted", () => {
    for (const t of [0, 9, 10, 0x80, 0xff]) {
      const e = catchWire(() => decodeHeader(corrupt(14, t)));
      expect(e.code).toBe("QI_ERR_WIRE_BAD_TYPE");
      expect(e.offset).toBe(14);
    }
    for (let t = 1; t <= 8; t++) expect(decodeHeader(corrupt(14, t)).type).toBe(t);
  });

  it("unknown flag bits: accepted by default (libqi ignores them), ERR_BAD_FLAGS at +15 when strict", () => {
    for (const f of [0x04, 0x80, 0xfc, 0xff]) {
      const b = corrupt(15, f);
      expect(decodeHeader(b).flags).toBe(f);
      const e = catchWire(() => decodeHeader(b, 0, { strictFlags: true }));
      expect(e.code).toBe("QI_ERR_WIRE_BAD_FLAGS");
      expect(e.offset).toBe(15);
      expect(catchWire(() => decodeHeader(b, 0, { strict: true })).code).toBe("QI_ERR_WIRE_BAD_FLAGS");
    }
    for (const f of [0, 1, 2, 3])
      expect(decodeHeader(corrupt(15, f), 0, { strictFlags: true }).flags).toBe(f);
  });

  it("QI_ERR_WIRE_PAYLOAD_TOO_LARGE at offset +8; default limit is DEFAULT_MAX_PAYLOAD", () => {
    const withSize = (n: number) => {
      const b = VALID.slice();
      new DataView(b.buffer).setUint32(8, n, true);
      return b;
    };
    expect(decodeHeader(withSize(DEFAULT_MAX_PAYLOAD)).size).toBe(DEFAULT_MAX_PAYLOAD);
    let e = catchWire(() => decodeHeader(withSize(DEFAULT_MAX_PAYLOAD + 1)));
    expect(e.code).toBe("QI_ERR_WIRE_PAYLOAD_TOO_LARGE");
    expect(e.offset).toBe(8);
    e = catchWire(() => decodeHeader(withSize(0xffffffff)));
    expect(e.code).toBe("QI_ERR_WIRE_PAYLOAD_TOO_LARGE");
    expect(decodeHeader(withSize(100), 0, { maxPayload: 100 }).size).toBe(100);
    e = catchWire(() => decodeHeader(concat([new Uint8Array(7), withSize(101)]), 7, { maxPayload: 100 }));
    expect(e.code).toBe("QI_ERR_WIRE_PAYLOAD_TOO_LARGE");
    expect(e.offset).toBe(15);
    // No limit at all (4.x default): the whole u32 range.
    expect(decodeHeader(withSize(0xffffffff), 0, { maxPayload: 0xffffffff }).size).toBe(0xffffffff);
  });

  it("QI_ERR_WIRE_TRUNCATED with the offset where the input ends", () => {
    for (let n = 0; n < HEADER_SIZE; n++) {
      const e = catchWire(() => decodeHeader(VALID.subarray(0, n)));
      expect(e.code).toBe("QI_ERR_WIRE_TRUNCATED");
      expect(e.offset).toBe(n);
    }
    const e = catchWire(() => decodeHeader(concat([new Uint8Array(4), VALID]), 5));
    expect(e.code).toBe("QI_ERR_WIRE_TRUNCATED");
    expect(e.offset).toBe(32);
  });

  it("checks magic before version, type, flags and size", () => {
    const all = VALID.slice();
    all[0] = 0;
    all[12] = 1;
    all[14] = 0;
    all[15] = 0xff;
    all[11] = 0xff;
    expect(catchWire(() => decodeHeader(all, 0, { strictFlags: true })).code).toBe("QI_ERR_WIRE_BAD_MAGIC");
    all[0] = 0x42;
    expect(catchWire(() => decodeHeader(all, 0, { strictFlags: true })).code).toBe("QI_ERR_WIRE_BAD_VERSION");
    all[12] = 0;
    expect(catchWire(() => decodeHeader(all, 0, { strictFlags: true })).code).toBe("QI_ERR_WIRE_BAD_TYPE");
    all[14] = 1;
    expect(catchWire(() => decodeHeader(all, 0, { strictFlags: true })).code).toBe("QI_ERR_WIRE_BAD_FLAGS");
    all[15] = 0;
    expect(catchWire(() => decodeHeader(all, 0, { strictFlags: true })).code).toBe(
      "QI_ERR_WIRE_PAYLOAD_TOO_LARGE",
    );
  });
});

describe("nextMessageId (spec §1.5)", () => {
  it("is pre-incremented from 0: first id 1, then consecutive", () => {
    setMessageIdCounter(0);
    expect([nextMessageId(), nextMessageId(), nextMessageId()]).toEqual([1, 2, 3]);
  });

  it("wraps from 0xFFFFFFFF to 1, never 0", () => {
    setMessageIdCounter(0xfffffffe);
    expect(nextMessageId()).toBe(0xffffffff);
    expect(nextMessageId()).toBe(1);
    expect(nextMessageId()).toBe(2);
  });

  it("rejects out-of-range counters", () => {
    expect(() => setMessageIdCounter(-1)).toThrow(RangeError);
    expect(() => setMessageIdCounter(2 ** 32)).toThrow(RangeError);
  });
});
