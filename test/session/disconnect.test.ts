/**
 * Disconnection in the middle of calls (spec §5.3): every pending call fails at once with
 * ERR_DISCONNECTED, and the Service Directory drops the services of a vanished host and tells
 * its subscribers (serviceRemoved, spec §4.2).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { isQiError, type QiError } from "../../src/connection/index.js";
import { Session } from "../../src/session/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import { CalcIds, libqiCalc } from "../connection/calc.js";
import { headerHex, hex, RawPeer } from "../connection/raw-peer.js";

const HOST = fileURLToPath(new URL("./fixtures/calc-host.ts", import.meta.url));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function directory() {
  const sd = new Session();
  cleanups.push(() => sd.close());
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  return { sd, url };
}

function spawnHost(url: string): Promise<{ child: ChildProcess; id: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", HOST, url], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanups.push(() => child.kill("SIGKILL"));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve({ child, id: Number(m[1]) });
    });
    child.once("exit", (code) => reject(new Error(`host exited early (${code})`)));
  });
}

describe("disconnection in the middle of calls", () => {
  it("a host killed with SIGKILL: 50 pending calls reject at once with ERR_DISCONNECTED, the SD announces serviceRemoved", async () => {
    const { sd, url } = await directory();
    const { child, id } = await spawnHost(url);
    const client = new Session();
    cleanups.push(() => client.close());
    await client.connect(url);
    const calc = await client.service("Calc");
    expect(await calc.call("add", 1, 2)).toBe(3);

    // A raw subscriber to serviceRemoved on the SD sees libqi's Event.
    const watcher = await RawPeer.open(url);
    cleanups.push(() => watcher.destroy());
    await watcher.authenticate(encode("{sm}", new Map()));
    await watcher.registerEvent(1, 1, 107, (107n << 32n) | 1n);
    const removedEvent = watcher.waitFor(
      (f) => f.msg.type === MessageType.Event && f.msg.action === 107,
      10_000,
    );
    const removed = new Promise<string>((r) => client.once("serviceUnregistered", (_id, name) => r(name)));

    const settled: number[] = [];
    const calls = Array.from({ length: 50 }, () =>
      calc.call("slow", 60_000).then(
        () => {
          throw new Error("a call succeeded");
        },
        (e: unknown) => {
          settled.push(performance.now());
          return e;
        },
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGKILL");
    const errors = await Promise.all(calls);
    for (const e of errors) {
      expect(isQiError(e, "QI_ERR_DISCONNECTED")).toBe(true);
      expect((e as QiError).service).toBe(id);
    }
    expect(Math.max(...settled) - Math.min(...settled)).toBeLessThan(50);

    expect(await removed).toBe("Calc");
    const e = await removedEvent;
    const payload = hex(encode("(Is)", [id, "Calc"]));
    expect(hex(e.bytes)).toBe(
      headerHex({
        id: e.msg.id,
        size: payload.length / 2,
        type: 5,
        flags: 0,
        service: 1,
        object: 1,
        action: 107,
      }) + payload,
    );
    expect((await client.services()).map((s) => s.name)).toEqual(["ServiceDirectory"]);
    expect(sd.serviceDirectory!.idOf("Calc")).toBeUndefined();
    // The proxy is dead; a new lookup fails cleanly.
    await expect(calc.call("add", 1, 2)).rejects.toSatisfy((x: unknown) =>
      isQiError(x, "QI_ERR_DISCONNECTED"),
    );
    await expect(client.service("Calc")).rejects.toSatisfy((x: unknown) => isQiError(x, "QI_ERR_REMOTE"));
  }, 30_000);

  it("the client side going away: calls of the SD connection fail at once, services() after that reports it", async () => {
    const { sd, url } = await directory();
    await sd.registerService("Calc", libqiCalc());
    const client = new Session();
    cleanups.push(() => client.close());
    await client.connect(url);
    const calc = await client.service("Calc"); // over the SD connection (qi:ServiceDirectory)
    const disconnected = new Promise<string>((r) => client.once("disconnected", r));
    const pending = Array.from({ length: 20 }, () => calc.call("slow", 60_000).catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 30));
    await sd.close();
    for (const e of await Promise.all(pending)) expect(isQiError(e, "QI_ERR_DISCONNECTED")).toBe(true);
    expect(await disconnected).toMatch(/lost|closed/);
    expect(client.isConnected).toBe(false);
    await expect(client.services()).rejects.toSatisfy((x: unknown) => isQiError(x, "QI_ERR_DISCONNECTED"));
  });

  it("a raw host that registered over its SD connection and vanishes: its pending and ready services both go", async () => {
    const { sd, url } = await directory();
    const client = new Session();
    cleanups.push(() => client.close());
    await client.connect(url);
    const host = await RawPeer.open(url);
    await host.authenticate(encode("{sm}", new Map()));
    const info = (name: string) =>
      encode("(sIsI[s]ss)", [name, 0, "m", 1, ["tcp://127.0.0.1:1"], "sess", ""]);
    const ready = decode("I", (await host.call(1, 1, 102, info("Ready"))).msg.payload) as number;
    expect((await host.call(1, 1, 104, encode("(I)", [ready]))).msg.type).toBe(MessageType.Reply);
    const pending = decode("I", (await host.call(1, 1, 102, info("Pending"))).msg.payload) as number;
    expect(pending).toBe(ready + 1);
    expect((await client.services()).map((s) => s.name)).toEqual(["ServiceDirectory", "Ready"]);
    const removed: string[] = [];
    client.on("serviceUnregistered", (_id, name) => removed.push(name));
    host.destroy();
    const end = Date.now() + 3_000;
    while (sd.serviceDirectory!.size > 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(sd.serviceDirectory!.size).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    // Every service of that connection is unregistered with serviceRemoved, pending ones too
    // (libqi 4.x unregisterService emits it whichever list the service was in).
    expect(removed).toEqual(["Ready", "Pending"]);
    // Ids are never reused.
    const again = new Session();
    cleanups.push(() => again.close());
    await again.connect(url);
    expect(await again.registerService("Ready", libqiCalc())).toBe(pending + 1);
    void CalcIds;
  });
});
