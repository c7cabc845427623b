/** fleet/: many robots and their clients over a NATS cluster: channels over NATS, the robot side, edge gateways, presence. */
export { type EdgeOptions, FleetEdge } from "./edge.js";
export { type FleetNatsSettings, dialNats, natsServers } from "./nats-options.js";
export { DEFAULT_FLEET_WINDOW, NatsChannel } from "./nats-channel.js";
export { listRobots, type RobotAnnouncement } from "./presence.js";
export { FleetRobot, type RobotOptions } from "./robot.js";
export { SharedEventPublisher } from "./shared-events.js";
export { DEFAULT_SUBJECT_PREFIX } from "./subjects.js";
export {
  FleetTransport,
  fleetTransport,
  type FleetTransportOptions,
  isFleetUrl,
  parseFleetUrl,
} from "./transport.js";
export { type FleetSettings, fleetSettings } from "./fleet-config.js";
