/**
 * Ctrl-C on `qi call` (issue 11), with a real `qi start` (its gateway forwards the Cancel) and a
 * real SIGINT to a real `qi call` process: the first Ctrl-C sends a Cancel and reports what the
 * robot did — stopped (a move) or ran to its end (a method that ignores its cancel, held until
 * the test lets it go, so no timing decides the case) — with distinct exit codes; a second
 * Ctrl-C quits at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterruptExit } from "../../src/cli/interruptible-call.js";
import { QiObject, type RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { QiProcess } from "../cli/run-qi.js";
import { freePort, type StartedQi, startQi, until } from "./helpers.js";

const TOKEN = "call-interrupt-token";
let qi: StartedQi;
let watcher: Session;
let motion: RemoteObject;
let gwUrl: string;
let host: Session;
/** Lets the held call of "Stubborn.hold" return its value. */
let release: ((value: number) => void) | undefined;
/** Every ALMotion.progress and ALTextToSpeech.started seen, as "name:fraction" / "say". */
const seen: string[] = [];
const calls: QiProcess[] = [];

beforeAll(async () => {
  const [sdPort, gwPort] = [await freePort(), await freePort()];
  qi = await startQi(sdPort, gwPort, TOKEN);
  gwUrl = `tcp://127.0.0.1:${gwPort}`;
  watcher = new Session({ user: "nao", token: TOKEN, reconnect: false });
  await watcher.connect(gwUrl);
  motion = await watcher.service("ALMotion");
  await motion
    .signal("progress")
    .connect((name: string, fraction: number) => seen.push(`${name}:${fraction}`));
  // A service that ignores its cancel and returns when the test says, registered beside the demo.
  host = new Session({ reconnect: false });
  await host.connect(`tcp://127.0.0.1:${sdPort}`);
  const stubborn = new QiObject().method("hold", "()", "i", () => {
    seen.push("hold");
    return new Promise<number>((r) => {
      release = r;
    });
  });
  await host.registerService("Stubborn", stubborn);
}, 120_000);

afterAll(async () => {
  for (const c of calls) if (c.child.exitCode === null && c.child.signalCode === null) c.kill("SIGKILL");
  release?.(0);
  await watcher?.close();
  await host?.close();
  await qi?.kill();
});

/** `qi call …` through the gateway; resolves once the robot started the action (`started`). */
async function callStarted(args: string[], started: string): Promise<QiProcess> {
  const from = seen.length;
  const proc = new QiProcess(["call", ...args], {
    env: { QI_URL: gwUrl, QI_USER: "nao", QI_TOKEN: TOKEN },
    timeoutMs: 60_000,
  });
  calls.push(proc);
  await until(() => seen.slice(from).some((s) => s.startsWith(started)), `${started} to start`, 45_000);
  return proc;
}

describe("Ctrl-C on `qi call` (a real process, a real SIGINT)", () => {
  it("a move that honours cancel: Cancel sent, the robot stopped, exit 4", async () => {
    const proc = await callStarted(["ALMotion.moveTo", "9", "0", "0"], "moveTo:");
    proc.kill("SIGINT");
    const r = await proc.exit();
    expect(r.stderr).toMatch(/Cancel sent to ALMotion\.moveTo/);
    expect(r.stderr).toMatch(/canceled: the robot stopped/);
    expect(r.code).toBe(InterruptExit.Stopped);
    // It stopped where it was: not at 9 m (18 s away), and no move under way.
    expect(await motion.call("moveIsActive")).toBe(false);
    const [x] = await motion.call<number[]>("getRobotPosition", true);
    expect(x).toBeLessThan(9);
  }, 90_000);

  it("a method that ignores the cancel: it ran to its end, its result printed, exit 5", async () => {
    const proc = await callStarted(["Stubborn.hold", "--json"], "hold");
    proc.kill("SIGINT");
    await proc.waitFor(/Cancel sent to Stubborn\.hold/, "stderr");
    release?.(42);
    const r = await proc.exit();
    expect(r.stderr).toMatch(/the method ran to its end: 42/);
    expect(r.stdout.trim()).toBe("42");
    expect(r.code).toBe(InterruptExit.RanToEnd);
  }, 90_000);

  it("a second Ctrl-C quits at once: exit 130", async () => {
    const proc = await callStarted(["Stubborn.hold"], "hold");
    proc.kill("SIGINT");
    await proc.waitFor(/Cancel sent/, "stderr");
    proc.kill("SIGINT");
    const r = await proc.exit();
    release?.(0);
    expect(r.stderr).toMatch(/quit without waiting/);
    expect(r.code).toBe(InterruptExit.Quit);
  }, 90_000);
});
