/**
 * What the gateway publishes and how answers are read, without multicast: the plan of which
 * listeners go on the LAN, the announcement sent by the real advertiser (the library's own
 * responder) over a real UDP socket on 127.0.0.1 to a browser on a free port, and hostile
 * answers (oversized TXT, bad ports, control characters, thousands of instances) fed to the
 * browser both over a socket and packet by packet.
 */
import { createSocket } from "node:dgram";
import type { NetworkInterfaceInfo } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import {
  advertise,
  cleanText,
  DISCOVERY_LIMITS,
  instanceName,
  parseTxt,
  planAdvertisement,
  RobotBrowser,
  SERVICE_TYPE,
} from "../../src/discovery/index.js";
import { openMdns } from "../../src/discovery/mdns.js";

const LAN = "192.0.2.10"; // TEST-NET-1: nothing is ever sent there, it only fills records
const interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [{ address: "127.0.0.1", family: "IPv4", internal: true, netmask: "255.0.0.0", mac: "", cidr: null }],
  eth0: [
    {
      address: LAN,
      family: "IPv4",
      internal: false,
      netmask: "255.255.255.0",
      mac: "02:00:00:00:00:01",
      cidr: null,
    },
    {
      address: "fe80::1",
      family: "IPv6",
      internal: false,
      netmask: "ffff::",
      mac: "02:00:00:00:00:01",
      cidr: null,
      scopeid: 2,
    },
  ],
};

/** A free UDP port on 127.0.0.1 (bound to 0, read, released). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves once `check()` is true, polling; rejects after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A browser on 127.0.0.1:port that takes unicast answers (no multicast group joined). */
async function unicastBrowser(maxRobots?: number): Promise<{ browser: RobotBrowser; port: number }> {
  const port = await freeUdpPort();
  const browser = new RobotBrowser({
    mdns: { port, bind: "127.0.0.1", ip: "127.0.0.1", multicast: false },
    maxRobots,
  });
  browser.start();
  cleanups.push(() => browser.stop());
  return { browser, port };
}

describe("which listeners are advertised", () => {
  it("a wildcard stands for the LAN interfaces; loopback and foreign addresses are left out, saying why", () => {
    const plan = planAdvertisement(
      ["tcp://0.0.0.0:9503", "ws://0.0.0.0:8002", "tcps://127.0.0.1:9443", "tcp://203.0.113.9:1", "xmpp://x"],
      interfaces,
    );
    expect(plan.services).toEqual([
      { scheme: "tcp", port: 9503, addresses: [LAN], ws: { scheme: "ws", port: 8002 } },
    ]);
    expect(plan.skipped).toEqual([
      { endpoint: "tcps://127.0.0.1:9443", reason: "loopback only" },
      { endpoint: "tcp://203.0.113.9:1", reason: "not an address of a LAN interface" },
    ]);
  });

  it("qi start's defaults (127.0.0.1) publish nothing", () => {
    const plan = planAdvertisement(["tcp://127.0.0.1:9503", "ws://127.0.0.1:8002"], interfaces);
    expect(plan.services).toEqual([]);
    expect(plan.skipped.map((s) => s.reason)).toEqual(["loopback only", "loopback only"]);
  });

  it("[::] adds IPv6 addresses, but not link-local ones (no zone in an AAAA record)", () => {
    expect(planAdvertisement(["tcps://[::]:9503"], interfaces).services[0]).toMatchObject({
      scheme: "tcps",
      addresses: [LAN],
    });
  });

  it("a loopback-only advertiser warns and opens no socket", () => {
    const lines: string[] = [];
    expect(
      advertise({ name: "x", endpoints: ["tcp://127.0.0.1:9503"], warn: (l) => lines.push(l), interfaces }),
    ).toBe(undefined);
    expect(lines).toEqual([
      "mDNS: not advertised on the LAN (tcp://127.0.0.1:9503: loopback only); listen on a LAN address such as tcp://0.0.0.0:9503 to be found by `qi discover`",
    ]);
  });
});

describe("text from the network", () => {
  it("control characters, escapes and bidi overrides are removed; names are bounded", () => {
    expect(cleanText("Pep\u001b[31mper\u0007\u009b2J\u202e!", 63)).toBe("Pep[31mper2J!");
    expect(cleanText("x".repeat(500), 63)).toHaveLength(63);
    expect(instanceName(`evil\u001b]0;title\u0007.${SERVICE_TYPE}`)).toBe("evil]0;title");
    expect(instanceName(`Mr\\. Robot.${SERVICE_TYPE}`)).toBe("Mr. Robot");
    expect(instanceName("x._http._tcp.local")).toBeUndefined();
    expect(instanceName(`\u0000\u0001.${SERVICE_TYPE}`)).toBeUndefined();
  });

  it("TXT: known keys only, oversized strings and bad values ignored", () => {
    const txt = parseTxt([
      Buffer.from("scheme=tcps"),
      Buffer.from(`RobotType=${"P".repeat(300)}`),
      Buffer.from("ws=ws:99999"),
      Buffer.from("=nokey"),
    ]);
    expect(txt).toEqual({ scheme: "tcps" });
    expect(parseTxt(Array.from({ length: 10_000 }, () => Buffer.from("ws=ws:8002")))).toEqual({
      ws: { scheme: "ws", port: 8002 },
    });
    expect(parseTxt("not a buffer")).toEqual({});
    expect(parseTxt([Buffer.from("RobotType=Pepper\u001b[2J")])).toEqual({ robotType: "Pepper[2J" });
  });
});

describe("the announcement, over a real socket", () => {
  it("the advertiser's announcement reaches a browser and reads back as the gateway's URLs", async () => {
    const { browser, port } = await unicastBrowser();
    const warnings: string[] = [];
    const ad = advertise({
      name: "Desk. robot",
      endpoints: ["tcps://0.0.0.0:9503", "wss://0.0.0.0:8443", "tcp://0.0.0.0:9559"],
      warn: (l) => warnings.push(l),
      // send-only, to the browser's port on 127.0.0.1 instead of the multicast group
      mdns: { port, ip: "127.0.0.1", bind: false, multicast: false },
      interfaces,
      hostname: "lab-pc.example",
    });
    expect(ad).toBeDefined();
    cleanups.push(() => ad?.stop());
    expect(ad!.services.map((s) => s.name)).toEqual(["Desk- robot", "Desk- robot (tcp 9559)"]);
    await until(() => browser.robots().length === 2);
    expect(browser.robots()).toEqual([
      {
        name: "Desk- robot",
        address: LAN,
        addresses: [LAN],
        port: 9503,
        tls: true,
        url: `tcps://${LAN}:9503`,
        ws: `wss://${LAN}:8443/qi`,
      },
      {
        name: "Desk- robot (tcp 9559)",
        address: LAN,
        addresses: [LAN],
        port: 9559,
        tls: false,
        url: `tcp://${LAN}:9559`,
        ws: `wss://${LAN}:8443/qi`,
      },
    ]);
    expect(warnings).toEqual([]);
    // The goodbye (TTL 0) withdraws them.
    await ad!.stop();
    await until(() => browser.robots().length === 0);
  });

  it("hostile answers over the socket: garbage datagrams, thousands of instances, bad ports; the browser stays bounded", async () => {
    const { browser, port } = await unicastBrowser();
    const raw = createSocket("udp4");
    cleanups.push(() => new Promise<void>((r) => raw.close(() => r())));
    for (const junk of [Buffer.alloc(0), Buffer.from("not dns at all"), Buffer.alloc(9000, 0xff)])
      await new Promise<void>((r) => raw.send(junk, port, "127.0.0.1", () => r()));
    const hostile = openMdns({ port, ip: "127.0.0.1", bind: false, multicast: false }, () => {});
    cleanups.push(() => hostile.close());
    const send = (answers: object[]) =>
      new Promise<void>((r) => hostile.mdns.respond({ answers: answers as never }, () => r()));
    // 3000 instances, 100 per packet, each with a valid SRV: only maxRobots are kept.
    for (let p = 0; p < 30; p++) {
      const answers: object[] = [];
      for (let i = 0; i < 100; i++) {
        const fqdn = `flood-${p}-${i}.${SERVICE_TYPE}`;
        answers.push(
          { name: SERVICE_TYPE, type: "PTR", ttl: 120, data: fqdn },
          { name: fqdn, type: "SRV", ttl: 120, data: { port: 9559, target: "flood.local" } },
        );
      }
      await send(answers);
    }
    // UDP may lose some of the flood under load: the bound, not the count, is what is checked.
    await until(
      () => browser.robots().length === DISCOVERY_LIMITS.maxRobots && browser.dropped > 1000,
      5000,
    ).catch((e) => {
      throw new Error(`${e}: ${browser.robots().length} kept, ${browser.dropped} dropped`);
    });
    expect(browser.robots()).toHaveLength(DISCOVERY_LIMITS.maxRobots);
    expect(browser.robots().every((r) => r.address === "127.0.0.1")).toBe(true); // the sender: no A record
  });
});

describe("hostile answers, packet by packet", () => {
  const from = { address: "192.0.2.77" };

  it("bad ports, bad targets, loopback or multicast addresses, goodbyes and junk records", () => {
    const b = new RobotBrowser();
    const srv = (name: string, data: unknown) => ({
      name: `${name}.${SERVICE_TYPE}`,
      type: "SRV",
      ttl: 120,
      data,
    });
    b.absorb(
      {
        answers: [
          srv("zero", { port: 0, target: "h.local" }),
          srv("big", { port: 70_000, target: "h.local" }),
          srv("text", { port: "9559", target: "h.local" }),
          srv("notarget", { port: 9559 }),
          srv("ok", { port: 9559, target: "h.local" }),
          srv("\u001b[2Jclear", { port: 1, target: "h2.local" }),
          null as never,
          { name: 42, type: "SRV" } as never,
          { name: "h.local", type: "A", ttl: 120, data: "127.0.0.1" },
          { name: "h.local", type: "A", ttl: 120, data: "224.0.0.251" },
          { name: "h.local", type: "A", ttl: 120, data: "not an address" },
          { name: "h.local", type: "A", ttl: 120, data: "192.0.2.5" },
          { name: "h.local", type: "AAAA", ttl: 120, data: "ff02::fb" },
          { name: "unrelated.local", type: "A", ttl: 120, data: "192.0.2.6" },
        ],
      },
      from,
    );
    expect(b.robots().map((r) => [r.name, r.url])).toEqual([
      ["[2Jclear", "tcp://192.0.2.77:1"],
      ["ok", "tcp://192.0.2.5:9559"],
    ]);
    b.absorb({ answers: [{ name: SERVICE_TYPE, type: "PTR", ttl: 0, data: `ok.${SERVICE_TYPE}` }] }, from);
    expect(b.robots().map((r) => r.name)).toEqual(["[2Jclear"]);
    // A packet that is not an object's shape at all.
    expect(() => b.absorb({ answers: "x" as never, additionals: [undefined as never] }, from)).not.toThrow();
    expect(() => b.absorb({}, { address: "not an ip" })).not.toThrow();
  });

  it("a host keeps at most maxAddresses addresses, and expired answers go away", () => {
    const b = new RobotBrowser();
    const now = Date.now();
    b.absorb(
      {
        answers: [
          { name: `r.${SERVICE_TYPE}`, type: "SRV", ttl: 5, data: { port: 9559, target: "r.local" } },
          ...Array.from({ length: 100 }, (_, i) => ({
            name: "r.local",
            type: "A",
            ttl: 5,
            data: `10.0.0.${i + 1}`,
          })),
        ],
      },
      from,
      now,
    );
    expect(b.robots(now)[0].addresses).toHaveLength(DISCOVERY_LIMITS.maxAddresses);
    expect(b.robots(now + 6000)).toEqual([]);
  });
});
