/**
 * The Calc service of the libqi 4.0.5 captures, declared in the same order so that member ids
 * (add 100 … fail 106, tick 107, level 108) and the whole MetaObject come out identical.
 * Note: in the capture `slow` returns `v` (it sleeps `ms` milliseconds), not `i`.
 */
import { QiObject } from "../../src/object/index.js";

export const CalcIds = {
  add: 100,
  echo: 101,
  concat: 102,
  sum: 103,
  keys: 104,
  slow: 105,
  fail: 106,
  tick: 107,
  level: 108,
} as const;

export function libqiCalc(): QiObject {
  return new QiObject()
    .method("add", "(ii)", "i", (a: number, b: number) => a + b)
    .method("echo", "(m)", "m", (v: unknown) => v)
    .method("concat", "(ss)", "s", (a: string, b: string) => a + b)
    .method("sum", "([i])", "i", (l: number[]) => l.reduce((x, y) => x + y, 0))
    .method("keys", "({si})", "[s]", (m: Map<string, number>) => [...m.keys()])
    .method("slow", "(i)", "v", function (ms: number) {
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ms);
        this.signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(this.signal.reason);
        });
      });
    })
    .method("fail", "(s)", "v", (text: string) => {
      throw new Error(text);
    })
    .signal("tick", "(i)")
    .property("level", "i", 7);
}
