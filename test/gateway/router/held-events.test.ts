/**
 * Events of unpaced subscriptions held behind answers (calls ahead of streams): none lost, in
 * arrival order across subscriptions, bounded, and sent once the client's queue is short.
 */
import { describe, expect, it } from "vitest";
import { HeldEvents, type PacerHooks } from "../../../src/gateway/router/subscriber-pacer.js";

function hooks(name: string, state: { queued: number; sent: string[]; dropped: number }): PacerHooks {
  return {
    queued: () => state.queued,
    send: (payload) => state.sent.push(`${name}${payload[0]}`),
    dropped: () => state.dropped++,
    alive: () => true,
  };
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

describe("HeldEvents", () => {
  it("sends at once under the backlog limit, holds in order over it, none lost", async () => {
    const state = { queued: 0, sent: [] as string[], dropped: 0 };
    const q = new HeldEvents(100, 1_000);
    const a = hooks("a", state);
    const b = hooks("b", state);
    q.offer(a, Uint8Array.of(1), 0);
    expect(state.sent).toEqual(["a1"]);
    state.queued = 500; // the socket is behind: answers go first
    q.offer(b, Uint8Array.of(2), 0);
    q.offer(a, Uint8Array.of(3), 0);
    q.offer(b, Uint8Array.of(4), 0);
    expect(state.sent).toEqual(["a1"]);
    state.queued = 0;
    // A new event while others wait goes behind them, even with room in the socket.
    q.offer(a, Uint8Array.of(5), 0);
    await until(() => state.sent.length === 5);
    expect(state.sent).toEqual(["a1", "b2", "a3", "b4", "a5"]);
    expect(state.dropped).toBe(0);
  });

  it("drops (and counts) past what it may hold for a client that does not read", () => {
    const state = { queued: 1_000, sent: [] as string[], dropped: 0 };
    const q = new HeldEvents(100, 250);
    const a = hooks("a", state);
    for (let i = 0; i < 5; i++) q.offer(a, new Uint8Array(100), 0);
    expect(state.sent).toEqual([]);
    expect(state.dropped).toBe(3);
    q.dispose();
  });
});
