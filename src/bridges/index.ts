/** bridges/: plug-ins of the gateway that bring the robot's services to other robotics frameworks. */
export type {
  BridgeContext,
  BridgeEntry,
  BridgeFlag,
  BridgeMetrics,
  BridgePlugin,
  RunningBridge,
} from "./plugin.js";
export { BRIDGES, bridgeEntry, bridgeNames } from "./registry.js";
export {
  type BridgeRequest,
  checkBridgeNames,
  inProcessTransport,
  openInProcessSession,
  type StartBridgesOptions,
  type StartedBridge,
  startBridges,
  stopBridges,
} from "./start-bridges.js";
