/** CallForwarder over memory channels: forwarding, the duplicate-id owner, limits, clean-up. */
import { afterEach, describe, expect, it } from "vitest";
import { decodeErrorPayload } from "../../../src/connection/index.js";
import { decode, encode, type Message, MessageType } from "../../../src/wire/index.js";
import { closeWorlds, routerWorld, SERVICE_ID, uid, until } from "./harness.js";

afterEach(closeWorlds);

describe("router: call forwarding", () => {
  it("forwards a call and its answer, and counts it for the service", async () => {
    const w = await routerWorld();
    const { remote } = await w.client();
    const add = uid(w.service.metaObject(), "add");
    const reply = await remote.call({ service: SERVICE_ID, object: 1, action: add }, encode("(ii)", [2, 3]));
    expect(decode("i", reply.payload)).toBe(5);
    expect(await w.metrics.text()).toMatch(/qi_gateway_calls_total\{service="Calc"\} 1/);
    expect(await w.metrics.text()).toMatch(/qi_gateway_call_seconds_count\{service="Calc"\} 1/);
  });

  it("leaves duplicate call ids to the connection: a reused id never reaches link.inflight", async () => {
    const w = await routerWorld();
    const { link, remote } = await w.client();
    const meta = w.service.metaObject();
    const answers: Message[] = [];
    remote.channel.onMessage((m) => {
      if (m.type !== MessageType.Event) answers.push(m);
    });
    const call = (action: number, payload: Uint8Array) =>
      remote.send({
        id: 424242,
        type: MessageType.Call,
        flags: 0,
        service: SERVICE_ID,
        object: 1,
        action,
        payload,
      });
    call(uid(meta, "slow"), encode("(i)", [9]));
    await until(() => w.service.waiting() === 1, "the slow call at the service");
    call(uid(meta, "add"), encode("(ii)", [1, 1]));
    await until(() => answers.length === 1, "the refusal");
    expect(answers[0].type).toBe(MessageType.Error);
    expect(decodeErrorPayload(answers[0].payload)).toMatch(/duplicate message id 424242/);
    expect(link.inflight.size).toBe(1);
    w.service.release();
    await until(() => answers.length === 2, "the slow call's answer");
    expect(answers[1].type).toBe(MessageType.Reply);
    expect(decode("i", answers[1].payload)).toBe(9);
    expect(link.inflight.size).toBe(0);
  });

  it("refuses calls over maxPendingCalls and forwards again once answered", async () => {
    const w = await routerWorld({ limits: { maxPendingCalls: 2 } });
    const { remote } = await w.client();
    const slow = uid(w.service.metaObject(), "slow");
    const address = { service: SERVICE_ID, object: 1, action: slow };
    const first = [remote.call(address, encode("(i)", [1])), remote.call(address, encode("(i)", [2]))];
    await expect(remote.call(address, encode("(i)", [3]))).rejects.toThrow(/Too many pending calls/);
    // Released as they reach the service (in sync dispatch mode, one at a time).
    const both = Promise.all(first);
    let answered = false;
    both.then(() => (answered = true));
    await until(() => {
      w.service.release();
      return answered;
    }, "both answers");
    expect((await both).map((m) => decode("i", m.payload))).toEqual([1, 2]);
    const again = remote.call(address, encode("(i)", [4]));
    await until(() => w.service.waiting() === 1, "the call at the service");
    w.service.release();
    expect(decode("i", (await again).payload)).toBe(4);
  });

  it("gives up on a departing client's calls upstream at once", async () => {
    const w = await routerWorld();
    const { link, remote } = await w.client();
    const slow = uid(w.service.metaObject(), "slow");
    const pending = remote.call({ service: SERVICE_ID, object: 1, action: slow }, encode("(i)", [1]));
    pending.catch(() => {});
    await until(() => w.upstream.pendingCalls === 1, "the call forwarded");
    remote.close();
    await until(() => !w.router.clients.has(link), "the client gone");
    expect(link.inflight.size).toBe(0);
    expect(w.upstream.pendingCalls).toBe(0);
  });

  it("answers a call to an unknown service or object without forwarding it", async () => {
    const w = await routerWorld();
    const { remote } = await w.client();
    await expect(remote.call({ service: 99, object: 1, action: 100 }, new Uint8Array())).rejects.toThrow(
      /could not be handled/,
    );
    await expect(
      remote.call({ service: SERVICE_ID, object: 5, action: 100 }, new Uint8Array()),
    ).rejects.toThrow(/could not be handled/);
    expect(w.upstream.pendingCalls).toBe(0);
  });

  it("answers 64 pipelined calls each under the client's own id, and keeps no record of them after", async () => {
    const w = await routerWorld();
    const { link, remote } = await w.client();
    const address = { service: SERVICE_ID, object: 1, action: uid(w.service.metaObject(), "add") };
    const replies = await Promise.all(
      Array.from({ length: 64 }, (_, i) => remote.call(address, encode("(ii)", [i, 1000]))),
    );
    expect(replies.map((m) => decode("i", m.payload))).toEqual(
      Array.from({ length: 64 }, (_, i) => i + 1000),
    );
    expect(link.inflight.size).toBe(0);
    expect(w.upstream.pendingCalls).toBe(0);
    expect(await w.metrics.text()).toMatch(/qi_gateway_call_seconds_count\{service="Calc"\} 64/);
  });

  it("forwards a client's Cancel and relays the service's real answer, never a made-up Canceled", async () => {
    const w = await routerWorld();
    const { link, remote } = await w.client();
    const address = { service: SERVICE_ID, object: 1, action: uid(w.service.metaObject(), "slow") };
    const ac = new AbortController();
    const answers: Message[] = [];
    remote.channel.onMessage((m) => {
      if (m.type === MessageType.Reply || m.type === MessageType.Error || m.type === MessageType.Canceled)
        answers.push(m);
    });
    const call = remote.call(address, encode("(i)", [41]), { signal: ac.signal });
    call.catch(() => {});
    await until(() => w.service.waiting() === 1, "the slow call at the service");
    const [forwarded] = link.inflight.values();
    ac.abort();
    await until(() => forwarded.relayLate !== undefined, "the Cancel at the gateway");
    // Still counted against the client's limit until the service answers.
    expect(link.inflight.size).toBe(1);
    w.service.release();
    await until(() => answers.length === 1, "the service's answer relayed");
    expect(answers[0].type).toBe(MessageType.Reply);
    expect(decode("i", answers[0].payload)).toBe(41);
    expect(link.inflight.size).toBe(0);
  });

  it("fails every call in flight when the service's connection closes, naming the service only", async () => {
    const w = await routerWorld();
    const { link, remote } = await w.client();
    const address = { service: SERVICE_ID, object: 1, action: uid(w.service.metaObject(), "slow") };
    const calls = [1, 2, 3].map((i) => remote.call(address, encode("(i)", [i])).catch((e: Error) => e));
    // Forwarded, all three (in sync dispatch mode the service takes them one at a time).
    await until(() => w.upstream.pendingCalls === 3 && w.service.waiting() >= 1, "the calls forwarded");
    w.serviceEnd.close();
    for (const e of await Promise.all(calls)) {
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).toBe('Service "Calc" is unavailable.');
    }
    expect(link.inflight.size).toBe(0);
  });
});
