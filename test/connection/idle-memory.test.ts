/**
 * A guard on the heap an idle authenticated connection takes (the gateway's target is 10,000 idle
 * clients at ≤ 25 KiB each, all layers included). Measured in a child process with --expose-gc
 * (idle-memory.ts); the bounds leave room above today's figures (≈ 0.8 KiB per Connection,
 * ≈ 1.4 KiB with its PeerObjects; 2.9 and 4.5 before the split) so that only a real regression
 * — a table or a timer per connection again — trips them.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("./idle-memory.ts", import.meta.url));

async function perConnection(withObjects: boolean): Promise<number> {
  const args = [
    "--expose-gc",
    "--import",
    "tsx",
    script,
    "4000",
    "--json",
    ...(withObjects ? ["--objects"] : []),
  ];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 60_000 });
  const r = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { connectionsPerPair: number };
  return r.connectionsPerPair / 2;
}

describe("idle authenticated connections", () => {
  it("take under 1.5 KiB of heap each, under 2.5 KiB with their PeerObjects", async () => {
    expect(await perConnection(false)).toBeLessThan(1.5 * 1024);
    expect(await perConnection(true)).toBeLessThan(2.5 * 1024);
  }, 120_000);
});
