/**
 * The README's first command, for real: `npm start` builds the project and runs the embedded
 * default; we probe it like a newcomer would (services through the gateway with the printed
 * credentials, a call on the simulated robot, a camera frame, the web console) and stop it.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { UserTokenAuthenticator } from "../../src/connection/index.js";
import type { Raw } from "../../src/wire/index.js";
import { Session } from "../../src/session/index.js";
import { DEMO_DIRECTORY } from "./demo-directory.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const sessions: Session[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
});

it("npm start runs the Service Directory, the simulated robot, the gateway and the console", async () => {
  const child = spawn(
    "npm",
    [
      "start",
      "--silent",
      "--",
      "--listen",
      "tcp://127.0.0.1:0",
      "--gateway",
      "tcp://127.0.0.1:0",
      "ws://127.0.0.1:0",
    ],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("close", (code, signal) => r({ code, signal })),
  );
  try {
    const deadline = Date.now() + 90_000;
    while (!out.includes("Ctrl-C to stop")) {
      if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const gw = /gateway listening on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(out)![1];
    const [, user, token] = /user (\S+) token (\S+)/.exec(out)!;
    const consoleUrl = /web console: (http:\/\/\S+)/.exec(out)![1];

    const client = new Session({ authenticator: new UserTokenAuthenticator(user, token) });
    sessions.push(client);
    await client.connect(gw);
    expect((await client.services()).map((s) => s.name)).toEqual(DEMO_DIRECTORY);
    const tts = await client.service("ALTextToSpeech");
    expect(await tts.call("say", "hello from npm start")).toBeUndefined();
    const camera = await client.service("ALVideoDevice");
    const frame = await new Promise<Raw>((resolve) => {
      void camera.signal("image").connect((_w: number, _h: number, _seq: number, data: Raw) => resolve(data));
    });
    expect(frame.bytes.byteLength).toBe(640 * 480 * 3);
    const page = await fetch(consoleUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    expect((await fetch(new URL("qi.js", consoleUrl))).status).toBe(200);
  } finally {
    // Ctrl-C in a terminal: SIGINT to the whole process group (npm and the node it runs).
    process.kill(-child.pid!, "SIGINT");
  }
  const { code, signal } = await exited;
  // npm itself may die of the SIGINT; the qi process behind it stops cleanly.
  expect(code === 0 || signal === "SIGINT").toBe(true);
  expect(err).toContain('"msg":"stopping"');
}, 120_000);
