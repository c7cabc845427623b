/** `qi log`: the LogManager's messages, live, as a real subprocess against a real world. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../src/session/index.js";
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

describe("qi log", () => {
  it("prints what ALTextToSpeech.say logs as one JSON line and exits after --count", async () => {
    const qi = new QiProcess(["log", "--count", "1", "--json", "--category", "ALText*", ...u()]);
    await qi.waitFor(/listening to LogManager/, "stderr");
    const tts = await world.client.service("ALTextToSpeech");
    const before = Date.now();
    await tts.call("say", "hello from the log test");
    await tts.call("say", "beyond --count");
    const r = await qi.exit();
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: "listening to LogManager, level info (Ctrl-C to stop)\n",
    });
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const msg = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(msg).toMatchObject({
      level: "info",
      category: "ALTextToSpeech",
      message: "say: hello from the log test",
      source: "qimessaging:demo",
    });
    expect(msg.location).toMatch(new RegExp(`:${process.pid}$`));
    expect(new Date(msg.date as string).toISOString()).toBe(msg.date);
    expect(Math.abs(Date.parse(msg.date as string) - before)).toBeLessThan(5_000);
  });

  it("prints `<date> <level> <category>: <message>` for humans, skips filtered levels, stops on SIGINT", async () => {
    const qi = new QiProcess(["log", "--level", "warning", ...u()]);
    await qi.waitFor(/listening to LogManager, level warning/, "stderr");
    const logs = await world.client.service("LogManager");
    const message = (level: number, category: string, text: string) => ({
      source: "test",
      level: { level },
      category,
      location: "test:1",
      message: text,
      id: 0,
      date: { ns: 0n },
      systemDate: { ns: BigInt(Date.parse("2025-01-01T10:00:00.123Z")) * 1_000_000n },
    });
    await logs.call("log", [message(4, "App", "not shown (info)"), message(3, "App", "low disk")]);
    await qi.waitFor(/low disk/);
    qi.kill("SIGINT");
    const r = await qi.exit();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("2025-01-01T10:00:00.123Z warning App: low disk\n");
  });

  it("refuses a bad --level (exit 2) and fails with exit 1 when there is no LogManager", async () => {
    const [bad, none] = await Promise.all([
      runQi(["log", "--level", "loud", ...u()]),
      (async () => {
        const bare = new Session();
        const [url] = await bare.listenStandalone("tcp://127.0.0.1:0");
        try {
          return await runQi(["log", "--url", url]);
        } finally {
          await bare.close();
        }
      })(),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--level must be one of fatal, error, warning, info, verbose, debug/);
    expect(none.code).toBe(1);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    expect(none.stderr).toMatch(/unknown service "LogManager"/);
  });
});
