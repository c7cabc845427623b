/**
 * Library conventions of issue 18 item 6: `Session.connect()` reads QI_URL / QI_USER /
 * QI_TOKEN, `Application` takes --qi-url off argv like Python's qi.Application, and
 * `robotLogger` sends library logs to the robot's LogManager like qi.logging.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { RemoteObject } from "../../src/object/index.js";
import { Application, parseQiArguments, robotLogger, Session } from "../../src/session/index.js";
import type { Struct } from "../../src/wire/index.js";
import { startWorld, type World } from "./world.js";

let world: World;
const saved = { ...process.env };
beforeAll(async () => {
  world = await startWorld({ auth: { nao: "secret-token" } });
});
afterEach(() => {
  for (const k of ["QI_URL", "QI_USER", "QI_TOKEN"]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
afterAll(async () => {
  await world?.close();
});

it("Session.connect() without a URL uses QI_URL with QI_USER / QI_TOKEN", async () => {
  Object.assign(process.env, { QI_URL: world.url, QI_USER: "nao", QI_TOKEN: "secret-token" });
  const session = new Session();
  try {
    await session.connect();
    expect((await session.services()).map((s) => s.name)).toContain("ALMemory");
  } finally {
    await session.close();
  }
  process.env.QI_TOKEN = "wrong";
  const refused = new Session();
  await expect(refused.connect()).rejects.toThrow();
  await refused.close();
});

it("Application takes --qi-url off argv and leaves the program its arguments", async () => {
  expect(parseQiArguments(["a", "--qi-url=tcp://h:1", "b", "--qi-listen-url", "tcp://127.0.0.1:0"])).toEqual({
    url: "tcp://h:1",
    listenUrls: ["tcp://127.0.0.1:0"],
    rest: ["a", "b"],
  });
  expect(() => parseQiArguments(["--qi-url"])).toThrow(/--qi-url needs a URL/);
  const app = new Application({
    argv: ["--qi-url", world.url, "--verbose"],
    user: "nao",
    token: "secret-token",
  });
  expect(app.args).toEqual(["--verbose"]);
  const session = await app.start();
  try {
    expect(await (await session.service("ALTextToSpeech")).call("getAvailableLanguages")).toContain("French");
  } finally {
    await app.stop();
  }
});

it("robotLogger sends library logs to the LogManager, where a listener sees them", async () => {
  const manager = await world.client.service("LogManager");
  const listener = (await manager.call("createListener")) as RemoteObject;
  const seen: Struct[] = [];
  await listener.signal("onLogMessage").connect((m: Struct) => seen.push(m));
  const log = robotLogger(world.client, { category: "test.library" });
  log.warning("disk almost full");
  log.info("started");
  await log.flush();
  await expect.poll(() => seen.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
  expect(seen.map((m) => [m.fields.category, m.fields.message])).toEqual([
    ["test.library", "disk almost full"],
    ["test.library", "started"],
  ]);
  expect(log.dropped).toBe(0);
  listener.release();
});
