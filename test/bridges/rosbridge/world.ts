/**
 * The world of the web bridge tests: a Service Directory with the simulated camera, speech and
 * battery plus a "Calc" service, a gateway that requires user/token logins ("alice" may do
 * everything, "bob" sees only ALBattery), and the named bridges started beside it on free ports.
 */
import pino from "pino";
import { type StartedBridge, startBridges, stopBridges } from "../../../src/bridges/index.js";
import {
  createBattery,
  createMemory,
  createTextToSpeech,
  createVideoDevice,
  type DemoService,
} from "../../../src/demo/index.js";
import { type Gateway, GatewayAuthProvider, hashToken, startGateway } from "../../../src/gateway/index.js";
import { QiObject } from "../../../src/object/index.js";
import { Session } from "../../../src/session/index.js";

export const ALICE = { user: "alice", token: "correct horse battery staple" };
export const BOB = { user: "bob", token: "bob's token" };

const ALL = { allow: ["*"] };

const call = (service: string, method: string, name = `/qi/${service}/${method}`) => ({
  name,
  type: "qi_srvs/Call",
  service,
  method,
});

/**
 * The bridges' allow-list in this world: what the tests reach. Calc's `tick` and `secret`
 * are left out on purpose (the tests try to reach them by name), and of ALMemory only the key
 * Web/Greeting is named.
 */
export const WORLD_MAPPING = {
  out: [
    { service: "ALVideoDevice", signal: "image" },
    { service: "ALBattery", property: "charge" },
    { service: "ALTextToSpeech", signal: "started" },
    { service: "Calc", property: "level" },
    { service: "ALMemory", memoryKey: "Web/Greeting" },
  ],
  in: [
    { topic: "/qi/ALTextToSpeech/say", type: "std_msgs/String", service: "ALTextToSpeech", method: "say" },
  ],
  services: [
    call("Calc", "add"),
    call("Calc", "fail"),
    call("Calc", "blob"),
    call("ALTextToSpeech", "say"),
    call("ALBattery", "getBatteryCharge"),
    { name: "/qi/Calc/twice", type: "std_srvs/Trigger", service: "Calc", method: "add", args: ["a", "b"] },
    call("WebTablet", "show"),
  ],
};

export interface WebBridgeWorld {
  sd: Session;
  gateway: Gateway;
  camera: DemoService;
  /** ALMemory; the mapping names one key of it, Web/Greeting. */
  memory: DemoService;
  calc: QiObject;
  /** Calls of Calc.secret, which the mapping leaves out: reaching it is a way around. */
  secretCalls(): number;
  /** The qi URL of the gateway (for a qi client beside the web ones). */
  qiUrl: string;
  /** Endpoint URL of each started bridge, by name. */
  urls: Record<string, string>;
  close(): Promise<void>;
}

export async function startWebBridgeWorld(
  bridges: Record<string, Record<string, unknown>>,
  /** The gateway's listeners (a ws:// one for bridges mounted on a path). */
  listen = ["tcp://127.0.0.1:0"],
): Promise<WebBridgeWorld> {
  const sd = new Session();
  const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const camera = createVideoDevice();
  const memory = createMemory();
  const services = [
    camera,
    createTextToSpeech({ logger: pino({ level: "silent" }) }),
    createBattery(),
    memory,
  ];
  for (const s of services) {
    await sd.registerService(s.name, s.object);
    s.start?.();
  }
  let secretCalls = 0;
  const calc = new QiObject()
    .method("add", "(ii)", "i", (a: number, b: number) => a + b, {
      parameters: [{ name: "a" }, { name: "b" }],
    })
    .method("fail", "(s)", "s", (why: string) => {
      throw new Error(`failed: ${why}`);
    })
    .method("blob", "(i)", "r", (n: number) => new Uint8Array(n).fill(7))
    .method("secret", "()", "s", () => {
      secretCalls++;
      return "the secret";
    })
    .signal("tick", "(i)")
    .property("level", "i", 7);
  await sd.registerService("Calc", calc);
  const logger = pino({ level: "silent" });
  const gateway = await startGateway({
    attach: sdUrl!,
    listen,
    authProvider: new GatewayAuthProvider({
      [ALICE.user]: { token: hashToken(ALICE.token) },
      [BOB.user]: { token: hashToken(BOB.token) },
    }),
    permissions: {
      users: {
        [ALICE.user]: { services: ALL, call: ALL, subscribe: ALL, write: ALL, register: ALL },
        [BOB.user]: {
          services: { allow: ["ALBattery"] },
          call: { allow: ["ALBattery.*"] },
          subscribe: { allow: ["ALBattery.*"] },
        },
        "bridge-rosbridge": { services: ALL, call: ALL, subscribe: ALL, write: ALL },
        "bridge-foxglove": { services: ALL, call: ALL, subscribe: ALL, write: ALL },
      },
    },
    allowServiceRegistration: true,
    logger,
  });
  let started: StartedBridge[] = [];
  try {
    await gateway.waitAttached();
    started = await startBridges(
      gateway,
      Object.entries(bridges).map(([name, settings]) => ({
        name,
        settings: { listen: "ws://127.0.0.1:0", mapping: WORLD_MAPPING, ...settings },
      })),
      { logger, demo: false },
    );
  } catch (e) {
    await gateway.close();
    await sd.close();
    throw e;
  }
  const urls: Record<string, string> = {};
  for (const b of started)
    urls[b.name] = /(wss?:\/\/[^\s?]+?)\/?(?:\?|\s|$)/.exec(b.bridge.endpoints[0] ?? "")?.[1] ?? "";
  return {
    sd,
    gateway,
    camera,
    memory,
    calc,
    secretCalls: () => secretCalls,
    qiUrl: gateway.endpoints()[0]!,
    urls,
    async close() {
      await stopBridges(started);
      for (const s of services) s.stop?.();
      await gateway.close();
      await sd.close();
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until true; throws naming `what` after `timeoutMs`. */
export async function until(
  cond: () => boolean,
  what: string,
  timeoutMs = 10_000,
  poll?: () => Promise<void>,
): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    await poll?.();
    if (cond()) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(poll ? 50 : 10);
  }
}
