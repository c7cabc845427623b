/**
 * How higher layers attach to a connection (attach.ts): typed slots, the "route" and "serve"
 * request stages (route first, whatever the attach order) and conflicts as errors.
 */
import { describe, expect, it } from "vitest";
import { type Connection, ConnectionSlot, isQiError } from "../../src/connection/index.js";
import { Dispatcher } from "../../src/dispatch/index.js";
import { PeerObjects, QiObject } from "../../src/object/index.js";
import { MessageType } from "../../src/wire/message-types.js";
import { errorTextOf, type MemoryPeer, readyServer, u32 } from "./memory-peer.js";

function conflict(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return isQiError(e, "ERR_CONFLICT");
  }
}

/** Answers a call with one byte saying who took it. */
function answering(conn: Connection, who: number, takes: (action: number) => boolean) {
  return (msg: Parameters<Parameters<Connection["attachRequests"]>[1]>[0]) => {
    if (!takes(msg.action)) return false;
    conn.reply(msg, Uint8Array.of(who));
    return true;
  };
}

async function whoAnswers(peer: MemoryPeer, action: number): Promise<number | string> {
  const m = await peer.call({ action });
  return m.type === MessageType.Reply ? m.payload[0] : errorTextOf(m);
}

describe("typed slots", () => {
  it("keeps each layer's state under its own key, typed, and refuses a second value", async () => {
    const { conn } = await readyServer();
    const objects = new ConnectionSlot<{ n: number }>("objects");
    const router = new ConnectionSlot<string>("router");
    expect(conn.attached(objects)).toBeUndefined();
    const state = conn.attach(objects, { n: 1 });
    conn.attach(router, "client 7");
    expect(conn.attached(objects)).toBe(state);
    expect(conn.attached(router)).toBe("client 7");
    expect(conflict(() => conn.attach(objects, { n: 2 }))).toBe(true);
    expect(conn.attached(objects)).toBe(state);
    // Two slots with the same name are still two keys: no string two layers could both pick.
    expect(conn.attached(new ConnectionSlot<string>("router"))).toBeUndefined();
  });
});

describe("request stages", () => {
  for (const order of ["route first", "serve first"] as const) {
    it(`consults "route" before "serve" (${order}); what route declines goes to serve`, async () => {
      const { conn, peer } = await readyServer();
      const route = () =>
        conn.attachRequests(
          "route",
          answering(conn, 1, (a) => a < 100),
        );
      const serve = () =>
        conn.attachRequests(
          "serve",
          answering(conn, 2, (a) => a < 200),
        );
      if (order === "route first") {
        route();
        serve();
      } else {
        serve();
        route();
      }
      expect(await whoAnswers(peer, 50)).toBe(1);
      expect(await whoAnswers(peer, 150)).toBe(2);
      expect(await whoAnswers(peer, 250)).toBe("The call request could not be handled.");
    });
  }

  it("refuses a second step for a stage; detaching frees it", async () => {
    const { conn, peer } = await readyServer();
    const detach = conn.attachRequests(
      "route",
      answering(conn, 1, () => true),
    );
    expect(
      conflict(() =>
        conn.attachRequests(
          "route",
          answering(conn, 3, () => true),
        ),
      ),
    ).toBe(true);
    expect(await whoAnswers(peer, 1)).toBe(1);
    detach();
    conn.attachRequests(
      "route",
      answering(conn, 3, () => true),
    );
    expect(await whoAnswers(peer, 1)).toBe(3);
  });
});

describe("PeerObjects and a router attach in either order", () => {
  const served = new QiObject({ description: "served here" });

  for (const order of ["objects first", "router first"] as const) {
    it(`${order}: the router takes what it forwards, PeerObjects serves the rest`, async () => {
      const dispatcher = new Dispatcher();
      const { conn, peer } = await readyServer();
      const objects = () =>
        PeerObjects.attach(conn, {
          dispatcher,
          registry: { mainObject: (id) => (id === 1 ? served : undefined) },
        });
      // A router that forwards service 5 and leaves the rest (e.g. its Service Directory view) here.
      const router = () =>
        conn.attachRequests("route", (msg) => {
          if (msg.service !== 5) return false;
          conn.reply(msg, Uint8Array.of(5));
          return true;
        });
      if (order === "objects first") {
        objects();
        router();
      } else {
        router();
        objects();
      }
      const forwarded = await peer.call({ service: 5, object: 1, action: 100 });
      expect([...forwarded.payload]).toEqual([5]);
      // Reserved member 2, metaObject(I): answered by PeerObjects from the QiObject's MetaObject.
      const meta = await peer.call({ service: 1, object: 1, action: 2, payload: u32(0) });
      expect(meta.type).toBe(MessageType.Reply);
      expect(meta.payload.byteLength).toBeGreaterThan(1);
      expect(errorTextOf(await peer.call({ service: 9, object: 1, action: 2 }))).toBe(
        "The call request could not be handled.",
      );
      // attach() is get-or-create: the same PeerObjects, never a second one replacing it.
      expect(PeerObjects.attach(conn, { dispatcher })).toBe(PeerObjects.of(conn));
      conn.close();
      await dispatcher.close();
    });
  }
});
