/** `qi sd`, `qi demo --attach`, and `qi start` (the embedded default) as real processes. */
import { afterAll, describe, expect, it } from "vitest";
import { Session } from "../../src/session/index.js";
import { QiProcess, runAll, runQi } from "./run-qi.js";

const sessions: Session[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
});

describe("qi sd + qi demo --attach", () => {
  it("runs a Service Directory, hosts the demo on it, and both stop cleanly", async () => {
    const sd = new QiProcess(["sd", "--listen", "tcp://127.0.0.1:0"]);
    const [url] = await sd.waitFor(/tcp:\/\/127\.0\.0\.1:\d+/);
    const demo = new QiProcess(["demo", "--attach", url]);
    await demo.waitFor(/registered with/);
    const client = new Session();
    sessions.push(client);
    await client.connect(url);
    const names = (await client.services()).map((s) => s.name);
    expect(names).toEqual(["ServiceDirectory", "ALMemory", "ALTextToSpeech", "ALVideoDevice", "ALBattery"]);
    const battery = await client.service("ALBattery");
    expect(await battery.call("getBatteryCharge")).toBeGreaterThan(0);
    demo.kill("SIGINT");
    expect((await demo.exit()).code).toBe(0);
    // The demo unregistered its services on the way out.
    expect((await client.services()).map((s) => s.name)).toEqual(["ServiceDirectory"]);
    sd.kill("SIGTERM");
    const r = await sd.exit();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Service Directory listening on ${url}`);
  });
});

describe("qi start", () => {
  it("serves the simulated robot until Ctrl-C", async () => {
    const start = new QiProcess(["start", "--listen", "tcp://127.0.0.1:0"]);
    const [url] = await start.waitFor(/tcp:\/\/127\.0\.0\.1:\d+/);
    await start.waitFor(/Ctrl-C to stop/);
    const [services, say, frame] = await runAll([
      ["services", "--json", "--url", url],
      ["call", "ALTextToSpeech.say", '"hello from qi start"', "--url", url],
      ["watch", "ALVideoDevice.image", "--count", "1", "--json", "--url", url],
    ]);
    expect(services.code).toBe(0);
    expect((JSON.parse(services.stdout) as Array<{ name: string }>).map((s) => s.name)).toEqual([
      "ServiceDirectory",
      "ALMemory",
      "ALTextToSpeech",
      "ALVideoDevice",
      "ALBattery",
    ]);
    expect(say).toMatchObject({ code: 0, stderr: "" });
    expect(frame.code).toBe(0);
    const event = JSON.parse(frame.stdout.trim()) as { args: [number, number, number, { base64: string }] };
    expect(event.args.slice(0, 2)).toEqual([640, 480]);
    expect(Buffer.from(event.args[3].base64, "base64").byteLength).toBe(921600);
    // The TTS logged what it said; the gateway hook announced itself.
    expect(start.stderr).toContain("hello from qi start");
    expect(start.stderr).toContain("gateway: not yet available");
    start.kill("SIGINT");
    const r = await start.exit();
    expect(r.code).toBe(0);
  });

  it("fails with exit 1 and a hint when the port is taken", async () => {
    const sd = new Session();
    sessions.push(sd);
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    const r = await runQi(["start", "--listen", url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .* — try another port/m);
  });
});
