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

/** `npm start` on free ports, its output gathered; `ready` resolves at the banner's end. */
function npmStart() {
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
  const run = { child, out: "", err: "" };
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    run.out += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    run.err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("close", (code, signal) => r({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (run.out.includes("Ctrl-C to stop")) resolve();
    };
    child.stdout.on("data", check);
    void exited.then(() => reject(new Error(`npm start exited before its banner:\n${run.out}${run.err}`)));
  });
  return {
    ...run,
    get out() {
      return run.out;
    },
    get err() {
      return run.err;
    },
    exited,
    ready,
  };
}

it("npm start runs the Service Directory, the simulated robot, the gateway and the console", async () => {
  const run = npmStart();
  const { child } = run;
  try {
    await run.ready;
    const out = run.out;
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
  const { code, signal } = await run.exited;
  // npm itself may die of the SIGINT; the qi process behind it stops cleanly.
  expect(code === 0 || signal === "SIGINT").toBe(true);
  expect(run.err).toContain('"msg":"stopping"');
}, 120_000);

it("a signal to npm's process alone (kill, a service manager) stops qi too", async () => {
  const run = npmStart();
  try {
    await run.ready;
  } catch (e) {
    process.kill(-run.child.pid!, "SIGKILL");
    throw e;
  }
  // npm forwards it to the script's process, which is qi itself: a shell in between kept
  // qi running after the shell had gone.
  process.kill(run.child.pid!, "SIGTERM");
  const { code, signal } = await run.exited;
  expect(code === 0 || signal === "SIGTERM", run.err).toBe(true);
  expect(run.err).toContain('"signal":"SIGTERM","msg":"stopping"');
  let alive = true;
  try {
    process.kill(-run.child.pid!, 0);
  } catch {
    alive = false;
  }
  expect(alive, "a process of the npm start group is still running").toBe(false);
}, 120_000);
