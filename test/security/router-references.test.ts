/**
 * Issue 10 item 2 against a real gateway process: a user passes raw object references under
 * the ReturnType and DynamicPayload flags, naming the ids another user's callback could have
 * (the old sequential ones from 2^31, and a sweep of the random range). Every reference is
 * mapped to the sender's own objects: the Vault asks the attacker, never the victim.
 */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { encode } from "../../src/wire/codec.js";
import { MessageFlags, MessageType } from "../../src/wire/message-types.js";
import { Dynamic, ObjectRef } from "../../src/wire/values.js";
import { HostileClient } from "./fixtures/router-client.js";
import { login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";

afterEach(runCleanup);

const SECRET = "alice-callback-secret-7f3a";

describe("object references smuggled past the rewriting (real gateway)", () => {
  it("maps every reference, whatever the flags: the victim's secret never leaks", async () => {
    const t = await startTarget();
    const canary = await startCanary(t.gateway.tcpUrl);
    const alice = await login(t.gateway.tcpUrl, USERS.alice);
    const holder = new QiObject().method("secret", "()", "s", () => SECRET);
    await (await alice.service("Vault")).call("keep", holder);

    const bob = await HostileClient.connect(t.gateway.tcpUrl, USERS.bob);
    const vaultId = await bob.serviceId("Vault");
    const probeUid = [...(await bob.metaObject(vaultId)).methods.values()].find(
      (m) => m.name === "probe",
    )!.uid;
    const meta = new QiObject().method("secret", "()", "s", () => "").metaObject();
    const ctx = { objectUid: true };
    const flagSets = [
      MessageFlags.ReturnType,
      MessageFlags.DynamicPayload,
      MessageFlags.ReturnType | MessageFlags.DynamicPayload,
    ];
    const ids = [
      ...Array.from({ length: 16 }, (_, i) => 0x80000000 + i),
      ...Array.from({ length: 16 }, (_, i) => 0xc0000000 + i * 0x03ffffff),
    ];
    const answers = [];
    for (const flags of flagSets) {
      for (const id of ids) {
        const ref = new ObjectRef(meta, vaultId, id, new Uint8Array(20));
        const args =
          flags & MessageFlags.DynamicPayload
            ? encode("m", new Dynamic("(o)", [ref]), ctx)
            : encode("(o)", [ref], ctx);
        const payload = flags & MessageFlags.ReturnType ? Buffer.concat([args, encode("s", "s")]) : args;
        answers.push(bob.call(vaultId, 1, probeUid, payload, flags));
      }
    }
    const settled = await Promise.all(answers);
    const leaked = settled.filter((m) => Buffer.from(m.payload).includes(Buffer.from(SECRET)));
    expect(leaked).toEqual([]);
    expect(settled.every((m) => m.type === MessageType.Error)).toBe(true);
    // Each probe asked the attacker's own (unserved) object: the reference was mapped.
    expect(bob.requests).toHaveLength(flagSets.length * ids.length);
    // The victim's callback still works for the victim.
    expect(await (await alice.service("Vault")).call("probe", holder)).toBe(SECRET);
    expect((await canary.stop()).failures).toEqual([]);
    expect(t.gateway.alive()).toBe(true);
  });
});
