/**
 * The peer's requests (incoming.ts) over a memory channel pair, from a raw client: admission of
 * calls (one per message id in progress, maxIncomingCalls), answers, unserved addresses, events.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/wire/message-types.js";
import { MessageType } from "../../src/wire/message-types.js";
import { errorTextOf, type MemoryPeer, readyClient, readyServer } from "./memory-peer.js";

/** A serve step that keeps every call unanswered until the test answers it. */
function holdCalls(conn: import("../../src/connection/index.js").Connection): Message[] {
  const held: Message[] = [];
  conn.attachRequests("serve", (msg) => {
    held.push(msg);
    return true;
  });
  return held;
}

/** A round trip the connection answers itself (service 0): what was sent before it has been read. */
async function barrier(peer: MemoryPeer): Promise<void> {
  await peer.call({ service: 0, object: 0, action: 9 });
}

describe("the peer's requests (incoming.ts)", () => {
  it("refuses a call reusing the id of a call in progress, and still answers the first", async () => {
    const { conn, peer } = await readyServer();
    const held = holdCalls(conn);
    const id = peer.send({ type: MessageType.Call, action: 101 });
    peer.send({ id, type: MessageType.Call, action: 102 });
    const refusal = await peer.answerTo(id);
    expect(refusal).toMatchObject({ type: MessageType.Error, action: 102 });
    expect(errorTextOf(refusal)).toMatch(/duplicate message id/);
    expect(held.map((m) => m.action)).toEqual([101]);
    conn.reply(held[0], Uint8Array.of(1));
    const answer = await peer.next((m) => m.id === id && m.type === MessageType.Reply);
    expect(answer.action).toBe(101);
    // Answered, the id may be used again.
    peer.send({ id, type: MessageType.Call, action: 103 });
    await barrier(peer);
    expect(held.map((m) => m.action)).toEqual([101, 103]);
  });

  it("maxIncomingCalls: calls over the limit are refused, the others served", async () => {
    const { conn, peer } = await readyServer({ maxIncomingCalls: 2 });
    const held = holdCalls(conn);
    peer.send({ type: MessageType.Call, action: 101 });
    peer.send({ type: MessageType.Call, action: 102 });
    const third = await peer.call({ action: 103 });
    expect(third.type).toBe(MessageType.Error);
    expect(errorTextOf(third)).toBe("Too many calls in progress on this connection (limit 2).");
    expect(held.map((m) => m.action)).toEqual([101, 102]);
    conn.replyError(held[0], "done with it");
    const fourth = peer.call({ action: 104 });
    await barrier(peer);
    expect(held.map((m) => m.action)).toEqual([101, 102, 104]);
    conn.replyCanceled(held[2]);
    expect((await fourth).type).toBe(MessageType.Canceled);
  });

  it("answers a call nobody serves 'could not be handled' and drops such a Post", async () => {
    const { peer } = await readyServer();
    peer.send({ type: MessageType.Post, action: 50 });
    const answer = await peer.call({ service: 9, object: 3, action: 50 });
    expect(answer).toMatchObject({ type: MessageType.Error, service: 9, object: 3, action: 50 });
    expect(errorTextOf(answer)).toBe("The call request could not be handled.");
    expect(peer.received.filter((m) => m.type !== MessageType.Reply)).toHaveLength(1);
  });

  it("answers calls to service 0 after the handshake: authenticate Done, anything else an Error", async () => {
    const { peer } = await readyServer();
    expect((await peer.call({ service: 0, object: 0, action: 8, payload: new Uint8Array(4) })).type).toBe(
      MessageType.Reply,
    );
    expect((await peer.call({ service: 0, object: 0, action: 9 })).type).toBe(MessageType.Error);
  });

  it("a serve step that throws gets its call answered with the error, and the connection goes on", async () => {
    const { conn, peer } = await readyServer();
    conn.attachRequests("serve", () => {
      throw new Error("broken handler");
    });
    const answer = await peer.call({ action: 1 });
    expect(errorTextOf(answer)).toBe("broken handler");
    expect(conn.isReady).toBe(true);
  });

  it("gives Event messages to the handler of their (service, object), until it is removed", async () => {
    const { conn, peer } = await readyClient();
    const got: string[] = [];
    conn.setEventHandler(3, 1, (m) => got.push(`3.1:${m.action}`));
    conn.setEventHandler(3, 2, (m) => got.push(`3.2:${m.action}`));
    peer.send({ type: MessageType.Event, service: 3, object: 1, action: 100 });
    peer.send({ type: MessageType.Event, service: 3, object: 2, action: 101 });
    peer.send({ type: MessageType.Event, service: 4, object: 1, action: 102 });
    await barrier(peer);
    conn.setEventHandler(3, 1, undefined);
    peer.send({ type: MessageType.Event, service: 3, object: 1, action: 103 });
    peer.send({ type: MessageType.Event, service: 3, object: 2, action: 104 });
    await barrier(peer);
    expect(got).toEqual(["3.1:100", "3.2:101", "3.2:104"]);
  });
});
