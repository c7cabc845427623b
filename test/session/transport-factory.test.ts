/**
 * Session takes its transport from outside (SessionOptions.transport): a directory, a host and
 * a client talk over memoryChannelPair, with no socket at all — the tcp driver of the scheme
 * registry is replaced by one that fails, to prove nothing reaches it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import {
  type Channel,
  type Listener,
  memoryChannelPair,
  type OnChannel,
  parseUrl,
  registerScheme,
  type SchemeDriver,
  schemeDriver,
  type TransportFactory,
  TransportError,
} from "../../src/transport/index.js";

/** Listeners by `host:port`; port 0 gets the next free number, like an ephemeral port. */
function memoryTransport(): TransportFactory & { opened: number } {
  const listeners = new Map<string, OnChannel>();
  let nextPort = 40_000;
  const key = (url: string) => {
    const u = parseUrl(url);
    return `${u.host}:${u.port}`;
  };
  const transport = {
    opened: 0,
    canConnect: (url: string) => url.startsWith("tcp://"),
    canListen: (url: string) => url.startsWith("tcp://"),
    async connect(url: string): Promise<Channel> {
      const accept = listeners.get(key(url));
      if (!accept) throw new TransportError("ERR_CONNECT", `nobody listens on ${url}`);
      const [mine, theirs] = memoryChannelPair({ names: [`mem://client-${transport.opened}`, url] });
      transport.opened++;
      accept(theirs);
      return mine;
    },
    async listen(url: string, _opts: unknown, onChannel: OnChannel): Promise<Listener> {
      const u = parseUrl(url);
      const port = u.port === 0 ? nextPort++ : u.port;
      const bound = `tcp://${u.host}:${port}`;
      listeners.set(`${u.host}:${port}`, onChannel);
      return {
        url: bound,
        port,
        endpoints: () => [bound],
        close: async () => {
          listeners.delete(`${u.host}:${port}`);
        },
      };
    },
  };
  return transport;
}

let realTcp: SchemeDriver | undefined;
const failing: SchemeDriver = {
  connect: () => Promise.reject(new Error("a socket was opened")),
  listen: () => Promise.reject(new Error("a socket was opened")),
};
beforeAll(() => {
  realTcp = schemeDriver("tcp");
  registerScheme("tcp", failing);
});
afterAll(() => {
  if (realTcp) registerScheme("tcp", realTcp);
});

const opened: Session[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
function track(s: Session): Session {
  opened.push(s);
  return s;
}

describe("a Session over a TransportFactory", () => {
  it("directory, host and client over memory channels: register, call, signal, property", async () => {
    const transport = memoryTransport();
    const sd = track(new Session({ transport }));
    expect(await sd.listenStandalone("tcp://127.0.0.1:9559")).toEqual(["tcp://127.0.0.1:9559"]);

    const host = track(new Session({ transport }));
    await host.connect("tcp://127.0.0.1:9559");
    const calc = new QiObject()
      .method("add", "(ii)", "i", (a: number, b: number) => a + b)
      .signal("tick", "(i)")
      .property("level", "i", 3);
    await host.registerService("Calc", calc);
    expect(host.endpoints()).toEqual(["tcp://127.0.0.1:40000"]);

    const client = track(new Session({ transport }));
    await client.connect("tcp://127.0.0.1:9559");
    expect((await client.services()).map((s) => s.name)).toEqual(["ServiceDirectory", "Calc"]);
    const proxy = await client.service("Calc");
    expect(await proxy.call("add", 40, 2)).toBe(42);
    const ticks: number[] = [];
    await proxy.signal("tick").connect((n: number) => ticks.push(n));
    calc.emit("tick", 7);
    await expect.poll(() => ticks).toEqual([7]);
    await proxy.property<number>("level").set(9);
    expect(calc.getProperty("level")).toBe(9);
    // sd's own client, host → sd, client → sd, client → host.
    expect(transport.opened).toBe(4);
  });

  it("waitForService resolves when a host registers later, and times out with ERR_TIMEOUT", async () => {
    const transport = memoryTransport();
    const sd = track(new Session({ transport }));
    await sd.listenStandalone("tcp://127.0.0.1:9559");
    const client = track(new Session({ transport }));
    await client.connect("tcp://127.0.0.1:9559");
    await expect(client.waitForService("Late", 50)).rejects.toMatchObject({ code: "QI_ERR_TIMEOUT" });
    const waiting = client.waitForService("Late", 5_000);
    const host = track(new Session({ transport }));
    await host.connect("tcp://127.0.0.1:9559");
    await host.registerService(
      "Late",
      new QiObject().method("ping", "()", "s", () => "pong"),
    );
    await waiting;
    expect(await (await client.service("Late")).call("ping")).toBe("pong");
  });

  it("a transport that cannot listen still hosts nothing by surprise: registerService publishes no endpoint", async () => {
    const transport = memoryTransport();
    const sd = track(new Session({ transport }));
    await sd.listenStandalone("tcp://127.0.0.1:9559");
    const page = track(
      new Session({ transport: { ...transport, listen: undefined, canListen: () => false } }),
    );
    await page.connect("tcp://127.0.0.1:9559");
    await page.registerService(
      "Screen",
      new QiObject().method("show", "(s)", "v", () => {}),
    );
    expect(page.endpoints()).toEqual([]);
    expect((await page.serviceInfo("Screen")).endpoints).toEqual([]);
  });

  it("refuses bad options in one place", () => {
    expect(() => new Session({ timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => new Session({ maxPayload: 0 })).toThrow(/maxPayload/);
  });
});
