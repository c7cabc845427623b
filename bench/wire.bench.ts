/**
 * Wire-layer benchmarks:
 *  (a) Framer on 1 MiB payloads through a real TCP loopback socket, against a plain socket that
 *      only counts bytes (same bytes, same run; the sender runs in a worker thread so it does not
 *      share the receiver's event loop);
 *  (b) small-message framing rate, in memory, 64 KiB chunks;
 *  (c) encode/decode of the Service Directory MetaObject and of a 640×480×3 raw (`r`) frame.
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { Worker } from "node:worker_threads";
import { Framer } from "../src/wire/framer.js";
import { encodeMessage, headerBytes } from "../src/wire/header.js";
import { HEADER_SIZE, type Message, MessageType } from "../src/wire/message-types.js";
import type { BenchRow } from "./table.js";

const GROUP = "wire";
const MiB = 1 << 20;

function now(): number {
  return performance.now();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `fn` in batches until `minMs` elapsed; returns calls per second. */
function rate(fn: () => void, minMs: number): number {
  let calls = 0;
  let batch = 1;
  const start = now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    elapsed = now() - start;
    if (elapsed < minMs / 10) batch *= 2;
  }
  return (calls * 1000) / elapsed;
}

// ------------------------------------------------------------------------------------------------
// (a) TCP loopback

/**
 * The sender: a TCP server in a worker thread that, for each connection, writes `count` copies of
 * one message (28-byte header + payload) with backpressure, then ends the stream.
 */
const SENDER = `
const { parentPort } = require("node:worker_threads");
const net = require("node:net");
let msg = Buffer.alloc(0);
let count = 0;
const server = net.createServer((sock) => {
  let left = count;
  const pump = () => {
    while (left > 0) {
      left--;
      if (!sock.write(msg)) { sock.once("drain", pump); return; }
    }
    sock.end();
  };
  pump();
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
parentPort.on("message", (m) => {
  msg = Buffer.alloc(m.header.length + m.payloadSize, 0x5a);
  Buffer.from(m.header).copy(msg, 0);
  count = m.count;
  parentPort.postMessage("ready");
});
`;

type Mode = "count" | "push" | "pull";

/** Node-side payload allocator (no zero-fill); what a Node transport passes to Framer. */
const nodeAllocate = (n: number): Uint8Array => Buffer.allocUnsafeSlow(n);

/** One transfer: connect, receive everything, return MiB/s (clock: connect → 'end'). */
async function tcpRun(
  sender: Worker,
  port: number,
  mode: Mode,
  header: Uint8Array,
  payloadSize: number,
  count: number,
): Promise<number> {
  await new Promise((resolve) => {
    sender.once("message", resolve);
    sender.postMessage({ header, payloadSize, count });
  });
  const expected = count * (header.length + payloadSize);
  return new Promise<number>((resolve, reject) => {
    let bytes = 0;
    const framer = new Framer(
      (m) => {
        bytes += HEADER_SIZE + m.payload.length;
      },
      { maxPayload: 2 * MiB, allocate: nodeAllocate },
    );
    const t0 = now();
    const sock: Socket =
      mode === "pull"
        ? connect({
            port,
            host: "127.0.0.1",
            onread: {
              buffer: () => framer.readBuffer(),
              callback: (n: number) => {
                framer.commitRead(n);
                return true;
              },
            },
          })
        : connect(port, "127.0.0.1");
    if (mode === "count") {
      sock.on("data", (c: Buffer) => {
        bytes += c.length;
      });
    } else if (mode === "push") {
      sock.on("data", (c: Buffer) => framer.push(c));
    }
    sock.on("error", reject);
    sock.on("end", () => {
      const ms = now() - t0;
      if (bytes !== expected) reject(new Error(`${mode}: received ${bytes} bytes, expected ${expected}`));
      else if (framer.bufferedBytes !== 0) reject(new Error(`${mode}: incomplete message at end`));
      else resolve(bytes / MiB / (ms / 1000));
    });
    sock.resume();
  });
}

async function benchTcp(): Promise<BenchRow[]> {
  const sender = new Worker(SENDER, { eval: true });
  try {
    const port = await new Promise<number>((resolve) => sender.once("message", resolve));
    const payloadSize = MiB;
    const header = headerBytes({
      id: 1,
      type: MessageType.Event,
      flags: 0,
      service: 2,
      object: 1,
      action: 107,
      payload: new Uint8Array(payloadSize),
    });
    const count = 256; // MiB per transfer
    const modes: Mode[] = ["count", "push", "pull"];
    const results: Record<Mode, number[]> = { count: [], push: [], pull: [] };
    for (let round = 0; round < 7; round++) {
      for (const mode of modes) {
        const v = await tcpRun(sender, port, mode, header, payloadSize, round < 2 ? 32 : count);
        if (round >= 2) results[mode].push(v); // rounds 0-1: warm-up
      }
    }
    const base = median(results.count);
    const what = `1 MiB payloads, TCP loopback, ${count} MiB ×5 (median) vs count-only socket`;
    return [
      {
        group: GROUP,
        case: `framer pull (onread → readBuffer/commitRead), ${what}`,
        value: median(results.pull),
        unit: "MiB/s",
        baseline: base,
      },
      {
        group: GROUP,
        case: `framer push ('data' → push, one copy per payload), ${what}`,
        value: median(results.push),
        unit: "MiB/s",
        baseline: base,
      },
    ];
  } finally {
    await sender.terminate();
  }
}

// ------------------------------------------------------------------------------------------------
// (b) small messages in memory

function benchSmall(): BenchRow[] {
  const n = 1_000_000;
  const payloadSize = 16;
  const one: Message = {
    id: 0,
    type: MessageType.Call,
    flags: 0,
    service: 12,
    object: 1,
    action: 100,
    payload: new Uint8Array(payloadSize).fill(7),
  };
  const msgBytes = encodeMessage(one);
  const stream = new Uint8Array(n * msgBytes.length);
  for (let i = 0; i < n; i++) {
    msgBytes[4] = i;
    msgBytes[5] = i >>> 8;
    msgBytes[6] = i >>> 16;
    stream.set(msgBytes, i * msgBytes.length);
  }
  const CHUNK = 64 * 1024;
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < stream.length; o += CHUNK) chunks.push(stream.subarray(o, o + CHUNK));

  const rates: number[] = [];
  let sink = 0;
  let last: Message | undefined;
  for (let round = 0; round < 6; round++) {
    let count = 0;
    const framer = new Framer((m) => {
      count++;
      sink ^= m.id + m.payload[0];
      last = m;
    });
    const t0 = now();
    for (const c of chunks) framer.push(c);
    const ms = now() - t0;
    if (count !== n) throw new Error(`framed ${count} of ${n} messages`);
    if (round > 0) rates.push((n * 1000) / ms); // round 0 = warm-up
  }
  if (sink === -1 || last?.size !== payloadSize) console.log(sink);
  return [
    {
      group: GROUP,
      case: `framer, ${HEADER_SIZE}+${payloadSize}-byte messages, 64 KiB chunks, in memory (median) vs 500k/s target`,
      value: median(rates),
      unit: "msg/s",
      baseline: 500_000,
    },
  ];
}

// ------------------------------------------------------------------------------------------------
// (c) codec: MetaObject and raw frame

interface CodecModule {
  encode(sig: string, value: unknown): Uint8Array;
  /** What a sender uses: large raw blocks kept by reference (parts), not copied. */
  encodePayload(
    sig: string,
    value: unknown,
  ): Uint8Array | { parts: readonly Uint8Array[]; byteLength: number };
  decode(sig: string, bytes: Uint8Array): unknown;
}
interface MetaObjectModule {
  encodeMetaObject(mo: unknown): Uint8Array;
  decodeMetaObject(bytes: Uint8Array): unknown;
}
interface ValuesModule {
  Raw: new (bytes: Uint8Array) => { bytes: Uint8Array };
}

/** Dynamic import by a non-literal specifier: these modules are written in parallel and may be missing. */
async function tryImport<T>(rel: string): Promise<T | string> {
  const url = new URL(rel, import.meta.url).href;
  try {
    return (await import(url)) as T;
  } catch (e) {
    return e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}

function fixtureHex(name: string): Uint8Array {
  const tsv = readFileSync(new URL("../test/fixtures/libqi-4.0.5-wire.tsv", import.meta.url), "utf8");
  for (const line of tsv.split("\n")) {
    const cols = line.split("\t");
    if (cols[0] === name) {
      const h = cols[cols.length - 1].trim();
      const out = new Uint8Array(h.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
  }
  throw new Error(`fixture ${name} not found`);
}

async function benchCodec(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const skip = (what: string, why: string) =>
    rows.push({ group: GROUP, case: `${what}: skipped (${why})`, value: "n/a", unit: "" });

  const mom = await tryImport<MetaObjectModule>("../src/wire/metaobject.js");
  if (typeof mom === "string" || typeof mom.decodeMetaObject !== "function") {
    skip("SD MetaObject encode/decode", typeof mom === "string" ? mom : "no decodeMetaObject");
  } else {
    const bytes = fixtureHex("sd_metaobject_reply_payload");
    const mo = mom.decodeMetaObject(bytes);
    const reencoded = mom.encodeMetaObject(mo);
    const same = reencoded.length === bytes.length && reencoded.every((b, i) => b === bytes[i]);
    const note = same ? "" : " [re-encoding differs from capture!]";
    rows.push({
      group: GROUP,
      case: `decodeMetaObject, SD MetaObject (${bytes.length} B)${note}`,
      value: rate(() => mom.decodeMetaObject(bytes), 1000),
      unit: "ops/s",
    });
    rows.push({
      group: GROUP,
      case: `encodeMetaObject, SD MetaObject (${bytes.length} B)${note}`,
      value: rate(() => mom.encodeMetaObject(mo), 1000),
      unit: "ops/s",
    });
  }

  const codec = await tryImport<CodecModule>("../src/wire/codec.js");
  const values = await tryImport<ValuesModule>("../src/wire/values.js");
  if (typeof codec === "string" || typeof values === "string" || typeof codec.encode !== "function") {
    skip(
      "raw 640×480×3 frame encode/decode",
      typeof codec === "string" ? codec : typeof values === "string" ? values : "no encode()",
    );
  } else {
    const frame = new Uint8Array(640 * 480 * 3);
    for (let i = 0; i < frame.length; i++) frame[i] = i & 0xff;
    const raw = new values.Raw(frame);
    const encoded = codec.encode("r", raw);
    if (encoded.length !== frame.length + 4) throw new Error(`raw encoding is ${encoded.length} bytes`);
    const target = new Uint8Array(frame.length + 4);
    const copyRate = rate(() => target.set(frame, 4), 500);
    const mb = (frame.length + 4) / MiB;
    const gathered = codec.encodePayload("r", raw);
    if (gathered instanceof Uint8Array || !gathered.parts.includes(frame)) {
      throw new Error("encodePayload copied the frame");
    }
    rows.push({
      group: GROUP,
      case: `encodePayload("r") 640×480×3 frame, as sent (kept by reference) vs one memcpy of it`,
      value: rate(() => codec.encodePayload("r", raw), 1000) * mb,
      unit: "MiB/s",
      baseline: copyRate * mb,
    });
    rows.push({
      group: GROUP,
      case: `encode("r") 640×480×3 frame into one new array vs one memcpy of it`,
      value: rate(() => codec.encode("r", raw), 1000) * mb,
      unit: "MiB/s",
      baseline: copyRate * mb,
    });
    rows.push({
      group: GROUP,
      case: `decode("r") 640×480×3 frame vs one memcpy of it`,
      value: rate(() => codec.decode("r", encoded), 1000) * mb,
      unit: "MiB/s",
      baseline: copyRate * mb,
    });
  }
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  return [...(await benchTcp()), ...benchSmall(), ...(await benchCodec())];
}
