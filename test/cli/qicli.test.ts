/**
 * Issue 18 as a qicli user meets it: plain-text arguments, patterns, --show-doc, log-send,
 * "did you mean", an object result summarised (and released), wrong arguments named, the
 * simulated robot refusing nonsense, and the busy-loop / silent options refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_DIRECTORY } from "./demo-directory.js";
import { QiProcess, runAll, runQi } from "./run-qi.js";
import { startWorld, type World } from "./world.js";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

const u = () => ["--url", world.url];

describe("qicli habits", () => {
  it("takes plain strings, keeps JSON working, and names a wrong argument's parameter", async () => {
    const [plain, json, number, numberAsText, wrong] = await runAll([
      ["call", "ALTextToSpeech.say", "hello", ...u()],
      ["call", "ALTextToSpeech.say", '"hello"', ...u()],
      ["call", "Echo.add", "40", "2", "--json", ...u()],
      ["call", "ALMemory.insertData", "plain/key", "42", ...u()],
      ["call", "Echo.add", "forty", "2", ...u()],
    ]);
    expect(plain).toMatchObject({ code: 0, stderr: "" });
    expect(json).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(number.stdout)).toBe(42);
    expect(numberAsText.code).toBe(0);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/argument 1 \(a\)/);
    expect(wrong.stderr).toContain("qi info Echo");
    // A number typed where a string is wanted is the text typed.
    const said = await runQi(["call", "ALMemory.getData", "plain/key", "--json", ...u()]);
    expect(JSON.parse(said.stdout)).toBe(42);
  });

  it("expands patterns in info, shows documentation, and suggests a misspelt service or member", async () => {
    const [al, doc, typo, memberTypo] = await runAll([
      ["info", "AL*", "--json", ...u()],
      ["info", "Echo", "--show-doc", ...u()],
      ["info", "ALMemroy", ...u()],
      ["call", "ALTextToSpeech.sya", "x", ...u()],
    ]);
    expect(al.code).toBe(0);
    const names = al.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).name);
    expect(names).toEqual(DEMO_DIRECTORY.filter((n) => n.startsWith("AL")));
    expect(doc.stdout).toContain("value: ");
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("did you mean ALMemory?");
    expect(memberTypo.stderr).toContain("did you mean say?");
  });

  it("watches a whole service by pattern and sends log messages that qi log shows", async () => {
    const watch = new QiProcess(["watch", "Echo.*", "--count", "2", "--json", ...u()]);
    await watch.waitFor(/watching/, "stderr");
    const echo = await world.client.service("Echo");
    await echo.property("level").set(5);
    await echo.property("level").set(6);
    const done = await watch.exit();
    expect(done.code).toBe(0);
    const signals = done.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).signal);
    expect(signals).toEqual(["level", "level"]);

    const log = new QiProcess(["log", "--level", "info", "--json", ...u()]);
    await log.waitFor(/listening to LogManager/, "stderr");
    const sent = await runQi(["log-send", "hello", "robot", "--category", "test.cli", ...u()]);
    expect(sent).toMatchObject({ code: 0, stderr: "" });
    const [line] = await log.waitFor(/.*hello robot.*/);
    expect(JSON.parse(line)).toMatchObject({ category: "test.cli", message: "hello robot" });
    log.kill("SIGINT");
    await log.exit();
  });

  it("prints an object result as a short description and releases it", async () => {
    const [human, json] = await runAll([
      ["call", "Echo.makeCounter", "3", ...u()],
      ["call", "Echo.makeCounter", "3", "--json", ...u()],
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout.split("\n").length).toBeLessThan(20);
    expect(human.stdout).toContain("Echo service #");
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({ description: "a counter", methods: ["next"], signals: ["wrapped"] });
    expect(summary.properties).toEqual(["step"]);
  });
});

describe("refused instead of silent", () => {
  it("rejects qi log --level 0, qi top --interval 0 and qi post to a property", async () => {
    const [level, top, post] = await runAll([
      ["log", "--level", "0", ...u()],
      ["top", "Echo", "--interval", "0", ...u()],
      ["post", "ALTextToSpeech.volume", "0.5", ...u()],
    ]);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain("--level must be one of");
    expect(top.code).toBe(2);
    expect(top.stderr).toContain("--interval must be at least");
    expect(post.code).toBe(1);
    expect(post.stderr).toContain("is a property");
    expect(post.stderr).toContain("qi set ALTextToSpeech.volume");
  });

  it("the simulated robot refuses nonsense property values", async () => {
    const [fps, volume, language, charge, goodVolume] = await runAll([
      ["set", "ALVideoDevice.fps", "-3", ...u()],
      ["set", "ALTextToSpeech.volume", "5", ...u()],
      ["set", "ALTextToSpeech.language", "Klingon", ...u()],
      ["set", "ALBattery.charge", "100", ...u()],
      ["set", "ALTextToSpeech.volume", "0.25", ...u()],
    ]);
    expect(fps.code).toBe(1);
    expect(fps.stderr).toContain("fps must be an integer from 1 to 30");
    expect(volume.stderr).toContain("volume must be a number from 0 to 1");
    expect(language.stderr).toContain("language must be one of English");
    expect(charge.stderr).toContain("charge is read-only");
    expect(goodVolume.code).toBe(0);
    const tts = await world.client.service("ALTextToSpeech");
    expect(await tts.property<number>("volume").get()).toBeCloseTo(0.25);
  });
});
