/**
 * A service host whose Service Directory process dies and comes back on the same port: its
 * services stay served to the clients already connected to it, and are registered again (and
 * made ready) once the directory is back. Real processes, real sockets on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { type ReregisteredService, Session } from "../../src/session/index.js";
import { spawnFixture } from "../gateway/fixtures/spawn-fixture.js";
import { cleanup, runCleanup } from "../gateway/world.js";

afterEach(runCleanup);

interface SdReady {
  url: string;
  pid: number;
}

function startSd(url = "tcp://127.0.0.1:0", ...flags: "bare"[]) {
  return spawnFixture<SdReady>("sd-process.ts", [url, ...flags]);
}

function session(options: ConstructorParameters<typeof Session>[0] = {}): Session {
  const s = new Session({ timeoutMs: 5_000, ...options });
  cleanup.push(() => s.close());
  return s;
}

function echo(tag: string): QiObject {
  return new QiObject().method("echo", "(s)", "s", (x: string) => `${tag}:${x}`);
}

function once<T extends unknown[]>(
  s: Session,
  event: "servicesRegisteredAgain" | "disconnected",
): Promise<T> {
  return new Promise((resolve) => s.once(event, (...args: unknown[]) => resolve(args as T)));
}

describe("a service host that loses its Service Directory (reconnect)", () => {
  it("keeps serving its clients, registers its services again (ready or pending as they were) when the SD is back", async () => {
    const sd = await startSd();
    const url = sd.ready.url;
    const host = session({ reconnect: { initialMs: 50, maxMs: 200 } });
    await host.connect(url);
    const echoId = await host.registerService("Echo", echo("a"));
    const pendingId = await host.registerService("Pending", echo("p"), { ready: false });
    const client = session();
    await client.connect(url);
    const proxy = await client.service("Echo");
    expect(await proxy.call("echo", "x")).toBe("a:x");

    const lost = once<[string]>(host, "disconnected");
    const attempts: number[] = [];
    host.on("reconnecting", (attempt) => attempts.push(attempt));
    sd.proc.kill("SIGKILL");
    await sd.exited;
    await lost;
    expect(host.isConnected).toBe(false);
    // While the directory is away, the client connected to the host's listener is still served.
    expect(await proxy.call("echo", "during")).toBe("a:during");

    const again = once<[ReregisteredService[]]>(host, "servicesRegisteredAgain");
    await startSd(url);
    const [list] = await again;
    expect(attempts.length).toBeGreaterThan(0);
    expect(list.map((s) => s.name)).toEqual(["Echo", "Pending"]);
    expect(host.isConnected).toBe(true);

    const fresh = session();
    await fresh.connect(url);
    const names = (await fresh.services()).map((s) => s.name);
    expect(names).toContain("Echo");
    expect(names).not.toContain("Pending"); // it was pending, it stays pending
    expect(await (await fresh.service("Echo")).call("echo", "y")).toBe("a:y");

    // The ids registerService returned keep working for the host's own calls.
    await host.serviceReady(pendingId);
    expect(await (await fresh.service("Pending")).call("echo", "z")).toBe("p:z");
    await host.unregisterService(echoId);
    expect((await fresh.services()).map((s) => s.name)).not.toContain("Echo");
  });

  it("a host whose new ids collide with its old ones keeps every service (registered in the first order)", async () => {
    // Bare directories (no Calc), so that ids depend on this test's registrations only: an
    // unrelated host's service is 2, so ours get B=3, A=4; after the restart (no unrelated
    // host) B=2, A=3: A's new id is B's old one.
    const sd = await startSd("tcp://127.0.0.1:0", "bare");
    const url = sd.ready.url;
    const other = session();
    await other.connect(url);
    await other.registerService("Other", echo("o"));
    const host = session({ reconnect: { initialMs: 50, maxMs: 200 } });
    await host.connect(url);
    await host.registerService("B", echo("b"));
    await host.registerService("A", echo("a"));
    await other.close();

    const again = once<[ReregisteredService[]]>(host, "servicesRegisteredAgain");
    sd.proc.kill("SIGKILL");
    await sd.exited;
    await startSd(url, "bare");
    const [list] = await again;
    expect(list.map((s) => [s.name, s.firstId, s.id])).toEqual([
      ["B", 3, 2],
      ["A", 4, 3],
    ]);
    const fresh = session();
    await fresh.connect(url);
    expect(await (await fresh.service("A")).call("echo", "1")).toBe("a:1");
    expect(await (await fresh.service("B")).call("echo", "2")).toBe("b:2");
  });

  it("a service unregistered while the directory is away is not registered again; one made ready is", async () => {
    const sd = await startSd();
    const url = sd.ready.url;
    const host = session({ reconnect: { initialMs: 50, maxMs: 200 } });
    await host.connect(url);
    const goneId = await host.registerService("Gone", echo("g"));
    const laterId = await host.registerService("Later", echo("l"), { ready: false });
    await host.registerService("Kept", echo("k"));
    const lost = once<[string]>(host, "disconnected");
    sd.proc.kill("SIGKILL");
    await lost;
    // Neither call may reach a directory with old ids: both only change what is registered again.
    await host.unregisterService(goneId);
    await host.serviceReady(laterId);
    const again = once<[ReregisteredService[]]>(host, "servicesRegisteredAgain");
    await startSd(url);
    const [list] = await again;
    expect(list.map((s) => s.name)).toEqual(["Later", "Kept"]);
    const fresh = session();
    await fresh.connect(url);
    // The directory process registers its Calc as it starts: the host may come back before it.
    expect((await fresh.services()).map((s) => s.name).sort()).toEqual(
      ["ServiceDirectory", "Calc", "Later", "Kept"].sort(),
    );
    expect(await (await fresh.service("Later")).call("echo", "1")).toBe("l:1");
  });

  it("with reconnect: false, losing the directory ends there (no retry)", async () => {
    const sd = await startSd();
    const host = session({ reconnect: false });
    await host.connect(sd.ready.url);
    await host.registerService("Echo", echo("a"));
    let retried = false;
    host.on("reconnecting", () => {
      retried = true;
    });
    const lost = once<[string]>(host, "disconnected");
    sd.proc.kill("SIGKILL");
    await lost;
    expect(retried).toBe(false);
  });

  it("close() during the retries stops them", async () => {
    const sd = await startSd();
    const host = new Session({ timeoutMs: 5_000, reconnect: { initialMs: 20, maxMs: 20 } });
    await host.connect(sd.ready.url);
    await host.registerService("Echo", echo("a"));
    let attempts = 0;
    const twice = new Promise<void>((resolve) =>
      host.on("reconnecting", () => {
        if (++attempts === 2) resolve();
      }),
    );
    sd.proc.kill("SIGKILL");
    await twice;
    await host.close();
    const seen = attempts;
    await new Promise((r) => setTimeout(r, 100));
    expect(attempts).toBe(seen);
  });
});
