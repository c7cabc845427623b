/**
 * rosbridge and Foxglove mounted on paths of the gateway's own ws listener
 * (`--rosbridge-path /rosbridge`, `--foxglove-path /foxglove`): roslibjs logs in and calls
 * there, Foxglove's credentials are checked before the upgrade (401), and a qi client on the
 * root path of the same port still gets qi.
 */
import foxglove from "@foxglove/ws-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { UserTokenAuthenticator } from "../../../src/index.js";
import { Session } from "../../../src/session/index.js";
import { Ros, Service } from "./roslib-api.js";
import { ALICE, startWebBridgeWorld, until, type WebBridgeWorld } from "./world.js";

let world: WebBridgeWorld;
let wsUrl: string;
const opened: Ros[] = [];

beforeAll(async () => {
  world = await startWebBridgeWorld({ rosbridge: { path: "/rosbridge" }, foxglove: { path: "/foxglove" } }, [
    "tcp://127.0.0.1:0",
    "ws://127.0.0.1:0",
  ]);
  wsUrl = world.gateway.endpoints().find((e) => e.startsWith("ws://"))!;
});

afterAll(async () => {
  for (const ros of opened) ros.close();
  await world?.close();
});

describe("web bridges on a path of the gateway's ws listener", () => {
  it("prints the gateway's own port with the path", () => {
    expect(world.urls.rosbridge).toBe(`${wsUrl}/rosbridge`);
    expect(world.urls.foxglove).toBe(`${wsUrl}/foxglove`);
  });

  it("serves roslibjs on /rosbridge, after its auth op", async () => {
    const ros = new Ros({});
    opened.push(ros);
    await new Promise<void>((resolve, reject) => {
      ros.on("connection", () => resolve());
      ros.on("error", () => reject(new Error("cannot connect")));
      ros.connect(world.urls.rosbridge!);
    });
    ros.authenticate(ALICE.token, ALICE.user, "", "", 0, "", 0);
    const add = new Service({ ros, name: "/qi/Calc/add", serviceType: "qi_srvs/Call" });
    const sum = await new Promise((resolve, reject) => add.callService({ a: 40, b: 2 }, resolve, reject));
    expect(sum).toEqual({ result: 42 });
  });

  it("refuses Foxglove's wrong credentials before the upgrade, and serves right ones", async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${world.urls.foxglove}/?user=alice&token=wrong`, [
        foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL,
      ]);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("error", () => {});
    });
    expect(status).toBe(401);
    const ws = new WebSocket(
      `${world.urls.foxglove}/?user=${ALICE.user}&token=${encodeURIComponent(ALICE.token)}`,
      [foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL],
    );
    const client = new foxglove.FoxgloveClient({ ws: ws as never });
    const channels: string[] = [];
    client.on("advertise", (list) => channels.push(...list.map((c) => c.topic)));
    await until(() => channels.includes("/qi/Calc/level"), "Foxglove's channels");
    client.close();
  });

  it("keeps qi on the root path of the same port", async () => {
    const qi = new Session({ authenticator: new UserTokenAuthenticator(ALICE.user, ALICE.token) });
    try {
      await qi.connect(wsUrl);
      expect(await (await qi.service("Calc")).call("add", 1, 2)).toBe(3);
    } finally {
      await qi.close();
    }
  });
});
