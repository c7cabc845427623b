/**
 * Node-layer benchmarks (Connection + objects + Session), all on TCP loopback in this process:
 *  (a) add(i,i) between two Sessions: sequential round trip p50/p99 and pipelined calls/s,
 *      against a raw Node TCP echo of the same message sizes (36-byte request = 28 + 8, 32-byte
 *      reply = 28 + 4) measured in the same run, the same way;
 *  (b) signal emission rate to 1 Session subscriber (end to end), and to 1 and 100 subscriber
 *      connections that only frame and count the Events (the emitter's cost);
 *  (c) a 1 MiB raw (`r`) argument echoed back, MB/s of payload both ways, against a raw TCP echo
 *      of the same frames in alternating rounds: with the memory released (borrowRaw on the
 *      method, Raw.release() on the result), and by default (every Raw may be kept).
 * Targets (issue): sequential p50 ≤ 1.5× raw echo RTT; pipelined ≥ 50% of raw echo messages/s.
 */
import { connect as netConnect, createServer, type Server, type Socket } from "node:net";
import { encodeCapabilityMap } from "../src/connection/connection.js";
import { defaultCapabilities } from "../src/connection/capabilities.js";
import { QiObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { encode } from "../src/wire/codec.js";
import { Framer } from "../src/wire/framer.js";
import { encodeMessage } from "../src/wire/header.js";
import { HEADER_SIZE, type Message, MessageType } from "../src/wire/message-types.js";
import { Raw } from "../src/wire/values.js";
import { interleaved, median } from "./interleaved.js";
import type { BenchRow } from "./table.js";

const GROUP = "node";
const MiB = 1 << 20;
const REQ = 36;
const REP = 32;

const now = () => performance.now();

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

// ------------------------------------------------------------------------------------------------
// The raw echo baseline: a server that answers every `req`-byte frame with a `rep`-byte frame.

interface Echo {
  url: string;
  server: Server;
  close(): Promise<void>;
}

async function rawEcho(req: number, rep: number): Promise<Echo> {
  const reply = Buffer.alloc(rep, 7);
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    let pending = 0;
    s.on("data", (chunk: Buffer) => {
      pending += chunk.length;
      const n = Math.floor(pending / req);
      if (n === 0) return;
      pending -= n * req;
      if (n === 1) s.write(reply);
      else {
        s.cork();
        for (let i = 0; i < n; i++) s.write(reply);
        s.uncork();
      }
    });
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `tcp://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A client of the raw echo: send(k) writes k requests (one write each); resolves when k replies came. */
class EchoClient {
  private received = 0;
  private waiting: { target: number; resolve: () => void } | undefined;
  private constructor(
    readonly socket: Socket,
    private readonly request: Buffer,
    rep: number,
  ) {
    let bytes = 0;
    socket.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      const n = Math.floor(bytes / rep);
      bytes -= n * rep;
      this.received += n;
      if (this.waiting && this.received >= this.waiting.target) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve();
      }
    });
  }

  static open(url: string, req: number, rep: number): Promise<EchoClient> {
    const port = Number(url.split(":").at(-1));
    return new Promise((resolve, reject) => {
      const s = netConnect({ host: "127.0.0.1", port }, () => {
        s.setNoDelay(true);
        resolve(new EchoClient(s, Buffer.alloc(req, 1), rep));
      });
      s.once("error", reject);
    });
  }

  roundTrips(k: number): Promise<void> {
    const target = this.received + k;
    const done = new Promise<void>((resolve) => {
      this.waiting = { target, resolve };
    });
    for (let i = 0; i < k; i++) this.socket.write(this.request);
    return done;
  }
}

// ------------------------------------------------------------------------------------------------
// Measurement loops shared by both sides, so that the comparison is like for like.

async function sequential(
  once: () => Promise<unknown>,
  warmup: number,
  n: number,
): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmup; i++) await once();
  const rtts = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = now();
    await once();
    rtts[i] = now() - t;
  }
  return { p50: percentile(rtts, 50) * 1000, p99: percentile(rtts, 99) * 1000 };
}

/** `batch(k)` issues k operations at once and resolves when all are answered; returns ops/s. */
async function pipelined(
  batch: (k: number) => Promise<unknown>,
  window: number,
  ms: number,
): Promise<number> {
  await batch(window);
  let ops = 0;
  const t = now();
  while (now() - t < ms) {
    await batch(window);
    ops += window;
  }
  return (ops * 1000) / (now() - t);
}

// ------------------------------------------------------------------------------------------------

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const host = new Session({ machineId: "bench" });
  const client = new Session({ machineId: "bench" });
  const echo = await rawEcho(REQ, REP);
  const bigEcho = await rawEcho(MiB + HEADER_SIZE + 4, MiB + HEADER_SIZE + 4);
  const extra: Session[] = [];
  const subscribers: Socket[] = [];
  try {
    const calc = new QiObject()
      .method("add", "(ii)", "i", (a: number, b: number) => a + b)
      .method("echoRaw", "(r)", "r", (r: Raw) => r)
      .signal("tick", "(i)")
      // After tick: countingSubscriber() subscribes to tick by its uid, 102.
      .method("echoRawBorrowed", "(r)", "r", (r: Raw) => r, { borrowRaw: true });
    const [url] = await host.listenStandalone("tcp://127.0.0.1:0");
    await host.registerService("Calc", calc);
    await client.connect(url);
    const remote = await client.service("Calc");
    const add = () => remote.call("add", 1, 2);

    // (a) sequential round trip
    const echoClient = await EchoClient.open(echo.url, REQ, REP);
    const rawSeq = await sequential(() => echoClient.roundTrips(1), 2_000, 10_000);
    const qiSeq = await sequential(add, 2_000, 10_000);
    rows.push({
      group: GROUP,
      case: "add(i,i) sequential RTT p50 (baseline: raw TCP echo 36/32 B)",
      value: qiSeq.p50,
      unit: "µs",
      baseline: rawSeq.p50,
    });
    rows.push({
      group: GROUP,
      case: "add(i,i) sequential RTT p99 (baseline: raw TCP echo)",
      value: qiSeq.p99,
      unit: "µs",
      baseline: rawSeq.p99,
    });

    // (a) pipelined, 500 in flight
    const WINDOW = 500;
    const rawPipe = await pipelined((k) => echoClient.roundTrips(k), WINDOW, 1_500);
    const qiPipe = await pipelined((k) => Promise.all(Array.from({ length: k }, add)), WINDOW, 1_500);
    rows.push({
      group: GROUP,
      case: `add(i,i) pipelined, ${WINDOW} in flight (baseline: raw TCP echo)`,
      value: qiPipe,
      unit: "calls/s",
      baseline: rawPipe,
    });
    echoClient.socket.destroy();

    // (b) signals
    const N1 = 20_000;
    let got = 0;
    let resolveAll: (() => void) | undefined;
    const link = await remote.signal("tick").connect(() => {
      if (++got === N1) resolveAll?.();
    });
    const allDelivered = new Promise<void>((r) => {
      resolveAll = r;
    });
    let t = now();
    for (let i = 0; i < N1; i++) calc.emit("tick", i);
    await allDelivered;
    rows.push({
      group: GROUP,
      case: "signal tick(i) → 1 Session subscriber (end to end)",
      value: (N1 * 1000) / (now() - t),
      unit: "events/s",
    });
    await remote.signal("tick").disconnect(link);

    for (const count of [1, 100]) {
      const emissions = count === 1 ? 20_000 : 1_000;
      const counters = await Promise.all(Array.from({ length: count }, () => countingSubscriber(url)));
      for (const c of counters) subscribers.push(c.socket);
      const done = Promise.all(counters.map((c) => c.until(emissions)));
      t = now();
      for (let i = 0; i < emissions; i++) calc.emit("tick", i);
      await done;
      const ms = now() - t;
      rows.push({
        group: GROUP,
        case: `signal tick(i) → ${count} framing-only subscriber connection(s): emissions`,
        value: (emissions * 1000) / ms,
        unit: "emits/s",
      });
      if (count > 1)
        rows.push({
          group: GROUP,
          case: `signal tick(i) → ${count} subscriber connections: Events written`,
          value: (emissions * count * 1000) / ms,
          unit: "events/s",
        });
      for (const c of counters) c.socket.destroy();
    }

    // (c) 1 MiB raw round trip, in rounds that alternate with the raw TCP echo (interleaved.ts).
    // Two ways to serve it: by default the application may keep every Raw it gets, so each
    // payload lands in fresh memory (page faults, and full GCs to free it); with borrowRaw on
    // the method and release() on the result, the memory goes round (wire/payload-pool.ts).
    const big = new Raw(new Uint8Array(MiB).fill(3));
    const bigClient = await EchoClient.open(bigEcho.url, MiB + HEADER_SIZE + 4, MiB + HEADER_SIZE + 4);
    const rawTrip = () => bigClient.roundTrips(1);
    const borrowedTrip = async () => ((await remote.call("echoRawBorrowed", big)) as Raw).release();
    const keptTrip = () => remote.call("echoRaw", big);
    const opts = { rounds: 9, perRound: 12, warmup: 10 };
    const borrowed = await interleaved(borrowedTrip, rawTrip, 2 * MiB, opts);
    const kept = await interleaved(keptTrip, rawTrip, 2 * MiB, opts);
    bigClient.socket.destroy();
    const how = `median of ${opts.rounds} rounds of ${opts.perRound}, interleaved with the raw TCP echo`;
    for (const [label, m] of [
      ["borrowRaw + release()", borrowed],
      ["Raws kept (default)", kept],
    ] as const) {
      rows.push({
        group: GROUP,
        case: `echoRaw(r) 1 MiB sequential, both directions, ${label} (baseline: raw TCP echo; ${how})`,
        value: median(m.a.rates),
        unit: "MB/s",
        baseline: median(m.b.rates),
        ratio: m.medianRatio,
      });
      // Both ends run in this process: its CPU time (user + system) per round trip is the cost
      // of the two hops, and unlike MB/s it hardly moves when other processes load the machine.
      rows.push({
        group: GROUP,
        case: `echoRaw(r) 1 MiB, ${label}: process CPU per round trip (baseline: raw TCP echo)`,
        value: m.a.cpuMicros,
        unit: "µs",
        baseline: m.b.cpuMicros,
      });
      // Fresh pages a received payload lands on cost more than copying it (both ends here).
      rows.push({
        group: GROUP,
        case: `echoRaw(r) 1 MiB, ${label}: minor page faults per round trip (baseline: raw TCP echo)`,
        value: m.a.faults,
        unit: "faults",
        baseline: m.b.faults,
      });
    }
  } finally {
    for (const s of subscribers) s.destroy();
    await Promise.all(extra.map((s) => s.close()));
    await client.close();
    await host.close();
    await echo.close();
    await bigEcho.close();
  }
  return rows;
}

/** A connection to the SD that authenticates, subscribes to tick on Calc (service 2) and counts Events. */
async function countingSubscriber(url: string): Promise<{ socket: Socket; until(n: number): Promise<void> }> {
  const port = Number(url.split(":").at(-1));
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = netConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
  socket.setNoDelay(true);
  let events = 0;
  let waiter: { n: number; resolve: () => void } | undefined;
  const answers = new Map<number, (m: Message) => void>();
  const framer = new Framer((m) => {
    if (m.type === MessageType.Event) {
      events++;
      if (waiter && events >= waiter.n) {
        waiter.resolve();
        waiter = undefined;
      }
    } else answers.get(m.id)?.(m);
  });
  socket.on("data", (c: Buffer) => framer.push(c));
  const call = (id: number, service: number, action: number, payload: Uint8Array) =>
    new Promise<Message>((resolve) => {
      answers.set(id, resolve);
      socket.write(
        encodeMessage({
          id,
          type: MessageType.Call,
          flags: 0,
          service,
          object: service === 0 ? 0 : 1,
          action,
          payload,
        }),
      );
    });
  await call(1, 0, 8, encodeCapabilityMap(defaultCapabilities()));
  await call(2, 2, 0, encode("(IIL)", [2, 102, (102n << 32n) | 1n]));
  return {
    socket,
    until(n: number) {
      const target = events + n;
      return new Promise<void>((resolve) => {
        if (events >= target) resolve();
        else waiter = { n: target, resolve };
      });
    },
  };
}
