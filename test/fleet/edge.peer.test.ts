/**
 * The fleet as its users meet it, on a real NATS cluster (three routed nodes and a leaf node
 * for a robot "behind NAT"): two robots, two edge gateways serving plain qi clients, a NATS node
 * killed, an edge killed, a robot restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultCapabilities } from "../../src/connection/capabilities.js";
import { encodeCapabilityMap } from "../../src/connection/messages.js";
import { dialNats, FleetEdge, FleetRobot, fleetTransport, listRobots } from "../../src/fleet/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { MessageType } from "../../src/wire/message-types.js";
import type { Raw } from "../../src/wire/values.js";
import { RawClient } from "../gateway/raw-client.js";
import { cleanup, raw, runCleanup, sleep, until, type World, world } from "../gateway/world.js";
import { type NatsCluster, natsServerPath, startCluster, waitRouted } from "./nats-cluster.js";

const bin = natsServerPath();
if (!bin) console.log("fleet edge peer tests skipped: nats-server not installed");

const users = {
  nao: { token: hashToken("secret") },
  alice: { token: hashToken("alice-token") },
};
const permissions = {
  users: {
    nao: { services: { allow: ["*"] }, call: { allow: ["*"] }, subscribe: { allow: ["*"] } },
    alice: {
      services: { allow: ["Calc"] },
      call: { allow: ["Calc.add"] },
      subscribe: { allow: ["Calc.frame"] },
    },
  },
};

interface RunningRobot {
  w: World;
  robot: FleetRobot;
}

describe.skipIf(!bin)("a fleet with edge gateways", () => {
  let cluster: NatsCluster;
  const robots = new Map<string, RunningRobot>();
  const edges: FleetEdge[] = [];

  async function startRobot(name: string, natsUrl: string, w?: World): Promise<RunningRobot> {
    const gw =
      w ??
      (await world({ allowAnonymous: false, authProvider: new GatewayAuthProvider(users), permissions }));
    const nc = await dialNats({ servers: [natsUrl], name });
    cleanup.push(() => nc.close());
    const robot = await FleetRobot.start({
      nc,
      robot: name,
      accept: (c) => gw.gw.acceptChannel(c),
      services: () => ["Calc"],
      heartbeatMs: 500,
    });
    cleanup.push(() => robot.close());
    const r = { w: gw, robot };
    robots.set(name, r);
    return r;
  }

  async function startEdge(natsUrl: string): Promise<FleetEdge> {
    const transport = fleetTransport({ keepConnection: true });
    cleanup.push(() => transport.close());
    const edge = await FleetEdge.start({
      url: natsUrl,
      transport,
      listen: ["tcp://127.0.0.1:0"],
      robotOfUser: (u) => (u === "alice" ? "robot-2" : undefined),
      defaultRobot: "robot-1",
    });
    cleanup.push(() => edge.close());
    return edge;
  }

  beforeAll(async () => {
    cluster = await startCluster(bin as string, { size: 3, leaf: true });
    await waitRouted([...cluster.nodes.map((n) => n.url), cluster.leaf?.url as string]);
    await startRobot("robot-1", cluster.nodes[0].url);
    await startRobot("robot-2", cluster.leaf?.url as string); // behind NAT: its site dials out
    edges.push(await startEdge(cluster.nodes[1].url), await startEdge(cluster.nodes[2].url));
  });
  afterAll(async () => {
    await runCleanup();
    await cluster?.stop();
  });

  it("lets a client on edge A call robot 2 and watch its camera", async () => {
    const s = new Session({ user: "alice", token: "alice-token" });
    cleanup.push(() => s.close());
    await s.connect(edges[0].endpoints()[0]);
    const calc = await s.service("Calc");
    expect(await calc.call("add", 40, 2)).toBe(42);
    let frames = 0;
    await calc.signal("frame").connect((r: Raw) => {
      if (r.bytes.byteLength === 921_600) frames++;
    });
    const cam = robots.get("robot-2")?.w.service.object;
    for (let i = 0; i < 10; i++) {
      cam?.emit("frame", raw(921_600, i));
      await until(() => frames > i, `frame ${i}`);
    }
    await expect(calc.call("slow", 1)).rejects.toThrow(/not allowed|denied|permission/i);
  });

  it("serves a libqi-style raw client (handshake by hand) through an edge", async () => {
    const c = await RawClient.open(edges[1].endpoints()[0]);
    cleanup.push(async () => c.destroy());
    const caps = new Map<string, unknown>([
      ...defaultCapabilities(),
      ["auth_user", "nao"],
      ["auth_token", "secret"],
    ]);
    const auth = await c.call(0, 0, 8, encodeCapabilityMap(caps));
    expect(auth.type, Buffer.from(auth.payload).toString("latin1")).toBe(MessageType.Reply);
    const services = await c.services();
    expect(services.type).toBe(MessageType.Reply);
    expect(Buffer.from(services.payload).includes(Buffer.from("Calc"))).toBe(true);
  });

  it("refuses wrong credentials at an edge", async () => {
    const s = new Session({ user: "nao", token: "not-the-token" });
    cleanup.push(() => s.close());
    await expect(s.connect(edges[0].endpoints()[0])).rejects.toThrow();
  });

  it("keeps serving when a NATS node dies (the clients' NATS connections move to the others)", async () => {
    const s = new Session({ transport: fleetTransport({ robot: "robot-1" }), user: "nao", token: "secret" });
    cleanup.push(() => s.close());
    await s.connect(`${cluster.nodes[2].url},${cluster.nodes[1].url}`);
    const calc = await s.service("Calc");
    expect(await calc.call("add", 1, 1)).toBe(2);
    await cluster.kill(cluster.nodes[2]);
    // nats.js reconnects to node 1 and subscribes again; the qi channel carries on.
    const t0 = Date.now();
    let answer: unknown;
    while (answer === undefined && Date.now() - t0 < 15_000) {
      // A failed call rejects at once while the session reconnects: wait between tries, or
      // this loop would run on microtasks alone and starve the reconnection's timers.
      answer = await calc.call("add", 2, 2).catch(() => sleep(50).then(() => undefined));
    }
    expect(answer).toBe(4);
    // Edge B was on node 2: its clients now get a clear error or work again; edge A is untouched.
    const a = new Session({ user: "nao", token: "secret" });
    cleanup.push(() => a.close());
    await a.connect(edges[0].endpoints()[0]);
    expect(await (await a.service("Calc")).call("add", 3, 3)).toBe(6);
    // Edge B serves again once its NATS connection has moved (a fresh client gets through).
    const t1 = Date.now();
    let viaB: unknown;
    while (viaB === undefined && Date.now() - t1 < 20_000) {
      const b = new Session({ user: "nao", token: "secret", reconnect: false });
      viaB = await b
        .connect(edges[1].endpoints()[0])
        .then(async () => (await b.service("Calc")).call("add", 4, 4))
        .catch(() => sleep(100).then(() => undefined))
        .finally(() => b.close());
    }
    expect(viaB).toBe(8);
  });

  it("lets a client reconnect to edge B when edge A dies", async () => {
    const s = new Session({ user: "nao", token: "secret" });
    cleanup.push(() => s.close());
    await s.connect(edges[0].endpoints()[0]);
    expect(await (await s.service("Calc")).call("add", 1, 2)).toBe(3);
    const gone = new Promise<void>((r) => s.once("disconnected", () => r()));
    await edges[0].close();
    await gone;
    const again = new Session({ user: "nao", token: "secret" });
    cleanup.push(() => again.close());
    await again.connect(edges[1].endpoints()[0]);
    expect(await (await again.service("Calc")).call("add", 2, 3)).toBe(5);
  });

  it("shows a restarted robot again", async () => {
    const old = robots.get("robot-1") as RunningRobot;
    await old.robot.close();
    const restarted = await startRobot("robot-1", cluster.nodes[0].url, old.w);
    const nc = await dialNats({ servers: [cluster.nodes[1].url] });
    cleanup.push(() => nc.close());
    const list = await listRobots(nc, { prefix: "qi.fleet" });
    expect(list.map((r) => r.name)).toEqual(["robot-1", "robot-2"]);
    expect(list[0].since).toBe(restarted.robot.since);
    const s = new Session({ transport: fleetTransport({ robot: "robot-1" }), user: "nao", token: "secret" });
    cleanup.push(() => s.close());
    await s.connect(cluster.nodes[1].url);
    expect(await (await s.service("Calc")).call("add", 5, 5)).toBe(10);
  });
});
