/**
 * rosbridge v2 edges a raw WebSocket client can reach and roslibjs does not: fragments sent by
 * the client, the bridge's own fragments on the wire, a reader that stops reading (queue_length
 * 1 keeps the bridge's memory bounded and counts drops), CBOR requests, and hostile input
 * answered with an error status without taking anything down.
 */
import { decode } from "cbor2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { UserTokenAuthenticator } from "../../../src/index.js";
import { Session } from "../../../src/session/index.js";
import { gc } from "../../gateway/world.js";
import { ALICE, startWebBridgeWorld, until, type WebBridgeWorld } from "./world.js";

let world: WebBridgeWorld;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  world = await startWebBridgeWorld({ rosbridge: { maxInFlightBytes: 2 * 1024 * 1024 } });
  await world.camera.object.setProperty("fps", 30);
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await world?.close();
});

interface Received {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  send(msg: unknown): void;
}

async function open(login = true): Promise<Received> {
  const ws = new WebSocket(world.urls.rosbridge!);
  sockets.push(ws);
  const messages: Array<Record<string, unknown>> = [];
  ws.on("message", (data, isBinary) =>
    messages.push((isBinary ? decode(data as Buffer) : JSON.parse(String(data))) as Record<string, unknown>),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const send = (msg: unknown) => ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  if (login) send({ op: "auth", client: ALICE.user, mac: ALICE.token });
  return { ws, messages, send };
}

async function metric(name: string): Promise<number> {
  const text = await world.gateway.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("rosbridge protocol edges", () => {
  it("reassembles a call_service the client sent in fragments", async () => {
    const c = await open();
    const whole = JSON.stringify({
      op: "call_service",
      id: "frag-call",
      service: "/qi/Calc/add",
      args: { a: 20, b: 22 },
    });
    const size = 10;
    const total = Math.ceil(whole.length / size);
    for (let num = total - 1; num >= 0; num--)
      c.send({ op: "fragment", id: "f1", num, total, data: whole.slice(num * size, (num + 1) * size) });
    await until(() => c.messages.some((m) => m.id === "frag-call"), "the reply");
    expect(c.messages.find((m) => m.id === "frag-call")).toMatchObject({
      result: true,
      values: { result: 42 },
    });
  });

  it("cuts a long JSON message into fragment_size pieces", async () => {
    const c = await open();
    c.send({
      op: "call_service",
      id: "blob",
      service: "/qi/Calc/blob",
      args: { n: 30_000 },
      fragment_size: 1_000,
    });
    await until(() => c.messages.filter((m) => m.op === "fragment").length >= 40, "40 fragments");
    const parts = c.messages.filter((m) => m.op === "fragment");
    const total = parts[0]!.total as number;
    await until(() => c.messages.filter((m) => m.op === "fragment").length >= total, "all fragments");
    const text = c.messages
      .filter((m) => m.op === "fragment")
      .sort((a, b) => (a.num as number) - (b.num as number))
      .map((m) => m.data)
      .join("");
    const reply = JSON.parse(text) as { values: { result: string } };
    expect(Buffer.from(reply.values.result, "base64").byteLength).toBe(30_000);
  });

  it("answers CBOR with CBOR, bytes as bytes", async () => {
    const c = await open();
    c.send({
      op: "call_service",
      id: "cbor-blob",
      service: "/qi/Calc/blob",
      args: { n: 1_000 },
      compression: "cbor",
    });
    await until(() => c.messages.some((m) => m.id === "cbor-blob"), "the reply");
    const reply = c.messages.find((m) => m.id === "cbor-blob") as { values: { result: Uint8Array } };
    expect(reply.values.result).toBeInstanceOf(Uint8Array);
    expect(reply.values.result.byteLength).toBe(1_000);
  });

  it("drops old frames for a reader that stops reading (queue_length 1), keeping memory bounded", async () => {
    const c = await open();
    c.send({
      op: "subscribe",
      id: "slow",
      topic: "/qi/ALVideoDevice/image",
      compression: "cbor",
      queue_length: 1,
    });
    await until(() => c.messages.some((m) => m.op === "publish"), "a first frame");
    const droppedBefore = await metric("qi_bridge_dropped_total");
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // Dropped frames are garbage, not growth: collect before both readings.
    gc();
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    // 40 frames are 37 MB if kept: the bridge keeps one (queue_length 1) plus what is in flight.
    let dropped = 0;
    await until(
      () => dropped >= 40,
      "40 frames dropped",
      30_000,
      async () => {
        dropped = (await metric("qi_bridge_dropped_total")) - droppedBefore;
      },
    );
    gc();
    const grown = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore;
    expect(grown).toBeLessThan(20 * 1024 * 1024);
    socket.resume();
    const seen = c.messages.length;
    await until(() => c.messages.length > seen + 3, "frames again after reading resumes");
    c.send({ op: "unsubscribe", id: "slow", topic: "/qi/ALVideoDevice/image" });
  });

  it("answers bad input with an error status and keeps serving", async () => {
    const c = await open();
    c.send("{not json");
    c.send({ op: 42 });
    c.send({ op: "subscribe", topic: "/qi/Nope/nothing" });
    c.send({ op: "fragment", id: "x", num: 5, total: 2, data: "" });
    c.send({ op: "no_such_op" });
    await until(() => c.messages.filter((m) => m.op === "status").length >= 5, "5 error statuses");
    expect(c.messages.filter((m) => m.op === "status").every((m) => m.level === "error")).toBe(true);
    c.send({ op: "call_service", id: "still", service: "/qi/Calc/add", args: [1, 2] });
    await until(() => c.messages.some((m) => m.id === "still"), "a reply after bad input");
    expect(c.messages.find((m) => m.id === "still")).toMatchObject({ result: true, values: { result: 3 } });
  });

  it("lets a logged-in web app provide a qi service with advertise_service", async () => {
    let listed: string[] = [];
    const c = await open();
    c.send({ op: "advertise_service", service: "/qi/WebTablet/show", type: "qi_srvs/Call" });
    c.ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m.op === "call_service")
        c.send({
          op: "service_response",
          id: m.id,
          service: m.service,
          result: true,
          values: { shown: (m.args as { data: string }).data },
        });
    });
    const qi = new Session({ authenticator: new UserTokenAuthenticator(ALICE.user, ALICE.token) });
    try {
      await qi.connect(world.qiUrl);
      // The registration reaches the Service Directory after the op: wait for the name.
      await until(
        () => listed.includes("WebTablet"),
        "WebTablet registered",
        10_000,
        async () => {
          listed = (await qi.services()).map((s) => s.name);
        },
      );
      const tablet = await qi.service("WebTablet");
      expect(((await tablet.call("show", "a picture")) as { value: unknown }).value).toEqual(
        new Map([["shown", "a picture"]]),
      );
    } finally {
      await qi.close();
    }
  });
});
