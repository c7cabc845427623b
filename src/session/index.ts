/** session/: Session (client and service host, any runtime), the Service Directory, ServiceInfo, endpoint choice, machineId. */
export { machineId, machineIdPath } from "./machine-id.js";
export * from "./service-directory.js";
export * from "./service-info.js";
export * from "./session.js";
export { Application, type ApplicationOptions, parseQiArguments, type QiArguments } from "./application.js";
export {
  LOG_MESSAGE_SIGNATURE,
  logMessage,
  ROBOT_LOG_LEVELS,
  type RobotLogger,
  type RobotLoggerOptions,
  type RobotLogLevel,
  robotLogger,
} from "./log-to-robot.js";
