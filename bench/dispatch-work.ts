// Worker module for bench/dispatch.bench.ts: runs on a dispatcher pool thread.

/** Burns the CPU for `ms` milliseconds. */
export function busy(ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}
