/** `qi sd`, `qi demo --attach`, and `qi start` (the embedded default) as real processes. */
import { afterAll, describe, expect, it } from "vitest";
import { Session } from "../../src/session/index.js";
import { QiProcess, runAll, runQi } from "./run-qi.js";
import { DEMO_DIRECTORY } from "./demo-directory.js";

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
    expect(names).toEqual(DEMO_DIRECTORY);
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
    const start = new QiProcess([
      "start",
      "--listen",
      "tcp://127.0.0.1:0",
      "--gateway",
      "tcp://127.0.0.1:0",
      "ws://127.0.0.1:0",
    ]);
    await start.waitFor(/Service Directory listening on tcp:\/\/127\.0\.0\.1:\d+/);
    const [gw] = await start.waitFor(/gateway listening on tcp:\/\/127\.0\.0\.1:\d+/);
    const url = gw.replace("gateway listening on ", "");
    const [creds] = await start.waitFor(/user nao token \S+/);
    const token = creds.split(" ")[3];
    await start.waitFor(/Ctrl-C to stop/);
    const auth = ["--url", url];
    // Everything below goes through the gateway, authenticated with this run's credentials
    // (from the environment: a token on argv would be warned about on stderr).
    const [services, say, frame, refused] = await runAll(
      [
        ["services", "--json", ...auth],
        ["call", "ALTextToSpeech.say", '"hello from qi start"', ...auth],
        ["watch", "ALVideoDevice.image", "--count", "1", "--json", ...auth],
        ["services", "--url", url, "--user", "nao", "--token", "wrong"],
      ],
      { env: { QI_USER: "nao", QI_TOKEN: token } },
    );
    expect(refused.code).toBe(3);
    // With its stderr and the gateway's log, so that a failure says why.
    expect(services.code, `${services.stderr}\n--- qi start stderr ---\n${start.stderr}`).toBe(0);
    expect(services.stderr).toBe("");
    expect((JSON.parse(services.stdout) as Array<{ name: string }>).map((s) => s.name)).toEqual(
      DEMO_DIRECTORY,
    );
    expect(say).toMatchObject({ code: 0, stderr: "" });
    expect(frame.code).toBe(0);
    const event = JSON.parse(frame.stdout.trim()) as { args: [number, number, number, { base64: string }] };
    expect(event.args.slice(0, 2)).toEqual([640, 480]);
    expect(Buffer.from(event.args[3].base64, "base64").byteLength).toBe(921600);
    // The TTS logged what it said.
    expect(start.stderr).toContain("hello from qi start");
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
    expect(r.stderr).toMatch(/^error: .*address already in use — try --listen with another port/m);
  });
});

describe("qi gateway", () => {
  it("runs in its own process, attached to a Service Directory in another", async () => {
    const sd = new QiProcess(["sd", "--listen", "tcp://127.0.0.1:0"]);
    const [sdUrl] = await sd.waitFor(/tcp:\/\/127\.0\.0\.1:\d+/);
    const gw = new QiProcess([
      "gateway",
      "--attach",
      sdUrl,
      "--listen",
      "tcp://127.0.0.1:0",
      "--user",
      "alice",
      "--token",
      "s3cret",
    ]);
    const [line] = await gw.waitFor(/gateway listening on tcp:\/\/127\.0\.0\.1:\d+/);
    await gw.waitFor(/attached to/);
    const url = line.replace("gateway listening on ", "");
    const [ok, anonymous] = await runAll([
      ["services", "--json", "--url", url, "--user", "alice", "--token", "s3cret"],
      ["services", "--url", url],
    ]);
    expect(ok.code).toBe(0);
    const listed = JSON.parse(ok.stdout) as Array<{ name: string; endpoints: string[] }>;
    expect(listed.map((s) => s.name)).toEqual(["ServiceDirectory"]);
    expect(listed[0].endpoints).toContain(url);
    expect(anonymous.code).toBe(3);
    gw.kill("SIGINT");
    expect((await gw.exit()).code).toBe(0);
    sd.kill("SIGINT");
    expect((await sd.exit()).code).toBe(0);
  });

  it("reports a wrong config key with its path before listening, exit 2", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "qi-gw-")), "gw.yaml");
    writeFileSync(
      file,
      "listen: [tcp://127.0.0.1:0]\nauth: { anonymous: true }\nlimits: { maxPendingCall: 5 }\n",
    );
    const r = await runQi(["gateway", "--config", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/limits: Unrecognized key.*maxPendingCall/);
    expect(r.stdout).not.toContain("listening");
  });
});

describe("qi sd --config", () => {
  it("requires the configured credentials, from a YAML file with hashed tokens", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const { hashToken } = await import("../../src/gateway/index.js");
    const dir = mkdtempSync(join(tmpdir(), "qi-sd-"));
    writeFileSync(join(dir, "users.yaml"), `users:\n  robot:\n    token: "${hashToken("pw")}"\n`);
    writeFileSync(join(dir, "sd.yaml"), "listen: [tcp://127.0.0.1:0]\nauth:\n  credentials: users.yaml\n");
    const sd = new QiProcess(["sd", "--config", join(dir, "sd.yaml")]);
    const [url] = await sd.waitFor(/tcp:\/\/127\.0\.0\.1:\d+/);
    const [ok, anonymous] = await runAll([
      ["services", "--json", "--url", url, "--user", "robot", "--token", "pw"],
      ["services", "--url", url],
    ]);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as Array<{ name: string }>).map((s) => s.name)).toEqual([
      "ServiceDirectory",
    ]);
    expect(anonymous.code).toBe(3);
    sd.kill("SIGINT");
    expect((await sd.exit()).code).toBe(0);
  });
});
