/**
 * Shared set-up of the gateway tests: a Service Directory, a host with a "Calc" service, a
 * gateway attached to it, and a cleanup list run after each test.
 */
import { Writable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pino from "pino";
import { startGateway, type Gateway, type GatewayOptions } from "../../src/gateway/index.js";
import { QiObject, type RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { Raw } from "../../src/wire/values.js";

export const cleanup: Array<() => Promise<void>> = [];

export async function runCleanup(): Promise<void> {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until true; throws with `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function counter(start: number): QiObject {
  let value = start;
  return new QiObject().method("next", "()", "i", () => ++value).signal("changed", "(i)");
}

export interface Calc {
  object: QiObject;
  /** Counters made by makeCounter, in order. */
  counters: QiObject[];
}

export function calc(): Calc {
  const counters: QiObject[] = [];
  const object: QiObject = new QiObject({ description: "calc" })
    .method("add", "(ii)", "i", (a: number, b: number) => a + b)
    .method("echo", "(r)", "r", (r: Raw) => r)
    .method("slow", "(i)", "i", function (ms: number) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(ms), ms);
        this.signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(this.signal.reason);
        });
      });
    })
    .method("makeCounter", "(i)", "o", (start: number) => {
      const c = counter(start);
      counters.push(c);
      return c;
    })
    .signal("tick", "(i)")
    .signal("frame", "(r)")
    .property("level", "i", 7);
  return { object, counters };
}

/** Uid of a signal of a local object. */
export function signalUid(obj: QiObject, name: string): number {
  for (const s of obj.metaObject().signals.values()) if (s.name === name) return s.uid;
  throw new Error(`no signal ${name}`);
}

/** How many subscribers (local listeners, remote peers included) a signal of a local object has. */
export function listenerCount(obj: QiObject, name: string): number {
  const signals = (obj as unknown as { signals: Map<number, { listeners: Set<unknown> }> }).signals;
  return signals.get(signalUid(obj, name))?.listeners.size ?? 0;
}

export interface World {
  sd: Session;
  sdUrl: string;
  host: Session;
  service: Calc;
  calcId: number;
  gw: Gateway;
  gwUrl: string;
}

export async function world(gwOptions: Partial<GatewayOptions> = {}): Promise<World> {
  const sd = new Session();
  cleanup.push(() => sd.close());
  const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const host = new Session();
  cleanup.push(() => host.close());
  await host.connect(sdUrl);
  const service = calc();
  const calcId = await host.registerService("Calc", service.object);
  const gw = await startGateway({
    attach: sdUrl,
    listen: ["tcp://127.0.0.1:0"],
    allowAnonymous: true,
    ...gwOptions,
  });
  cleanup.push(() => gw.close());
  await gw.waitAttached();
  const [gwUrl] = gw.endpoints();
  return { sd, sdUrl, host, service, calcId, gw, gwUrl };
}

export async function client(
  url: string,
  options: ConstructorParameters<typeof Session>[0] = {},
): Promise<Session> {
  const s = new Session(options);
  cleanup.push(() => s.close());
  await s.connect(url);
  return s;
}

export function raw(n: number, seed = 1): Raw {
  const b = Buffer.allocUnsafe(n);
  b.fill(seed & 0xff);
  return new Raw(b);
}

export type { RemoteObject };

let gcFn: (() => void) | undefined;
/** global.gc, made available even without --expose-gc. */
export function gc(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      setFlagsFromString("--expose-gc");
      gcFn = runInNewContext("gc") as () => void;
    }
  }
  gcFn();
  gcFn();
}

/** A pino logger whose JSON lines land in `lines`. */
export function capturingLogger(lines: Array<Record<string, unknown>>, level: pino.Level = "debug") {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n"))
        if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return pino({ level }, sink);
}
