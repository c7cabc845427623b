/**
 * `qi record` and `qi play` as real processes against the simulated robot (`qi start`): a 3 s
 * recording checked with @mcap/core's own reader, replayed and received in order by a qi
 * client; Ctrl-C mid-recording still leaves a valid file; truncated and corrupt files are a
 * clear error. Under QI_DISPATCH=sync the subprocesses inherit the mode.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapIndexedReader, TempBuffer } from "@mcap/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeEvent, memberOf } from "../../src/record/index.js";
import { Session } from "../../src/session/index.js";
import type { Raw } from "../../src/wire/index.js";
import { QiProcess, runQi } from "../cli/run-qi.js";

const dir = mkdtempSync(join(tmpdir(), "qi-record-"));
const file = join(dir, "session.mcap");
let robot: QiProcess;
let url: string;
const sessions: Session[] = [];

beforeAll(async () => {
  robot = new QiProcess(["start", "--listen", "tcp://127.0.0.1:0", "--no-gateway"], { timeoutMs: 600_000 });
  // Start-up only (tsx compiling the CLI): on a busy machine it can take a while.
  [url] = await robot.waitFor(/tcp:\/\/127\.0\.0\.1:\d+/, "stdout", 80_000);
  await robot.waitFor(/Ctrl-C to stop/, "stdout", 20_000);
}, 100_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  robot?.kill("SIGINT");
  await robot?.exit();
});

async function openMcap(path: string): Promise<McapIndexedReader> {
  return McapIndexedReader.Initialize({ readable: new TempBuffer(readFileSync(path)) });
}

async function connect(at: string): Promise<Session> {
  const s = new Session();
  sessions.push(s);
  await s.connect(at);
  return s;
}

interface Recorded {
  topic: string;
  logTime: bigint;
  value: unknown;
}

async function recordedEvents(reader: McapIndexedReader): Promise<Recorded[]> {
  const out: Recorded[] = [];
  for await (const m of reader.readMessages()) {
    const channel = reader.channelsById.get(m.channelId)!;
    out.push({
      topic: channel.topic,
      logTime: m.logTime,
      value: decodeEvent(memberOf(channel.metadata)!, m.data, m.sequence),
    });
  }
  return out;
}

describe("qi record → qi play", () => {
  it("records the simulated robot for 3 s into an MCAP file that @mcap/core reads", async () => {
    const rec = new QiProcess([
      "record",
      "--url",
      url,
      "-o",
      file,
      "--duration",
      "3",
      "--calls",
      "ALBattery.charge",
      "ALVideoDevice.image",
      "ALTextToSpeech.*",
    ]);
    await rec.waitFor(/recording .* to /, "stderr");
    // A call while recording: its started/done signals and the call itself are recorded.
    const client = await connect(url);
    const tts = await client.service("ALTextToSpeech");
    await tts.call("say", "recorded words");
    const r = await rec.exit();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--duration reached: \d+ events, .* \(\d+\.\d events\/s, .*\/s\) in /);

    const reader = await openMcap(file);
    const topics = [...reader.channelsById.values()].map((c) => c.topic).sort();
    expect(topics).toEqual([
      "/ALBattery/(calls)",
      "/ALBattery/charge",
      "/ALTextToSpeech/(calls)",
      "/ALTextToSpeech/done",
      "/ALTextToSpeech/language",
      "/ALTextToSpeech/started",
      "/ALTextToSpeech/volume",
      "/ALVideoDevice/(calls)",
      "/ALVideoDevice/image",
    ]);
    const schemaOf = (topic: string) => {
      const c = [...reader.channelsById.values()].find((x) => x.topic === topic)!;
      return { channel: c, schema: reader.schemasById.get(c.schemaId)! };
    };
    const image = schemaOf("/ALVideoDevice/image");
    expect(image.schema).toMatchObject({ name: "foxglove_msgs/RawImage", encoding: "ros1msg" });
    expect(image.channel.messageEncoding).toBe("ros1");
    expect(new TextDecoder().decode(image.schema.data)).toContain("uint8[] data");
    expect(Object.fromEntries(image.channel.metadata)).toEqual({
      "qi.service": "ALVideoDevice",
      "qi.member": "image",
      "qi.kind": "signal",
      "qi.signature": "(iiIr)",
    });
    const charge = schemaOf("/ALBattery/charge");
    expect(charge.schema.encoding).toBe("jsonschema");
    expect(JSON.parse(new TextDecoder().decode(charge.schema.data))).toMatchObject({
      properties: { value: { type: ["number", "string"] } },
    });

    const events = await recordedEvents(reader);
    expect(BigInt(events.length)).toBe(reader.statistics!.messageCount);
    for (let i = 1; i < events.length; i++) expect(events[i].logTime >= events[i - 1].logTime).toBe(true);
    const frames = events.filter((e) => e.topic === "/ALVideoDevice/image");
    // 5 frames/s for 3 s (fewer on a loaded machine): in sequence order, each a full frame.
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const seqs = frames.map((f) => (f.value as unknown[])[2] as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    for (const f of frames) {
      const [w, h, , raw] = f.value as [number, number, number, Raw];
      expect([w, h, raw.bytes.byteLength]).toEqual([640, 480, 640 * 480 * 3]);
    }
    // The property's value at the start, then each change (the battery ticks every second).
    expect(events.filter((e) => e.topic === "/ALBattery/charge").length).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.topic === "/ALTextToSpeech/started")).toHaveLength(1);
    const calls = events.filter((e) => e.topic === "/ALTextToSpeech/(calls)").map((e) => e.value);
    expect(calls).toContainEqual(
      expect.objectContaining({ kind: "call", method: "say", value: ["recorded words"] }),
    );
    expect(calls).toContainEqual(expect.objectContaining({ kind: "result", method: "say" }));
  });

  it("replays the recording: a qi client receives the same values in order", async () => {
    const recorded = await recordedEvents(await openMcap(file));
    const play = new QiProcess(["play", file, "--listen", "tcp://127.0.0.1:0", "--wait-subscribers", "2"]);
    const [at] = await play.waitFor(/tcp:\/\/127\.0\.0\.1:\d+/);
    const [hosting] = await play.waitFor(/hosting .* from /);
    expect(
      hosting
        .split(/hosting |, | from /)
        .slice(1, -1)
        .sort(),
    ).toEqual(["ALBattery", "ALTextToSpeech", "ALVideoDevice"]);
    const client = await connect(at);
    const received: Array<{ topic: string; value: unknown }> = [];
    const battery = await client.service("ALBattery");
    const video = await client.service("ALVideoDevice");
    await battery
      .property("charge")
      .connect((v: unknown) => received.push({ topic: "/ALBattery/charge", value: v }));
    await video
      .signal("image")
      .connect((...args: unknown[]) => received.push({ topic: "/ALVideoDevice/image", value: args }));
    const r = await play.exit();
    expect(r.code, r.stderr).toBe(0);
    const wanted = recorded.filter(
      (e) => e.topic === "/ALBattery/charge" || e.topic === "/ALVideoDevice/image",
    );
    expect(r.stderr).toContain(
      `replayed ${recorded.filter((e) => !e.topic.endsWith("(calls)")).length} events`,
    );
    // The replayer sent everything before it closed; the last events may still be on their way.
    await waitUntil(() => received.length >= wanted.length);
    expect(received.map((e) => e.topic)).toEqual(wanted.map((e) => e.topic));
    received.forEach((e, i) => {
      const want = wanted[i].value;
      if (e.topic === "/ALBattery/charge") expect(e.value).toBe(want);
      else {
        const [w, h, seq, raw] = e.value as [number, number, number, Raw];
        const [ww, wh, wseq, wraw] = want as [number, number, number, Raw];
        expect([w, h, seq]).toEqual([ww, wh, wseq]);
        expect(Buffer.from(raw.bytes).equals(Buffer.from(wraw.bytes))).toBe(true);
      }
    });
  });

  it("answers recorded calls and says which calls were not recorded", async () => {
    const play = new QiProcess(["play", file, "--listen", "tcp://127.0.0.1:0", "--wait-subscribers", "1"]);
    const [at] = await play.waitFor(/tcp:\/\/127\.0\.0\.1:\d+/);
    await play.waitFor(/hosting/);
    const client = await connect(at);
    const tts = await client.service("ALTextToSpeech");
    expect(await tts.call("say", "recorded words")).toBeUndefined();
    await expect(tts.call("say", "other words")).rejects.toThrow(
      /ALTextToSpeech\.say was not recorded with these arguments/,
    );
    expect(await tts.property("language").get()).toBe("English");
    play.kill("SIGINT");
    expect((await play.exit()).code).toBe(0);
  });
});

describe("qi record, stopped with Ctrl-C", () => {
  it("closes the file with its summary and index", async () => {
    const out = join(dir, "interrupted.mcap");
    const rec = new QiProcess(["record", "--url", url, "-o", out, "ALVideoDevice.image", "ALBattery.charge"]);
    await rec.waitFor(/recording .* to /, "stderr");
    // Wait for frames on disk (a chunk is written once it holds about 1 MiB: one frame).
    await waitUntil(() => statSync(out).size > 2 * 921_600);
    rec.kill("SIGINT");
    const r = await rec.exit();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^stopped: \d+ events/m);
    const reader = await openMcap(out);
    expect(reader.statistics!.messageCount).toBeGreaterThanOrEqual(2n);
    expect(reader.chunkIndexes.length).toBeGreaterThan(0);
    let count = 0n;
    for await (const _ of reader.readMessages()) count++;
    expect(count).toBe(reader.statistics!.messageCount);
  });
});

describe("qi record --max-size", () => {
  it("stops at the size limit with a valid file", async () => {
    const out = join(dir, "limited.mcap");
    const r = await runQi(["record", "--url", url, "-o", out, "--max-size", "2M", "ALVideoDevice.image"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^--max-size 2M reached: 3 events, 2\.6 MiB/m);
    const reader = await openMcap(out);
    expect(reader.statistics!.messageCount).toBe(3n);
  });
});

describe("qi play, bad files", () => {
  it("a truncated file: exit 1 naming where it ends", async () => {
    const bytes = readFileSync(file);
    const cut = join(dir, "cut.mcap");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = await runQi(["play", cut, "--listen", "tcp://127.0.0.1:0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^error: .*cut\\.mcap is truncated: it ends at byte ${Math.floor(bytes.length / 2)} `),
    );
    expect(r.stdout).toBe("");
  });

  it("a footer pointing past the end: exit 1 naming the offset", async () => {
    const bytes = Buffer.from(readFileSync(file));
    // Footer (MCAP spec): opcode, length, summary_start, summary_offset_start, crc, then the magic.
    const footer = bytes.length - 8 - 29;
    bytes.writeBigUInt64LE(BigInt(bytes.length) * 1000n, footer + 9);
    const bad = join(dir, "bad-footer.mcap");
    writeFileSync(bad, bytes);
    const r = await runQi(["play", bad, "--listen", "tcp://127.0.0.1:0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*bad-footer\.mcap.* offset \d+/);
  });
});

async function waitUntil(ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
