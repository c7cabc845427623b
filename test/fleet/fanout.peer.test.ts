/**
 * Fan-out where it belongs: a signal watched by many remote clients leaves the robot once (its
 * NATS uplink grows by one payload per event, not one per subscriber), and a robot whose signal
 * nobody watches remotely sends nothing for it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialNats, FleetRobot, fleetTransport } from "../../src/fleet/index.js";
import { Session } from "../../src/session/index.js";
import type { Raw } from "../../src/wire/values.js";
import { cleanup, raw, runCleanup, until, world } from "../gateway/world.js";
import { type NatsCluster, natsServerPath, startCluster, waitRouted } from "./nats-cluster.js";

const bin = natsServerPath();
if (!bin) console.log("fleet fan-out peer tests skipped: nats-server not installed");

const FRAME = 100_000;

describe.skipIf(!bin)("events of a fleet robot", () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    cluster = await startCluster(bin as string, { size: 3 });
    await waitRouted(cluster.nodes.map((n) => n.url));
  });
  afterAll(async () => {
    await runCleanup();
    await cluster?.stop();
  });

  it("leave the robot once whatever the number of remote subscribers", async () => {
    const w = await world({ allowAnonymous: true });
    const nc = await dialNats({ servers: [cluster.nodes[0].url] });
    cleanup.push(() => nc.close());
    const robot = await FleetRobot.start({
      nc,
      robot: "cam",
      accept: (c) => w.gw.acceptChannel(c),
      services: () => [],
    });
    cleanup.push(() => robot.close());

    // Two "edges" (NATS connections) on two other nodes, three clients each.
    const counts: number[] = [];
    for (const node of [cluster.nodes[1], cluster.nodes[2]]) {
      const transport = fleetTransport({ robot: "cam" });
      for (let i = 0; i < 3; i++) {
        const s = new Session({ transport });
        cleanup.push(() => s.close());
        await s.connect(node.url);
        const calc = await s.service("Calc");
        const k = counts.push(0) - 1;
        await calc.signal("frame").connect((r: Raw) => {
          if (r.bytes.byteLength === FRAME) counts[k]++;
        });
      }
    }
    // Warm-up: the first events go inline, until each client has joined the shared subject.
    for (let i = 0; i < 10; i++) {
      w.service.object.emit("frame", raw(FRAME, i));
      await until(() => counts.every((c) => c > i), `warm-up frame ${i}`);
    }
    const before = nc.stats().outBytes;
    const N = 20;
    for (let i = 0; i < N; i++) {
      w.service.object.emit("frame", raw(FRAME, i));
      await until(() => counts.every((c) => c >= 11 + i), `frame ${i}`);
    }
    const perEvent = (nc.stats().outBytes - before) / N;
    // One payload, plus a ~45-byte reference per subscriber and the odd keepalive.
    expect(perEvent).toBeGreaterThan(FRAME);
    expect(perEvent).toBeLessThan(FRAME * 1.05);
  });

  it("are not sent at all when no remote client watches", async () => {
    const w = await world({ allowAnonymous: true });
    const nc = await dialNats({ servers: [cluster.nodes[0].url] });
    cleanup.push(() => nc.close());
    const robot = await FleetRobot.start({
      nc,
      robot: "quiet",
      accept: (c) => w.gw.acceptChannel(c),
      services: () => [],
    });
    cleanup.push(() => robot.close());
    const s = new Session({ transport: fleetTransport({ robot: "quiet" }) });
    cleanup.push(() => s.close());
    await s.connect(cluster.nodes[1].url);
    const calc = await s.service("Calc");
    expect(await calc.call("add", 1, 2)).toBe(3);
    const before = nc.stats().outBytes;
    for (let i = 0; i < 20; i++) w.service.object.emit("frame", raw(FRAME, i));
    expect(await calc.call("add", 2, 2)).toBe(4); // a round trip after the frames: they would be ahead
    expect(nc.stats().outBytes - before).toBeLessThan(2_000);
  });
});
