/**
 * The bridges this build knows, by name. Each entry loads its code only when enabled, so an
 * idle gateway never loads a bridge's libraries. A new bridge adds one entry here.
 */
import type { BridgeEntry } from "./plugin.js";

export const BRIDGES: readonly BridgeEntry[] = [
  {
    name: "ros1",
    summary:
      "the robot as a ROS 1 node: mapped signals and properties as topics, topics and services calling methods",
    warning:
      "bridge ros1 enabled: ROS 1 has no authentication; anyone who reaches the ROS master and this host can read and drive what the mapping exposes",
    flags: [
      {
        flags: "--ros-master <url>",
        description: "ROS master URI (default http://127.0.0.1:11311)",
        key: "master",
      },
      {
        flags: "--ros-node-name <name>",
        description: "ROS node name (default /qi_gateway)",
        key: "nodeName",
      },
      {
        flags: "--ros-host <host>",
        description: "address the node listens on and advertises (default 127.0.0.1)",
        key: "host",
      },
    ],
    load: async () => (await import("./ros1/index.js")).ros1Bridge,
  },
  {
    name: "yarp",
    summary: "the robot's services as YARP ports (name server, Bottles, rpc, images)",
    warning:
      "YARP bridge enabled: YARP has no authentication; any YARP peer that reaches the bridge's ports can use the mapped services (bound by the bridge user's permissions)",
    flags: [
      { flags: "--yarp-nameserver <host:port>", description: "the YARP name server", key: "nameserver" },
    ],
    load: async () => (await import("./yarp/index.js")).yarpBridge,
  },
];

export function bridgeEntry(name: string): BridgeEntry | undefined {
  return BRIDGES.find((b) => b.name === name);
}

export function bridgeNames(): string[] {
  return BRIDGES.map((b) => b.name);
}
