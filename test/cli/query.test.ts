/** `qi services`, `info`, `call`, `get`, `set` against a Service Directory of the test process. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAll, runQi } from "./run-qi.js";
import { DEMO_DIRECTORY } from "./demo-directory.js";
import { startWorld, type World } from "./world.js";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

const u = () => ["--url", world.url];

describe("qi (no connection)", () => {
  it("prints its version and documents exit codes in --help", async () => {
    const [version, help, none] = await runAll([["--version"], ["--help"], []]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:/);
    expect(help.stdout).toMatch(/3\s+cannot connect/);
    for (const cmd of [
      "start",
      "sd",
      "services",
      "info",
      "call",
      "post",
      "watch",
      "get",
      "set",
      "trace",
      "top",
      "demo",
    ]) {
      expect(help.stdout).toContain(`  ${cmd}`);
    }
    expect(none.code).toBe(2);
  });
});

describe("qi services", () => {
  it("lists services, hides _names unless --hidden, and prints ServiceInfo as JSON", async () => {
    const [human, json, hidden] = await runAll([
      ["services", ...u()],
      ["services", "--json", ...u()],
      ["services", "--json", "--hidden", ...u()],
    ]);
    expect(human.code).toBe(0);
    for (const n of [...DEMO_DIRECTORY, "Echo"]) {
      expect(human.stdout).toContain(n);
    }
    expect(human.stdout).not.toContain("_Hidden");
    const list = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(list.map((s) => s.name)).toEqual([...DEMO_DIRECTORY, "Echo"]);
    const mem = list.find((s) => s.name === "ALMemory")!;
    expect(mem).toMatchObject({ serviceId: 2, processId: process.pid });
    expect(mem.endpoints).toContain(world.url);
    expect(mem.objectUid).toMatch(/^[0-9a-f]{40}$/);
    expect((JSON.parse(hidden.stdout) as Array<{ name: string }>).map((s) => s.name)).toContain("_Hidden");
  });
});

describe("qi info", () => {
  it("describes members with parameter names, hiding reserved members unless --hidden", async () => {
    const [human, json, hidden] = await runAll([
      ["info", "Echo", ...u()],
      ["info", "ALTextToSpeech", "--json", ...u()],
      ["info", "Echo", "--hidden", "--json", ...u()],
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("add(i a, i b) -> i");
    expect(human.stdout).toContain("add(d, d) -> d");
    expect(human.stdout).toContain("echo(m value) -> m");
    expect(human.stdout).toContain("returns its argument");
    expect(human.stdout).toContain("ping(s)");
    expect(human.stdout).toContain("level: i");
    expect(human.stdout).not.toContain("metaObject");
    const tts = JSON.parse(json.stdout);
    expect(tts.name).toBe("ALTextToSpeech");
    expect(tts.methods.find((m: { name: string }) => m.name === "say")).toMatchObject({
      parametersSignature: "(s)",
      returnSignature: "v",
      parameters: [{ name: "text", type: "s" }],
      text: "say(s text) -> v",
    });
    expect(tts.signals.map((s: { name: string }) => s.name)).toEqual(["started", "done"]);
    expect(tts.properties.map((p: { name: string }) => p.name)).toEqual(["volume", "language"]);
    expect(tts.methods.every((m: { id: number }) => m.id >= 100)).toBe(true);
    const all = JSON.parse(hidden.stdout);
    expect(all.methods.map((m: { name: string }) => m.name)).toContain("metaObject");
    expect(all.signals.map((s: { name: string }) => s.name)).toContain("traceObject");
  });
});

describe("qi call", () => {
  it("converts JSON arguments by signature and prints results", async () => {
    const [say, langs, addI, addD, next, raw, rawEcho, struct, map, point, echo, image] = await runAll([
      ["call", "ALTextToSpeech.say", '"hello from the test"', ...u()],
      ["call", "ALTextToSpeech.getAvailableLanguages", "--json", ...u()],
      ["call", "Echo.add", "40", "2", "--json", ...u()],
      ["call", "Echo.add", "1.5", "2", "--json", ...u()],
      ["call", "Echo.next", "9007199254740993", "--json", ...u()],
      ["call", "Echo.rawLength", '"base64:AAECAw=="', ...u()],
      ["call", "Echo.rawEcho", '"base64:AAECAw=="', "--json", ...u()],
      ["call", "Echo.norm1", '{"x":-3,"y":4}', ...u()],
      ["call", "Echo.sum", '{"a":1,"b":2,"c":3}', ...u()],
      ["call", "Echo.point", "1", "-2", "--json", "--dispatch", "sync", ...u()],
      ["call", "Echo.echo", '{"k":[1,2,{"deep":true}]}', "--json", ...u()],
      ["call", "ALVideoDevice.getImage", ...u()],
    ]);
    expect(say).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(JSON.parse(langs.stdout)).toContain("French");
    expect(JSON.parse(addI.stdout)).toBe(42);
    expect(JSON.parse(addD.stdout)).toBe(3.5);
    expect(next.stdout.trim()).toBe('"9007199254740994"'); // beyond 2^53: a decimal string
    expect(raw.stdout.trim()).toBe("4");
    expect(JSON.parse(rawEcho.stdout)).toEqual({ base64: "AAECAw==" });
    expect(struct.stdout.trim()).toBe("7");
    expect(map.stdout.trim()).toBe("6");
    expect(JSON.parse(point.stdout)).toEqual({ x: 1, y: -2 });
    expect(JSON.parse(echo.stdout)).toEqual({ k: [1, 2, { deep: true }] });
    expect(image.code).toBe(0);
    expect(image.stdout).toMatch(/^\[640,480,\d+,"<raw 921600 bytes>"\]/);
  });

  it("stores and reads ALMemory data", async () => {
    const set = await runQi(["call", "ALMemory.insertData", '"test/key"', '{"a":[1.5,"x"]}', ...u()]);
    expect(set.code).toBe(0);
    const [get, list] = await runAll([
      ["call", "ALMemory.getData", '"test/key"', "--json", ...u()],
      ["call", "ALMemory.getDataList", '"test/"', "--json", ...u()],
    ]);
    expect(JSON.parse(get.stdout)).toEqual({ a: [1.5, "x"] });
    expect(JSON.parse(list.stdout)).toEqual(["test/key"]);
  });
});

describe("qi get / set", () => {
  it("reads and writes properties with their types", async () => {
    const [setVolume, setLevel] = await runAll([
      ["set", "ALTextToSpeech.volume", "0.3", ...u()],
      ["set", "Echo.level", "12", ...u()],
    ]);
    expect(setVolume.code).toBe(0);
    expect(setLevel.code).toBe(0);
    const [volume, level, badSet] = await runAll([
      ["get", "ALTextToSpeech.volume", ...u()],
      ["get", "Echo.level", "--json", ...u()],
      ["set", "Echo.level", '"not a number"', ...u()],
    ]);
    expect(volume.stdout.trim()).toBe("0.3"); // float32 printed short
    expect(JSON.parse(level.stdout)).toBe(12);
    // Does not convert locally: sent as a dynamic, the service refuses it.
    expect(badSet.code).toBe(1);
    expect(badSet.stderr).toMatch(/^error: /);
    const tts = await world.client.service("ALTextToSpeech");
    expect(await tts.property<number>("volume").get()).toBeCloseTo(0.3, 5);
  });
});
