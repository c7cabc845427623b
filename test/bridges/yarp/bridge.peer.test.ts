/**
 * The YARP bridge against the real YARP 3.7.2 (`yarpserver`, `yarp name list`, `yarp read`,
 * `yarp write`, `yarp rpc`, `yarp connect`): the simulated robot's services as YARP ports.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StartedBridge, startBridges, stopBridges } from "../../../src/bridges/index.js";
import type { Bottle } from "../../../src/bridges/yarp/bottle.js";
import { NameClient } from "../../../src/bridges/yarp/name-client.js";
import { type RunningDemo, startDemo } from "../../../src/demo/index.js";
import type { RemoteObject } from "../../../src/object/index.js";
import { cleanup, runCleanup, world, type World } from "../../gateway/world.js";
import { TestReader } from "./reader.js";
import { until, YARP_FOUND, YarpEnv } from "./yarp-env.js";

const logger = pino({ level: "silent" });

async function metric(w: World, name: string): Promise<number> {
  const text = await w.gw.metrics.registry.metrics();
  return text
    .split("\n")
    .filter((l) => l.startsWith(name) && l.includes('bridge="yarp"'))
    .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
}

describe.skipIf(!YARP_FOUND)("YARP bridge with the real YARP", () => {
  const yarp = new YarpEnv();
  let w: World;
  let demo: RunningDemo;
  let bridges: StartedBridge[] = [];
  let names: NameClient;
  let memory: RemoteObject;

  beforeAll(async () => {
    await yarp.start();
    names = new NameClient({ host: "127.0.0.1", port: yarp.port });
    w = await world();
    demo = await startDemo(w.host, { logger });
    cleanup.push(() => demo.stop());
    bridges = await startBridges(
      w.gw,
      [
        {
          name: "yarp",
          settings: { nameserver: `127.0.0.1:${yarp.port}`, nameServerCheckMs: 200, queue: 4 },
        },
      ],
      { logger, demo: true },
    );
    memory = await w.host.service("ALMemory");
  }, 60_000);

  afterAll(async () => {
    await stopBridges(bridges);
    await runCleanup();
    await yarp.close();
  }, 30_000);

  it("is off unless named: a gateway without --bridge registers nothing", async () => {
    const none = await startBridges(w.gw, [], { logger, demo: true });
    expect(none).toEqual([]);
    const other = new YarpEnv();
    try {
      await other.start();
      expect(await other.run(["name", "list"])).not.toContain("/qi/");
    } finally {
      await other.close();
    }
  }, 30_000);

  it("`yarp name list` shows the robot's ports", async () => {
    const list = await yarp.run(["name", "list"]);
    for (const port of [
      "/qi/ALTextToSpeech/rpc",
      "/qi/ALTextToSpeech/say:i",
      "/qi/ALBattery/charge:o",
      "/qi/ALVideoDevice/image:o",
      "/qi/ALMemory/dataChanged:o",
    ])
      expect(list).toMatch(new RegExp(`registration name ${port} ip 127\\.0\\.0\\.1 port \\d+ type tcp`));
  });

  it("`yarp rpc` calls methods: results, ok for void, fail <text> on a qi error", async () => {
    const out = await yarp.run(
      ["rpc", "/qi/ALTextToSpeech/rpc"],
      'say "hello from yarp"\ngetAvailableLanguages\nsetLanguage Klingon\nshutdown now\n',
    );
    const responses = out.split("\n").filter((l) => l.startsWith("Response:"));
    expect(responses[0]).toBe("Response: ok");
    expect(responses[1]).toBe("Response: (English French German Japanese Spanish)");
    expect(responses[2]).toMatch(/^Response: fail ".*unknown language \\"Klingon\\"/);
    expect(responses[3]).toMatch(/^Response: fail ".*not mapped/);
  }, 30_000);

  it("`yarp read` receives a mapped signal with its values", async () => {
    const reader = yarp.spawn("yarp", ["read", "/test/read", "/qi/ALMemory/dataChanged:o"]);
    try {
      await until(async () => {
        await memory.call("insertData", "greeting", "hello yarp");
        return reader.text().includes('greeting "hello yarp"');
      }, "yarp read to print the dataChanged event");
      await memory.call("insertData", "answer", 42);
      await until(() => reader.text().includes("answer 42"), "the second event");
    } finally {
      await reader.stop();
    }
  }, 30_000);

  it("`yarp write` to an input port posts a call", async () => {
    await yarp.run(["write", "/test/write", "/qi/ALMemory/insertData:i"], "fromyarp 7\n");
    await until(
      async () => (await memory.call("getData", "fromyarp").catch(() => undefined)) !== undefined,
      "the call",
    );
    expect(await memory.call("getData", "fromyarp")).toMatchObject({ value: 7 });
  }, 30_000);

  it("sends camera frames as YARP images at the camera's fps", async () => {
    const frames: Array<{ t: number; b: Bottle }> = [];
    const reader = new TestReader("/test/camera", names, (b) => frames.push({ t: Date.now(), b }));
    await reader.open();
    const camera = await w.host.service("ALVideoDevice");
    await camera.property("fps").set(10);
    try {
      await yarp.run(["connect", "/qi/ALVideoDevice/image:o", "/test/camera"]);
      await until(() => frames.length >= 3, "three frames");
      // Count what the camera emitted (a qi subscriber) and what YARP got in the same window:
      // the reader keeps up with the camera's own rate, whatever the machine's load makes it.
      let emitted = 0;
      const link = await camera.signal("image").connect(() => {
        emitted++;
      });
      const start = frames.length;
      const t0 = Date.now();
      await until(() => Date.now() - t0 >= 3_000, "three seconds");
      const got = frames.length - start;
      await camera.signal("image").disconnect(link);
      expect(emitted).toBeGreaterThan(8);
      // Frames in flight at either end of the window may fall on either side of it (latency
      // under load reaches a few frames): the counts agree within that, with no loss beyond.
      expect(Math.abs(got - emitted)).toBeLessThanOrEqual(5);
      const [mat, rgb, params, pixels] = frames[0].b as [
        { text: string },
        { text: string },
        number[],
        Uint8Array,
      ];
      expect([mat.text, rgb.text]).toEqual(["mat", "rgb"]);
      expect(params).toEqual([3, 640 * 480 * 3, 8, 640, 480]);
      expect(pixels.length).toBe(640 * 480 * 3);
    } finally {
      await yarp.run(["disconnect", "/qi/ALVideoDevice/image:o", "/test/camera"]).catch(() => "");
      await reader.close();
      await camera.property("fps").set(5);
    }
  }, 30_000);

  it("registers its ports again after the name server restarts", async () => {
    await yarp.server!.stop();
    await yarp.startServer();
    await until(
      async () => (await yarp.run(["name", "list"])).match(/registration name \/qi\//g)?.length === 11,
      "all 11 ports registered again",
    );
    const out = await yarp.run(["rpc", "/qi/ALBattery/rpc"], "getBatteryCharge\n");
    expect(out).toMatch(/Response: \d+/);
  }, 60_000);

  it("keeps memory bounded for a reader that stops reading: old messages are dropped", async () => {
    const reader = yarp.spawn("yarp", ["read", "/test/stalled", "/qi/ALMemory/dataChanged:o"]);
    try {
      await until(async () => {
        await memory.call("insertData", "probe", 1);
        return reader.text().includes("probe 1");
      }, "the reader to be connected");
      reader.child.kill("SIGSTOP");
      const droppedBefore = await metric(w, "qi_bridge_dropped_total");
      const big = "x".repeat(64 * 1024);
      for (let i = 0; i < 400; i++) await memory.call("insertData", "flood", big);
      // 400 × 64 KiB went out to a reader that reads nothing: all but the queue (4), the message
      // in flight (and any the reader took before it stopped) were dropped, not buffered.
      await until(
        async () => (await metric(w, "qi_bridge_dropped_total")) - droppedBefore >= 380,
        "the flood to be dropped",
      );
    } finally {
      reader.child.kill("SIGCONT");
      await reader.stop();
    }
  }, 60_000);

  it("forgets a reader that vanishes and keeps serving others", async () => {
    const reader = yarp.spawn("yarp", ["read", "/test/vanish", "/qi/ALMemory/dataChanged:o"]);
    await until(async () => {
      await memory.call("insertData", "v", 1);
      return reader.text().includes("v 1");
    }, "the reader to be connected").catch((e: Error) => {
      throw new Error(`${e.message}; yarp read said: ${reader.err()}`);
    });
    reader.child.kill("SIGKILL");
    await until(async () => (await metric(w, "qi_bridge_subscribers")) === 0, "the reader to be forgotten");
    const out = await yarp.run(["rpc", "/qi/ALMemory/rpc"], "getData v\n");
    expect(out).toContain("Response: 1");
  }, 30_000);
});
