/** `qi watch`, `post`, `trace`, `top`: long-running and fire-and-forget commands. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QiProcess, runQi } from "./run-qi.js";
import { startWorld, type World } from "./world.js";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

const u = () => ["--url", world.url];

describe("qi watch", () => {
  it("prints signals and property changes with ISO timestamps, and exits after --count", async () => {
    const qi = new QiProcess([
      "watch",
      "ALMemory.dataChanged",
      "Echo.level",
      "--count",
      "3",
      "--json",
      ...u(),
    ]);
    await qi.waitFor(/watching/, "stderr");
    const mem = await world.client.service("ALMemory");
    const echo = await world.client.service("Echo");
    await mem.call("insertData", "watched", 1);
    await echo.property("level").set(99);
    await mem.call("insertData", "watched", 2);
    await mem.call("insertData", "watched", 3); // beyond --count: not printed
    const r = await qi.exit();
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(3);
    for (const e of events) expect(new Date(e.time).toISOString()).toBe(e.time);
    expect(events.find((e) => e.signal === "level")).toMatchObject({ service: "Echo", args: [99] });
    expect(events.filter((e) => e.signal === "dataChanged").map((e) => e.args)).toEqual([
      ["watched", 1],
      ["watched", 2],
    ]);
  });

  it("stops cleanly on SIGINT and summarises camera frames for humans", async () => {
    const qi = new QiProcess(["watch", "ALVideoDevice.image", ...u()]);
    await qi.waitFor(/ALVideoDevice\.image 640 480 \d+ "<raw 921600 bytes>"/);
    qi.kill("SIGINT");
    const r = await qi.exit();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ALVideoDevice\.image/m);
  });

  it("refuses a method as a signal (exit 1)", async () => {
    const r = await runQi(["watch", "ALMemory.getData", ...u()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ALMemory has no signal "getData" \(it is a method/);
  });
});

describe("qi post", () => {
  it("triggers a signal and posts a method call", async () => {
    const pings: string[] = [];
    const echo = await world.client.service("Echo");
    await echo.signal("ping").connect((s: string) => pings.push(s));
    const [sig, meth] = await Promise.all([
      runQi(["post", "Echo.ping", '"from qi post"', ...u()]),
      runQi(["post", "ALMemory.insertData", '"posted"', '"yes"', ...u()]),
    ]);
    expect(sig).toMatchObject({ code: 0, stderr: "" });
    expect(meth).toMatchObject({ code: 0, stderr: "" });
    await new Promise((r) => setTimeout(r, 100));
    expect(pings).toEqual(["from qi post"]);
    const mem = await world.client.service("ALMemory");
    expect(await mem.call("getData", "posted")).toMatchObject({ signature: "s", value: "yes" });
  });
});

describe("qi trace", () => {
  it("prints call, result and signal events of a service", async () => {
    const qi = new QiProcess(["trace", "ALTextToSpeech", "--count", "4", "--json", ...u()]);
    await qi.waitFor(/tracing/, "stderr");
    const tts = await world.client.service("ALTextToSpeech");
    await tts.call("say", "traced");
    const r = await qi.exit();
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.map((e) => `${e.kind} ${e.member}`).sort()).toEqual([
      "call say",
      "result say",
      "signal done",
      "signal started",
    ]);
    expect(events.find((e) => e.kind === "call").arguments).toEqual(["traced"]);
  });
});

describe("qi top", () => {
  it("samples per-method statistics once", async () => {
    // A long interval: the calls below must land between the command enabling the stats and
    // its sample, even on a loaded machine.
    const qi = new QiProcess(["top", "Echo", "--once", "--interval", "3000", "--json", ...u()], {
      timeoutMs: 30_000,
    });
    const echo = await world.client.service("Echo");
    // Wait until stats are on (the command enables them right after connecting).
    for (let i = 0; i < 400 && !(await echo.call<boolean>("isStatsEnabled")); i++)
      await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 5; i++) await echo.call("add", i, 1);
    await echo.call("fail").catch(() => {});
    const r = await qi.exit();
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout.trim()) as Array<{
      name: string;
      count: number;
      minMs: number;
      maxMs: number;
      avgMs: number;
    }>;
    const add = rows.find((x) => x.name === "add")!;
    expect(add.count).toBe(5);
    expect(add.minMs).toBeLessThanOrEqual(add.avgMs);
    expect(add.avgMs).toBeLessThanOrEqual(add.maxMs);
    expect(rows.find((x) => x.name === "fail")?.count).toBe(1);
    // Stats were off before: the command turns them off again.
    expect(await echo.call("isStatsEnabled")).toBe(false);
  }, 40_000);
});
