/**
 * The XMPP entry beside tcp, through one gateway, on this machine: `add` round trips (p50,
 * p99, calls/s, one at a time) and a 1 MiB `r` echo (MB/s, payload bytes one way), over
 * `xmpp://` via a real Prosody and over `tcp://` to the same gateway. Block sizes of the
 * in-band bytestream are compared on the echo, and the two stanza formats the issue names
 * (IBB iq data, acknowledged, vs message stanzas with base64, not acknowledged) on raw
 * throughput between two accounts. Skipped (one row) without Prosody.
 */
import { randomBytes } from "node:crypto";
import { xml } from "@xmpp/client";
import { UserTokenAuthenticator } from "../src/connection/index.js";
import { GatewayAuthProvider, hashToken, startGateway } from "../src/gateway/index.js";
import { QiObject, type RemoteObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { xmppTransport } from "../src/transport/index.js";
import { dataIq } from "../src/transport/xmpp/ibb.js";
import { createXmppClient, forceClose, login } from "../src/transport/xmpp/login.js";
import { Raw } from "../src/wire/values.js";
import { prosodyFound, startProsody } from "../test/transport/xmpp/prosody.js";
import type { BenchRow } from "./table.js";

const GROUP = "xmpp";
const ACCOUNTS = { robot: "robot-pw", alice: "alice-pw", bob: "bob-pw" };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function adds(svc: RemoteObject, n: number): Promise<{ p50: number; p99: number; perSecond: number }> {
  for (let i = 0; i < 10; i++) await svc.call("add", i, i);
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await svc.call("add", i, i);
    lat.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), perSecond: (n * 1000) / total };
}

async function echo(svc: RemoteObject, n: number): Promise<number> {
  const payload = new Raw(randomBytes(1024 * 1024));
  await svc.call("echo", payload);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await svc.call("echo", payload);
  return (n * 1024 * 1024) / 1e6 / ((performance.now() - t0) / 1000);
}

/** Raw throughput alice → bob of 4 MiB in 8 KiB blocks: acknowledged iqs (window 16) or messages. */
async function stanzaFormats(service: string, ca: string): Promise<{ iq: number; message: number }> {
  const tls = { ca };
  const mk = async (user: "alice" | "bob") => {
    const account = { local: user, domain: "localhost", resource: "bench" };
    const o = { password: ACCOUNTS[user], service, tls };
    const e = createXmppClient(account, service, o, () => {});
    await login(e, account, o);
    return e;
  };
  const [alice, bob] = await Promise.all([mk("alice"), mk("bob")]);
  let got = 0;
  bob.iqCallee.set("http://jabber.org/protocol/ibb", "data", () => true);
  bob.on("stanza", (s: { is(n: string): boolean; getChild(n: string): unknown }) => {
    if (s.is("message") && s.getChild("qi")) got++;
  });
  const block = randomBytes(8 * 1024);
  const blocks = 512;
  const to = "bob@localhost/bench";
  let t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < blocks) {
        const seq = next++;
        await alice.iqCaller.request(dataIq(to, "bench", seq & 0xffff, block), 30_000);
      }
    }),
  );
  const iq = (blocks * block.length) / 1e6 / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const b64 = block.toString("base64");
  for (let i = 0; i < blocks; i++)
    await alice.send(xml("message", { to, type: "normal" }, xml("qi", { xmlns: "urn:x-qi:0" }, b64)));
  while (got < blocks) await new Promise((r) => setTimeout(r, 2));
  const message = (blocks * block.length) / 1e6 / ((performance.now() - t0) / 1000);
  forceClose(alice);
  forceClose(bob);
  return { iq, message };
}

export async function run(): Promise<BenchRow[]> {
  if (!prosodyFound)
    return [{ group: GROUP, case: "skipped: prosody is not installed", value: "-", unit: "" }];
  const prosody = await startProsody(ACCOUNTS);
  const closers: Array<() => Promise<unknown>> = [async () => prosody.dispose()];
  try {
    const sd = new Session();
    closers.unshift(() => sd.close());
    const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
    const host = new Session();
    closers.unshift(() => host.close());
    await host.connect(sdUrl);
    await host.registerService(
      "Calc",
      new QiObject()
        .method("add", "(ii)", "i", (a: number, b: number) => a + b)
        .method("echo", "(r)", "r", (r: Raw) => r),
    );
    const tls = { ca: prosody.caCert };
    const gw = await startGateway({
      attach: sdUrl,
      listen: ["tcp://127.0.0.1:0", "xmpp://robot@localhost"],
      authProvider: new GatewayAuthProvider({ nao: { token: hashToken("secret") } }),
      xmpp: {
        password: ACCOUNTS.robot,
        service: prosody.service,
        tls,
        allow: ["alice@localhost"],
        blockSize: 65_535,
      },
    });
    closers.unshift(() => gw.close());
    await gw.waitAttached();
    const tcpUrl = gw.endpoints().find((e) => e.startsWith("tcp://")) as string;
    const client = async (url: string, blockSize?: number) => {
      const s = new Session({
        authenticator: new UserTokenAuthenticator("nao", "secret"),
        transport: xmppTransport({
          jid: "alice@localhost",
          password: ACCOUNTS.alice,
          service: prosody.service,
          tls,
          blockSize,
        }),
      });
      closers.unshift(() => s.close());
      await s.connect(url);
      return s.service("Calc");
    };
    const overTcp = await client(tcpUrl);
    const overXmpp = await client("xmpp://robot@localhost");
    const t = await adds(overTcp, 2000);
    const x = await adds(overXmpp, 300);
    const echoTcp = await echo(overTcp, 20);
    const echoXmpp = await echo(overXmpp, 5);
    const rows: BenchRow[] = [
      {
        group: GROUP,
        case: "add() sequential p50, xmpp (Prosody) vs tcp, same gateway",
        value: x.p50,
        unit: "ms",
        baseline: t.p50,
      },
      { group: GROUP, case: "add() sequential p99, xmpp vs tcp", value: x.p99, unit: "ms", baseline: t.p99 },
      {
        group: GROUP,
        case: "add() round trips/s, xmpp vs tcp",
        value: x.perSecond,
        unit: "calls/s",
        baseline: t.perSecond,
      },
      {
        group: GROUP,
        case: "1 MiB echo, xmpp (8 KiB blocks, window 16) vs tcp",
        value: echoXmpp,
        unit: "MB/s",
        baseline: echoTcp,
      },
    ];
    for (const blockSize of [32_768, 49_152]) {
      const svc = await client("xmpp://robot@localhost", blockSize);
      rows.push({
        group: GROUP,
        case: `1 MiB echo, xmpp with ${blockSize / 1024} KiB blocks vs 8 KiB`,
        value: await echo(svc, 5),
        unit: "MB/s",
        baseline: echoXmpp,
      });
    }
    const formats = await stanzaFormats(prosody.service, prosody.caCert);
    rows.push({
      group: GROUP,
      case: "raw 4 MiB alice→bob, IBB iq (acked, window 16) vs message stanzas (no acks)",
      value: formats.iq,
      unit: "MB/s",
      baseline: formats.message,
    });
    return rows;
  } finally {
    for (const c of closers) await c().catch(() => {});
  }
}
