/**
 * Recording throughput (src/record): events written to an MCAP file on disk through
 * McapRecording (encode + chunk + index), against the same encoded bytes appended to a plain
 * file in the same run (the ratio is what MCAP's framing, chunking and CRCs cost).
 *  (a) small signal events `(is)` as JSON;
 *  (b) 640×480 RGB camera frames as foxglove_msgs/RawImage.
 * Run alone: `npx tsx bench/index.ts record`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeEvent, McapRecording, type QiMember } from "../src/record/index.js";
import { Raw } from "../src/wire/index.js";
import type { BenchRow } from "./table.js";

const GROUP = "record";
const dir = mkdtempSync(join(tmpdir(), "qi-bench-record-"));

function fileWritable(file: import("node:fs/promises").FileHandle) {
  let position = 0n;
  return {
    position: () => position,
    async write(buffer: Uint8Array) {
      await file.write(buffer);
      position += BigInt(buffer.byteLength);
    },
  };
}

/** Events per second through McapRecording into a file, and through a plain file append. */
async function measure(member: QiMember, event: unknown, count: number): Promise<[number, number, number]> {
  const mcapFile = await open(join(dir, "bench.mcap"), "w");
  let started = performance.now();
  const rec = await McapRecording.start(fileWritable(mcapFile), { maxPendingBytes: 2 ** 40 });
  const key = await rec.addMember(member);
  for (let i = 0; i < count; i++) {
    rec.write(key, event, BigInt(i) * 1_000_000n);
    // Let the writer drain now and then, as a live recording would between events.
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  await rec.close();
  await mcapFile.close();
  const mcapSeconds = (performance.now() - started) / 1000;
  const bytes = rec.stats.bytes;

  const plainFile = await open(join(dir, "bench.bin"), "w");
  started = performance.now();
  // Appended in batches of about 1 MiB, as McapWriter writes its chunks.
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  for (let i = 0; i < count; i++) {
    const data = encodeEvent(member, event, BigInt(i) * 1_000_000n);
    batch.push(data);
    batchBytes += data.byteLength;
    if (batchBytes >= 1 << 20) {
      await plainFile.writev(batch);
      batch = [];
      batchBytes = 0;
    }
  }
  await plainFile.writev(batch);
  await plainFile.close();
  const plainSeconds = (performance.now() - started) / 1000;
  return [count / mcapSeconds, count / plainSeconds, bytes / mcapSeconds / 1e6];
}

export async function run(): Promise<BenchRow[]> {
  try {
    const small: QiMember = { service: "ALMemory", member: "dataChanged", kind: "signal", signature: "(is)" };
    const [smallRate, smallPlain] = await measure(small, [42, "FrontTactilTouched"], 50_000);
    const camera: QiMember = {
      service: "ALVideoDevice",
      member: "image",
      kind: "signal",
      signature: "(iiIr)",
    };
    const frame = [640, 480, 7, new Raw(new Uint8Array(640 * 480 * 3).fill(128))];
    const [frameRate, framePlain, frameMBs] = await measure(camera, frame, 300);
    return [
      {
        group: GROUP,
        case: "small signal events (is) as JSON into an MCAP file (baseline: same bytes appended to a plain file)",
        value: smallRate,
        unit: "events/s",
        baseline: smallPlain,
      },
      {
        group: GROUP,
        case: `640×480 RGB frames as RawImage into an MCAP file (${frameMBs.toFixed(0)} MB/s; baseline: plain file)`,
        value: frameRate,
        unit: "frames/s",
        baseline: framePlain,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
