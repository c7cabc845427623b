/** Forwarders read every request payload whatever its flags (issue 10 item 2). */
import { describe, expect, it } from "vitest";
import { forwardedParams, passOn, requestSignature } from "../../src/object/relay.js";
import { QiObject } from "../../src/object/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageFlags, MessageType } from "../../src/wire/message-types.js";
import { ObjectRef } from "../../src/wire/values.js";

describe("forwarded request signatures", () => {
  const meta = new QiObject().method("keep", "(o)", "v", () => {}).metaObject();
  const uid = [...meta.methods.values()].find((m) => m.name === "keep")!.uid;
  const msg = (flags: number) => ({
    id: 1,
    type: MessageType.Call,
    flags,
    service: 5,
    object: 1,
    action: uid,
    payload: new Uint8Array(0),
  });

  it("keeps a signature for ReturnType and DynamicPayload (objects are never passed unseen)", () => {
    expect(forwardedParams(meta, msg(0))).toBe("(o)");
    expect(forwardedParams(meta, msg(MessageFlags.ReturnType))).toBe("((o)s)");
    expect(forwardedParams(meta, msg(MessageFlags.DynamicPayload))).toBe("m");
    expect(forwardedParams(meta, msg(MessageFlags.DynamicPayload | MessageFlags.ReturnType))).toBe("(ms)");
    expect(requestSignature("(i)", 0)).toBe("(i)");
  });

  it("reads the trailing ReturnType string as part of the payload", () => {
    const ctx = { objectUid: true };
    const ref = new ObjectRef(meta, 5, 0x80000001, new Uint8Array(20));
    const payload = Buffer.concat([encode("(o)", [ref], ctx), encode("s", "(i)")]);
    const seen: ObjectRef[] = [];
    const read = decode("((o)s)", payload, {
      ...ctx,
      importObject: (r) => {
        seen.push(r);
        return r;
      },
    });
    expect(seen.map((r) => r.objectId)).toEqual([0x80000001]);
    expect((read as unknown[])[1]).toBe("(i)");
    expect(() => passOn("((o)s)", payload, undefined, undefined)).toThrow(/cannot be passed on/);
  });
});
