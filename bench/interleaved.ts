/**
 * Two ways of doing the same round trip, measured in alternating rounds so that both see the
 * same machine: on a shared, loaded VM the speed of loopback TCP swings by 3× between runs
 * (and within one), so two back-to-back blocks compare two different machines. Each round runs
 * a block of each (their order swapped every round); the result is the median over rounds,
 * and the median of the per-round ratios.
 */

export interface Side {
  /** MB/s of each round. */
  rates: number[];
  /** Process CPU time (user + system) per round trip, µs, over all rounds. */
  cpuMicros: number;
  /** Minor page faults per round trip, over all rounds. */
  faults: number;
}

export interface Interleaved {
  a: Side;
  b: Side;
  /** Median over rounds of a's MB/s / b's MB/s in the same round. */
  medianRatio: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * `a` and `b` each make one round trip carrying `bytesPerTrip`; `warmup` of each first, then
 * `rounds` rounds of `perRound` trips of each.
 */
export async function interleaved(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  bytesPerTrip: number,
  opts: { rounds: number; perRound: number; warmup: number },
): Promise<Interleaved> {
  for (let i = 0; i < opts.warmup; i++) {
    await a();
    await b();
  }
  const sides = [
    { once: a, rates: [] as number[], cpu: 0, faults: 0 },
    { once: b, rates: [] as number[], cpu: 0, faults: 0 },
  ];
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? sides : [sides[1], sides[0]];
    for (const side of order) {
      const faults = process.resourceUsage().minorPageFault;
      const cpu = process.cpuUsage();
      const t = performance.now();
      for (let i = 0; i < opts.perRound; i++) await side.once();
      const ms = performance.now() - t;
      const used = process.cpuUsage(cpu);
      side.cpu += used.user + used.system;
      side.faults += process.resourceUsage().minorPageFault - faults;
      side.rates.push((opts.perRound * bytesPerTrip) / 1e3 / ms);
    }
  }
  const trips = opts.rounds * opts.perRound;
  const [sa, sb] = sides.map((s) => ({ rates: s.rates, cpuMicros: s.cpu / trips, faults: s.faults / trips }));
  return { a: sa, b: sb, medianRatio: median(sa.rates.map((r, i) => r / sb.rates[i])) };
}
