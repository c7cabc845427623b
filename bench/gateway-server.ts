/**
 * Child process of bench/gateway.bench.ts: a Service Directory that also hosts the "Bench"
 * service, so every call reaches the service over the one connection to the directory
 * (`qi:ServiceDirectory`) whether it comes directly, through the byte relay or through the
 * gateway; and a "Signals" service (signal fan-out through the gateway). Prints `{"url": …}`
 * once listening.
 */
import { QiObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { Raw } from "../src/wire/values.js";

const session = new Session();
const [url] = await session.listenStandalone("tcp://127.0.0.1:0");
const bench: QiObject = new QiObject({ description: "gateway bench service" })
  .method("add", "(ii)", "i", (a: number, b: number) => a + b)
  .method("echo", "(r)", "r", (r: Raw) => r)
  // Emits `count` frames of `size` bytes at `fps`; resolves when the last one is sent.
  .method(
    "frames",
    "(iii)",
    "i",
    (count: number, fps: number, size: number) =>
      new Promise<number>((resolve) => {
        const frame = new Raw(Buffer.alloc(size, 0x5a));
        let sent = 0;
        const t0 = performance.now();
        const tick = () => {
          bench.emit("frame", frame);
          sent++;
          if (sent === count) {
            resolve(sent);
            return;
          }
          // Scheduled on the ideal timeline so the rate holds even when a tick is late.
          setTimeout(tick, Math.max(0, t0 + (sent * 1000) / fps - performance.now()));
        };
        tick();
      }),
  )
  .signal("frame", "(r)");
await session.registerService("Bench", bench);
// "Signals": `tick` to measure events through the gateway, and FANOUT_SIGNALS other signals
// for clients to hold subscriptions to (fan-outs the gateway keeps open meanwhile).
const FANOUT_SIGNALS = 1_000;
const signals: QiObject = new QiObject({ description: "gateway bench signals" })
  .signal("tick", "(i)")
  // Emits `count` ticks at once; resolves when they are all queued.
  .method("ticks", "(i)", "i", (count: number) => {
    for (let i = 0; i < count; i++) signals.emit("tick", i);
    return count;
  });
for (let i = 0; i < FANOUT_SIGNALS; i++) signals.signal(`s${i}`, "(i)");
await session.registerService("Signals", signals);
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on("disconnect", () => {
  session.close().finally(() => process.exit(0));
});
