/**
 * A simulated robot behind a gateway with the ros1 bridge, for the peer tests and the bench:
 * a Service Directory with the demo services and a "Robot" test service, the gateway attached
 * to it, and the bridge started the way `qi start --bridge ros1` starts it.
 */
import pino from "pino";
import { type StartedBridge, startBridges, stopBridges } from "../../../src/bridges/index.js";
import { startDemo } from "../../../src/demo/index.js";
import { type Gateway, type GatewayOptions, startGateway } from "../../../src/gateway/index.js";
import { QiObject } from "../../../src/object/index.js";
import { Session } from "../../../src/session/index.js";

export interface Robot {
  sd: Session;
  gw: Gateway;
  /** The "Robot" test service and what its methods were called with. */
  robot: QiObject;
  moves: number[][];
  bridges: StartedBridge[];
  close(): Promise<void>;
}

/** The test mapping: Robot's signal and methods, beside the demo's. */
export const TEST_MAPPING = {
  out: [{ service: "Robot", signal: "tick" }],
  in: [
    {
      topic: "/cmd_vel",
      type: "geometry_msgs/Twist",
      service: "Robot",
      method: "move",
      args: ["linear.x", "linear.y", "angular.z"],
    },
  ],
  services: [
    { name: "/robot/status", type: "std_srvs/Trigger", service: "Robot", method: "status" },
    { name: "/robot/fail", type: "std_srvs/Trigger", service: "Robot", method: "fail" },
    { name: "/robot/reset", type: "std_srvs/Empty", service: "Robot", method: "fail" },
    { name: "/robot/enable", type: "std_srvs/SetBool", service: "Robot", method: "enable" },
  ],
};

export async function robotWorld(
  settings: Record<string, unknown> | undefined,
  gatewayOptions: Partial<GatewayOptions> = {},
): Promise<Robot> {
  const logger = pino({ level: "silent" });
  const sd = new Session();
  await sd.listenStandalone("tcp://127.0.0.1:0");
  const [sdUrl] = sd.endpoints();
  const demo = await startDemo(sd, { logger });
  const moves: number[][] = [];
  let enabled = false;
  const robot = new QiObject({ description: "test robot" })
    .signal("tick", "(i)")
    .method("move", "(fff)", "v", (x: number, y: number, theta: number) => {
      moves.push([x, y, theta]);
    })
    .method("status", "()", "s", () => "all good")
    .method("fail", "()", "v", () => {
      throw new Error("Robot::fail: the motors are off");
    })
    .method("enable", "(b)", "s", (on: boolean) => {
      enabled = on;
      return enabled ? "enabled" : "disabled";
    });
  await sd.registerService("Robot", robot);
  const gw = await startGateway({
    attach: sdUrl,
    listen: ["tcp://127.0.0.1:0"],
    allowAnonymous: true,
    ...gatewayOptions,
  });
  await gw.waitAttached();
  const bridges = settings
    ? await startBridges(gw, [{ name: "ros1", settings }], { logger, demo: true })
    : [];
  return {
    sd,
    gw,
    robot,
    moves,
    bridges,
    async close() {
      await stopBridges(bridges);
      await gw.close();
      await demo.stop();
      await sd.close();
    },
  };
}

/** A counter of the gateway's Prometheus output, e.g. qi_bridge_dropped_total{bridge="ros1"}. */
export async function metricValue(gw: Gateway, name: string, labels: string): Promise<number> {
  const text = await gw.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(" ").at(-1)) : 0;
}
