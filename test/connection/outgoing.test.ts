/**
 * Calls of ours (outgoing.ts) over a memory channel pair, against a raw server that shows every
 * message the Connection writes: ids, the pending table, timeouts, cancel, and closing.
 */
import { describe, expect, it } from "vitest";
import { isQiError } from "../../src/connection/index.js";
import { type Message, MessageType } from "../../src/wire/message-types.js";
import { encodeErrorPayload } from "../../src/connection/index.js";
import { readyClient } from "./memory-peer.js";

const TARGET = { service: 7, object: 1, action: 120 };
const isCall = (m: { type: MessageType; action: number }) => m.type === MessageType.Call && m.action === 120;

describe("calls of ours (outgoing.ts)", () => {
  it("gives each call its own id, counts it pending, and settles it with its own answer", async () => {
    const { conn, peer } = await readyClient();
    const a = conn.startCall(TARGET, Uint8Array.of(1));
    const b = conn.startCall(TARGET, Uint8Array.of(2));
    expect(a.id).not.toBe(b.id);
    expect(conn.pendingCalls).toBe(2);
    const callB = await peer.next((m) => m.id === b.id);
    expect(callB).toMatchObject({ type: MessageType.Call, ...TARGET });
    expect([...callB.payload]).toEqual([2]);
    peer.reply(callB, MessageType.Reply, Uint8Array.of(20));
    expect([...(await b.answer).payload]).toEqual([20]);
    expect(conn.pendingCalls).toBe(1);
    peer.reply(await peer.next((m) => m.id === a.id), MessageType.Error, encodeErrorPayload("no"));
    const e = await a.answer.catch((x: unknown) => x);
    expect(isQiError(e, "ERR_REMOTE") && e.message === "no" && e.remote).toBe(true);
    expect(conn.pendingCalls).toBe(0);
  });

  it("a Canceled answer rejects with ERR_CANCELED", async () => {
    const { conn, peer } = await readyClient();
    const call = conn.startCall(TARGET, new Uint8Array(0));
    peer.reply(await peer.next((m) => m.id === call.id), MessageType.Canceled);
    expect(isQiError(await call.answer.catch((x: unknown) => x), "ERR_CANCELED")).toBe(true);
  });

  it("an aborted signal rejects at once and sends a Cancel carrying the call's id", async () => {
    const { conn, peer } = await readyClient();
    const ac = new AbortController();
    const answer = conn.call(TARGET, new Uint8Array(0), { signal: ac.signal });
    const call = await peer.next(isCall);
    ac.abort();
    expect(isQiError(await answer.catch((x: unknown) => x), "ERR_CANCELED")).toBe(true);
    const cancel = await peer.next((m) => m.type === MessageType.Cancel);
    expect(cancel).toMatchObject({ service: 7, object: 1, action: 0 });
    expect(new DataView(cancel.payload.buffer, cancel.payload.byteOffset).getUint32(0, true)).toBe(call.id);
    expect(conn.pendingCalls).toBe(0);
    // An answer coming after is dropped.
    peer.reply(call);
    await peer.call({ action: 1 });
    expect(conn.pendingCalls).toBe(0);
  });

  it("a call already aborted is not sent", async () => {
    const { conn, peer } = await readyClient();
    const answer = conn.call(TARGET, new Uint8Array(0), { signal: AbortSignal.abort() });
    expect(isQiError(await answer.catch((x: unknown) => x), "ERR_CANCELED")).toBe(true);
    await peer.call({ action: 1 });
    expect(peer.received.some(isCall)).toBe(false);
  });

  it("timeoutMs rejects with ERR_TIMEOUT and cancels the call", async () => {
    const { conn, peer } = await readyClient();
    const e = await conn.call(TARGET, new Uint8Array(0), { timeoutMs: 20 }).catch((x: unknown) => x);
    expect(isQiError(e, "ERR_TIMEOUT")).toBe(true);
    await peer.next((m) => m.type === MessageType.Cancel);
  });

  it("maxPendingCalls: the call over the limit fails at once with ERR_LIMIT, unsent", async () => {
    const { conn, peer } = await readyClient({ maxPendingCalls: 2 });
    conn.call(TARGET, new Uint8Array(0)).catch(() => {});
    conn.call(TARGET, new Uint8Array(0)).catch(() => {});
    const over = conn.startCall(TARGET, new Uint8Array(0));
    expect(over.id).toBe(0);
    expect(isQiError(await over.answer.catch((x: unknown) => x), "ERR_LIMIT")).toBe(true);
    await peer.call({ action: 1 });
    expect(peer.received.filter(isCall)).toHaveLength(2);
  });

  it("cancelCall with onLateAnswer hands over the answer that comes after", async () => {
    const { conn, peer } = await readyClient();
    const call = conn.startCall(TARGET, new Uint8Array(0));
    const sent = await peer.next((m) => m.id === call.id);
    const late = new Promise<number>((resolve) =>
      conn.cancelCall(call.id, new Error("given up"), (answer) => resolve(answer.payload[0])),
    );
    await expect(call.answer).rejects.toThrow("given up");
    peer.reply(sent, MessageType.Reply, Uint8Array.of(42));
    expect(await late).toBe(42);
  });

  it("closing fails every pending call with ERR_DISCONNECTED, and calls after it at once", async () => {
    const { conn } = await readyClient();
    const pending = [conn.call(TARGET, new Uint8Array(0)), conn.call(TARGET, new Uint8Array(0))];
    conn.close();
    for (const p of pending)
      expect(isQiError(await p.catch((x: unknown) => x), "ERR_DISCONNECTED")).toBe(true);
    expect(conn.pendingCalls).toBe(0);
    expect(
      isQiError(await conn.call(TARGET, new Uint8Array(0)).catch((x: unknown) => x), "ERR_DISCONNECTED"),
    ).toBe(true);
  });

  it("the peer going away fails pending calls with ERR_DISCONNECTED", async () => {
    const { conn, peer } = await readyClient();
    const pending = conn.call(TARGET, new Uint8Array(0));
    await peer.next(isCall);
    peer.channel.destroy();
    expect(isQiError(await pending.catch((x: unknown) => x), "ERR_DISCONNECTED")).toBe(true);
  });
});

/** A CallWaiter that keeps what it is told (the forwarder's record, in miniature). */
class Waiter {
  readonly callee = TARGET;
  readonly told: Array<Message | Error> = [];
  answered(m: Message): void {
    this.told.push(m);
  }
  failed(e: Error): void {
    this.told.push(e);
  }
}

describe("calls answered to a waiter (startCallFor: the forwarding path)", () => {
  it("tells the waiter the answer as received, in the tick it arrives, and forgets the call", async () => {
    const { conn, peer } = await readyClient();
    const w = new Waiter();
    const id = conn.startCallFor(w, Uint8Array.of(5), 0);
    if (typeof id !== "number") throw id;
    expect(conn.pendingCalls).toBe(1);
    const sent = await peer.next((m) => m.id === id);
    expect(sent).toMatchObject({ type: MessageType.Call, flags: 0, ...TARGET });
    let toldInTick = -1;
    conn.channel.onMessage(() => {
      toldInTick = w.told.length;
    });
    peer.reply(sent, MessageType.Error, encodeErrorPayload("no"));
    await until(() => w.told.length === 1);
    // The connection's own handler ran first: the waiter was told from the intake, no microtask after.
    expect(toldInTick).toBe(1);
    const answer = w.told[0] as Message;
    expect(answer.type).toBe(MessageType.Error);
    expect(answer.id).toBe(id);
    expect(conn.pendingCalls).toBe(0);
  });

  it("cancelCall tells the waiter at once, sends a Cancel, and hands a late answer to onLateAnswer", async () => {
    const { conn, peer } = await readyClient();
    const w = new Waiter();
    const id = conn.startCallFor(w, new Uint8Array(0), 0) as number;
    const sent = await peer.next((m) => m.id === id);
    const late: Message[] = [];
    const reason = new Error("given up");
    conn.cancelCall(id, reason, (m) => late.push(m));
    expect(w.told).toEqual([reason]);
    const cancel = await peer.next((m) => m.type === MessageType.Cancel);
    expect(new DataView(cancel.payload.buffer, cancel.payload.byteOffset).getUint32(0, true)).toBe(id);
    peer.reply(sent, MessageType.Reply, Uint8Array.of(7));
    await until(() => late.length === 1);
    expect(late[0].payload[0]).toBe(7);
    expect(w.told).toHaveLength(1);
  });

  it("the connection's end fails every waiter with ERR_DISCONNECTED; a closed or full connection refuses, unsent", async () => {
    const { conn, peer } = await readyClient({ maxPendingCalls: 2 });
    const waiters = [new Waiter(), new Waiter()];
    for (const w of waiters) expect(typeof conn.startCallFor(w, new Uint8Array(0), 0)).toBe("number");
    const over = new Waiter();
    expect(isQiError(conn.startCallFor(over, new Uint8Array(0), 0), "ERR_LIMIT")).toBe(true);
    await peer.call({ action: 1 });
    expect(peer.received.filter(isCall)).toHaveLength(2);
    peer.channel.destroy();
    await until(() => conn.isClosed);
    for (const w of waiters) {
      expect(w.told).toHaveLength(1);
      expect(isQiError(w.told[0], "ERR_DISCONNECTED")).toBe(true);
    }
    expect(isQiError(conn.startCallFor(over, new Uint8Array(0), 0), "ERR_DISCONNECTED")).toBe(true);
    expect(over.told).toHaveLength(0);
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!cond()) throw new Error("condition not met");
}
