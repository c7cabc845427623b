/** Session layer: Session (client and service host, any runtime), Service Directory, ServiceInfo, machineId. */
export { machineId, machineIdPath } from "./machine-id.js";
export * from "./service-directory.js";
export * from "./service-info.js";
export * from "./session.js";
