/**
 * Cancel means what libqi 4.0.5 means (issue 11): a Cancel is a request. A method that stops on
 * its AbortSignal is answered Canceled; one that ignores it runs to its end and its real result
 * goes back. Checked with a hand-written libqi-style client (raw bytes) and with ours, directly
 * against the service's host and through the gateway, which relays what the service answers
 * and never makes up Canceled for a call still running upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../src/gateway/index.js";
import { type CallOutcome, QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import { RawClient } from "../gateway/raw-client.js";

let sd: Session;
let gw: Gateway;
let sdUrl: string;
let gwUrl: string;
let serviceId: number;
const finished: string[] = [];
const stopped: string[] = [];
/** Calls that started running: a Cancel is sent once its call runs, never on a timer. */
let running = 0;

async function untilRunning(before: number): Promise<void> {
  while (running <= before) await new Promise((r) => setTimeout(r, 5));
}
const closing: Array<() => Promise<void> | void> = [];

/** Member uids of the service (100 stubborn, 101 obedient: declared in that order). */
const STUBBORN = 100;
const OBEDIENT = 101;

beforeAll(async () => {
  sd = new Session();
  [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const worker = new QiObject()
    // Ignores its signal: a Cancel cannot stop it.
    .method("stubborn", "(i)", "i", (ms: number) => {
      running++;
      return new Promise((resolve) =>
        setTimeout(() => {
          finished.push("stubborn");
          resolve(ms + 1);
        }, ms),
      );
    })
    // Stops on its signal.
    .method("obedient", "(i)", "i", function (ms: number) {
      running++;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(ms), ms);
        this.signal.addEventListener("abort", () => {
          clearTimeout(t);
          stopped.push("obedient");
          reject(this.signal.reason);
        });
      });
    });
  serviceId = await sd.registerService("Worker", worker);
  gw = await startGateway({ attach: sdUrl, listen: ["tcp://127.0.0.1:0"], allowAnonymous: true });
  await gw.waitAttached();
  [gwUrl] = gw.endpoints();
});

afterAll(async () => {
  for (const c of closing.reverse()) await c();
  await gw.close();
  await sd.close();
});

async function rawClient(url: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  closing.push(() => c.destroy());
  return c;
}

/** Calls `action` with `ms`, sends a Cancel for it once the call is running; the one answer. */
async function rawCancel(c: RawClient, action: number, ms: number) {
  const before = running;
  const started = c.call(serviceId, 1, action, encode("(i)", [ms]));
  // The raw client numbers its calls from a module counter: the Call just sent is the last id.
  const id = (c as unknown as { pending: Map<number, unknown> }).pending.keys().next().value as number;
  await untilRunning(before);
  c.send({
    id: id + 100_000,
    type: MessageType.Cancel,
    flags: 0,
    service: serviceId,
    object: 1,
    action: 0,
    payload: encode("I", id),
  });
  return started;
}

for (const via of ["direct", "gateway"] as const) {
  describe(`Cancel ${via}`, () => {
    const url = () => (via === "direct" ? sdUrl : gwUrl);

    it("a libqi-style raw client gets the real result of a method that ignores the Cancel", async () => {
      const c = await rawClient(url());
      const answer = await rawCancel(c, STUBBORN, 300);
      expect(answer.type).toBe(MessageType.Reply);
      expect(decode("i", answer.payload)).toBe(301);
    });

    it("a libqi-style raw client gets Canceled from a method that honours it", async () => {
      const c = await rawClient(url());
      const answer = await rawCancel(c, OBEDIENT, 10_000);
      expect(answer.type).toBe(MessageType.Canceled);
      expect(stopped).toContain("obedient");
    });

    it("our client: the AbortSignal rejects at once, the real outcome is observable", async () => {
      const s = new Session();
      closing.push(() => s.close());
      await s.connect(url());
      const worker = await s.service("Worker");

      // outcome "wait": the promise is the service's real answer.
      const ac = new AbortController();
      const before = running;
      const waited = worker.invoke("stubborn", [300], { signal: ac.signal, outcome: "wait" });
      untilRunning(before).then(() => ac.abort());
      expect(await waited).toBe(301);

      const ac2 = new AbortController();
      const before2 = running;
      const stoppedCall = worker.invoke("obedient", [10_000], { signal: ac2.signal, outcome: "wait" });
      untilRunning(before2).then(() => ac2.abort());
      await expect(stoppedCall).rejects.toMatchObject({ code: "QI_ERR_CANCELED" });

      // outcome callback: rejects at once (web meaning), then tells what really happened.
      const ac3 = new AbortController();
      let told: (o: CallOutcome) => void = () => {};
      const outcome = new Promise<CallOutcome>((r) => {
        told = r;
      });
      const before3 = running;
      const early = worker.invoke("stubborn", [300], { signal: ac3.signal, outcome: (o) => told(o) });
      untilRunning(before3).then(() => ac3.abort());
      const t0 = performance.now();
      await expect(early).rejects.toMatchObject({ code: "QI_ERR_CANCELED" });
      expect(performance.now() - t0).toBeLessThan(200);
      expect(await outcome).toEqual({ status: "returned", value: 301 });
    });
  });
}
