/**
 * The bridges this build knows, by name. Each entry loads its code only when enabled, so an
 * idle gateway never loads a bridge's libraries. A new bridge adds one entry here.
 */
import type { BridgeEntry } from "./plugin.js";

export const BRIDGES: readonly BridgeEntry[] = [
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
