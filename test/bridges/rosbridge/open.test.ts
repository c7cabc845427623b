/**
 * rosbridge configured `open`: no `auth` op, every client acts as the bridge's own user
 * (bounded by that user's permissions), and the bridge says so when it starts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startWebBridgeWorld, until, type WebBridgeWorld } from "./world.js";

let world: WebBridgeWorld;

beforeAll(async () => {
  world = await startWebBridgeWorld({ rosbridge: { open: true } });
});

afterAll(async () => {
  await world?.close();
});

describe("rosbridge configured open", () => {
  it("serves a client that never logs in, as the bridge's user", async () => {
    const ws = new WebSocket(world.urls.rosbridge!);
    const replies: Array<Record<string, unknown>> = [];
    ws.on("message", (d) => replies.push(JSON.parse(String(d)) as Record<string, unknown>));
    await new Promise((r) => ws.once("open", r));
    // Sent at once: the bridge's session may still be opening.
    ws.send(JSON.stringify({ op: "call_service", id: "1", service: "/qi/Calc/add", args: { a: 1, b: 2 } }));
    await until(() => replies.some((m) => m.id === "1"), "the reply");
    expect(replies.find((m) => m.id === "1")).toMatchObject({ result: true, values: { result: 3 } });
    expect(world.gateway.clients().some((c) => c.user === "bridge-rosbridge")).toBe(true);
    ws.close();
  });
});
