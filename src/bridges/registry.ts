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
  {
    name: "rosbridge",
    summary: "rosbridge v2 for roslibjs, roslibpy and web dashboards (WebSocket, JSON or CBOR)",
    warning:
      "rosbridge enabled: web clients log in with the auth op (gateway user and token); with open: true anyone reaching its port acts as the bridge's user",
    flags: [
      {
        flags: "--rosbridge-listen <url>",
        description: "where rosbridge listens (default ws://127.0.0.1:9090)",
        key: "listen",
      },
      {
        flags: "--rosbridge-path <path>",
        description: "serve rosbridge on this path of the gateway's ws listener instead (e.g. /rosbridge)",
        key: "path",
      },
    ],
    load: async () => (await import("./rosbridge/bridge.js")).rosbridgePlugin,
  },
  {
    name: "foxglove",
    summary: "the Foxglove WebSocket protocol for Foxglove and Lichtblick",
    warning:
      "foxglove enabled: clients log in with ?user=&token= on the WebSocket URL (use wss:// beyond this machine); with open: true anyone reaching its port acts as the bridge's user",
    flags: [
      {
        flags: "--foxglove-listen <url>",
        description: "where the Foxglove server listens (default ws://127.0.0.1:8765)",
        key: "listen",
      },
      {
        flags: "--foxglove-path <path>",
        description: "serve Foxglove on this path of the gateway's ws listener instead (e.g. /foxglove)",
        key: "path",
      },
    ],
    load: async () => (await import("./foxglove/bridge.js")).foxglovePlugin,
  },
];

export function bridgeEntry(name: string): BridgeEntry | undefined {
  return BRIDGES.find((b) => b.name === name);
}

export function bridgeNames(): string[] {
  return BRIDGES.map((b) => b.name);
}
