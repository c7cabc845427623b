/**
 * A fleet over a real NATS cluster (three nats-server processes routed on loopback): a robot's
 * gateway served over NATS to remote qi clients, with its own authentication and permissions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialNats, FleetRobot, fleetTransport, listRobots } from "../../src/fleet/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { createInbox } from "@nats-io/transport-node";
import { cleanup, runCleanup, until, world } from "../gateway/world.js";
import { type NatsCluster, natsServerPath, startCluster, waitRouted } from "./nats-cluster.js";

const bin = natsServerPath();
if (!bin) console.log("fleet peer tests skipped: nats-server not installed (apt-get install nats-server)");

describe.skipIf(!bin)("a robot served over a NATS cluster", () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    cluster = await startCluster(bin as string, { size: 3 });
    await waitRouted(cluster.nodes.map((n) => n.url));
  });
  afterAll(async () => {
    await runCleanup();
    await cluster?.stop();
  });

  async function robot(name: string, natsUrl: string) {
    const w = await world({
      allowAnonymous: false,
      authProvider: new GatewayAuthProvider({
        nao: { token: hashToken("secret") },
        guest: { token: hashToken("g") },
      }),
      permissions: {
        users: {
          nao: {
            services: { allow: ["*"] },
            call: { allow: ["*"] },
            subscribe: { allow: ["*"] },
            write: { allow: ["*"] },
          },
          guest: { services: { allow: ["Calc"] }, call: { allow: ["Calc.add"] } },
        },
      },
    });
    const nc = await dialNats({ servers: [natsUrl], name: `robot-${name}` });
    cleanup.push(() => nc.close());
    const r = await FleetRobot.start({
      nc,
      robot: name,
      accept: (c) => w.gw.acceptChannel(c),
      services: async () => ["Calc"],
      heartbeatMs: 1_000,
    });
    cleanup.push(() => r.close());
    return { w, r, nc };
  }

  async function remote(robotName: string, url: string, user = "nao", token = "secret"): Promise<Session> {
    const s = new Session({ transport: fleetTransport({ robot: robotName }), user, token });
    cleanup.push(() => s.close());
    await s.connect(url);
    return s;
  }

  it("answers calls, sends signals and properties to a client on another NATS node", async () => {
    const { w } = await robot("r1", cluster.nodes[0].url);
    const s = await remote("r1", cluster.nodes[2].url);
    const calc = await s.service("Calc");
    expect(await calc.call("add", 2, 3)).toBe(5);
    const ticks: number[] = [];
    await calc.signal("tick").connect((n: number) => ticks.push(n));
    for (let i = 0; i < 5; i++) w.service.object.emit("tick", i);
    await until(() => ticks.length === 5, "5 ticks");
    expect(ticks).toEqual([0, 1, 2, 3, 4]);
    expect(await calc.property<number>("level").get()).toBe(7);
    const counter = await calc.call<{ call: (m: string) => Promise<number> }>("makeCounter", 10);
    expect(await counter.call("next")).toBe(11);
  });

  it("cancels a call in flight", async () => {
    await robot("r-cancel", cluster.nodes[1].url);
    const s = await remote("r-cancel", cluster.nodes[0].url);
    const calc = await s.service("Calc");
    const ac = new AbortController();
    const p = calc.invoke("slow", [10_000], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toThrow(/cancel|abort/i);
  });

  it("refuses wrong credentials and holds the robot's permissions for remote clients", async () => {
    await robot("r-perm", cluster.nodes[0].url);
    await expect(remote("r-perm", cluster.nodes[1].url, "nao", "wrong")).rejects.toThrow();
    const guest = await remote("r-perm", cluster.nodes[1].url, "guest", "g");
    const calc = await guest.service("Calc");
    expect(await calc.call("add", 1, 1)).toBe(2);
    await expect(calc.call("slow", 1)).rejects.toThrow(/not allowed|denied|permission/i);
  });

  it("gives a clear error for a robot that is not online", async () => {
    await expect(remote("nobody-here", cluster.nodes[0].url)).rejects.toThrow(
      /robot nobody-here is not online/,
    );
  });

  it("lists the fleet's robots", async () => {
    const { nc } = await robot("r-list", cluster.nodes[2].url);
    const robots = await listRobots(nc, { prefix: "qi.fleet" });
    const me = robots.find((r) => r.name === "r-list");
    expect(me?.services).toEqual(["Calc"]);
  });

  it("answers hostile NATS peers with errors and closes their channels, the robot serving on", async () => {
    const { r, nc } = await robot("r-hostile", cluster.nodes[0].url);
    const bad = await nc.request(
      "qi.fleet.robot.r-hostile.open",
      JSON.stringify({ inbox: "qi.fleet.robot.other.open" }),
    );
    expect(bad.json<{ error: string }>().error).toMatch(/bad open request/);
    const inbox = createInbox();
    const opened = await nc.request("qi.fleet.robot.r-hostile.open", JSON.stringify({ inbox }));
    const robotInbox = opened.json<{ inbox: string }>().inbox;
    await until(() => r.clientCount === 1, "the channel");
    nc.publish(robotInbox, Uint8Array.of(99, 1, 2, 3)); // no such frame kind
    await until(() => r.clientCount === 0, "the hostile channel closed");
    const inbox2 = createInbox();
    const robotInbox2 = (
      await nc.request("qi.fleet.robot.r-hostile.open", JSON.stringify({ inbox: inbox2 }))
    ).json<{
      inbox: string;
    }>().inbox;
    const flood = new Uint8Array(9 + 900_000); // Data frames of zeros: no qi header (bad magic)
    for (let i = 0; i < 8; i++) {
      new DataView(flood.buffer).setFloat64(1, i * 900_000);
      nc.publish(robotInbox2, flood);
    }
    await until(() => r.clientCount === 0, "the garbage channel closed");
    const s = await remote("r-hostile", cluster.nodes[1].url);
    expect(await (await s.service("Calc")).call("add", 1, 2)).toBe(3);
  });
});
