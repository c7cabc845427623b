/**
 * The XMPP entry against a real Prosody: a remote client reaches the gateway's services through
 * `xmpp://robot@localhost`, behind the entry's allow-list and then the gateway's own qi
 * authentication and permissions, as on tcp.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UserTokenAuthenticator } from "../../../src/connection/index.js";
import { GatewayAuthProvider, hashToken } from "../../../src/gateway/index.js";
import { QiObject, type RemoteObject } from "../../../src/object/index.js";
import { Session } from "../../../src/session/index.js";
import { type XmppEntryEvent, xmppTransport } from "../../../src/transport/index.js";
import { Raw } from "../../../src/wire/values.js";
import { cleanup, raw, runCleanup, until, world } from "../../gateway/world.js";
import { type Prosody, prosodyFound, startProsody } from "./prosody.js";

if (!prosodyFound) console.log("xmpp peer tests skipped: prosody is not installed (apt-get install prosody)");

const ACCOUNTS = { robot: "robot-pw", alice: "alice-pw", mallory: "mallory-pw" };

describe.skipIf(!prosodyFound)("XMPP entry through prosody", () => {
  let prosody: Prosody;
  beforeAll(async () => {
    prosody = await startProsody(ACCOUNTS);
  }, 30_000);
  afterAll(async () => prosody?.dispose());
  afterEach(runCleanup);

  function account(user: keyof typeof ACCOUNTS) {
    return {
      jid: `${user}@localhost`,
      password: ACCOUNTS[user],
      service: prosody.service,
      tls: { ca: prosody.caCert },
    };
  }

  async function xmppWorld(limits: { maxQueuedBytes?: number } = {}) {
    const events: XmppEntryEvent[] = [];
    const w = await world({
      allowAnonymous: false,
      authProvider: new GatewayAuthProvider({ nao: { token: hashToken("secret") } }),
      listen: ["xmpp://robot@localhost"],
      xmpp: {
        ...account("robot"),
        allow: ["alice@localhost"],
        reconnectMinMs: 100,
        onEvent: (e) => events.push(e),
      },
      limits,
    });
    return { ...w, events };
  }

  async function remote(user: keyof typeof ACCOUNTS, token = "secret"): Promise<Session> {
    const s = new Session({
      transport: xmppTransport(account(user)),
      authenticator: new UserTokenAuthenticator("nao", token),
    });
    cleanup.push(() => s.close());
    await s.connect("xmpp://robot@localhost");
    return s;
  }

  it("serves calls, the camera-like signal and objects both ways to an allow-listed JID", async () => {
    const w = await xmppWorld();
    const relay = new QiObject().method(
      "poke",
      "(o)",
      "i",
      async (o: RemoteObject) => (await o.call("next")) as number,
    );
    await w.host.registerService("Relay", relay);
    const s = await remote("alice");
    const calc = await s.service("Calc");
    expect(await calc.call("add", 2, 3)).toBe(5);
    // A signal with a frame-sized payload, as ALVideoDevice.image.
    const frames: number[] = [];
    await calc.signal("frame").connect((r: Raw) => frames.push(r.bytes.byteLength));
    await until(() => w.gw.clients().some((c) => c.subscriptions > 0), "subscription at the gateway");
    for (let i = 0; i < 3; i++) w.service.object.emit("frame", raw(640 * 480 * 3, i));
    await until(() => frames.length === 3, "three frames", 20_000);
    expect(frames).toEqual([921_600, 921_600, 921_600]);
    // An object the service returns, and one the client passes in (called back over XMPP).
    const counter = (await calc.call("makeCounter", 41)) as RemoteObject;
    expect(await counter.call("next")).toBe(42);
    let value = 9;
    const mine = new QiObject().method("next", "()", "i", () => ++value);
    const r = await s.service("Relay");
    expect(await r.call("poke", mine)).toBe(10);
    expect(w.gw.clients()[0].peer).toMatch(/^xmpp:\/\/alice@localhost\/qi-/);
  }, 60_000);

  it("refuses an unlisted JID at the stream's open, before any qi message", async () => {
    const w = await xmppWorld();
    await expect(remote("mallory")).rejects.toThrow(/not on its allow-list/);
    expect(w.events).toContainEqual(
      expect.objectContaining({ kind: "refused", why: "not on the allow-list" }),
    );
    expect(w.gw.stats().clients).toBe(0);
  }, 30_000);

  it("refuses wrong qi credentials from an allow-listed JID", async () => {
    await xmppWorld();
    await expect(remote("alice", "wrong")).rejects.toThrow(/auth|credential|denied|refused/i);
  }, 30_000);

  it("splits a 1 MiB payload into blocks and reassembles it in order, both ways", async () => {
    await xmppWorld();
    const s = await remote("alice");
    const calc = await s.service("Calc");
    const bytes = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 11)) & 0xff;
    const back = (await calc.call("echo", new Raw(bytes))) as Raw;
    expect(Buffer.compare(Buffer.from(back.bytes), bytes)).toBe(0);
  }, 60_000);

  it("bounds what the gateway holds for a remote reader that stops reading", async () => {
    const w = await xmppWorld({ maxQueuedBytes: 1024 * 1024 });
    const s = await remote("alice");
    const calc = await s.service("Calc");
    let got = 0;
    await calc.signal("frame").connect(() => got++);
    await until(() => w.gw.clients().some((c) => c.subscriptions > 0), "subscription at the gateway");
    s.directoryConnection?.channel.pause();
    let maxQueued = 0;
    for (let i = 0; i < 60; i++) {
      w.service.object.emit("frame", raw(256 * 1024, i));
      await new Promise((r) => setImmediate(r));
      maxQueued = Math.max(maxQueued, w.gw.clients()[0]?.queuedBytes ?? 0);
    }
    await until(() => (w.gw.clients()[0]?.droppedEvents ?? 0) > 0, "dropped events at the gateway", 20_000);
    // Over the soft limit by at most the frame that crossed it (and the header bytes).
    expect(maxQueued).toBeLessThanOrEqual(1024 * 1024 + 256 * 1024 + 4096);
    s.directoryConnection?.channel.resume();
    await until(() => got > 0, "frames after resume", 20_000);
    expect(got).toBeLessThan(60);
  }, 60_000);

  it("survives a prosody restart: calls in flight fail clearly, the entry logs in again", async () => {
    const w = await xmppWorld();
    const s = await remote("alice");
    const calc = await s.service("Calc");
    const inFlight = calc.call("slow", 30_000).then(
      () => new Error("the call in flight succeeded"),
      (e: Error) => e,
    );
    await until(() => w.gw.clients()[0]?.pendingCalls === 1, "call in flight at the gateway");
    await prosody.restart();
    expect((await inFlight).message).toMatch(/lost: the XMPP server went away/);
    await until(() => w.events.filter((e) => e.kind === "online").length >= 2, "entry online again", 30_000);
    expect(w.events).toContainEqual(expect.objectContaining({ kind: "offline" }));
    const again = await remote("alice");
    expect(await (await again.service("Calc")).call("add", 1, 2)).toBe(3);
  }, 90_000);
});
