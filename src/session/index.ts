/** session/: Session (client and service host, any runtime), the Service Directory, ServiceInfo, endpoint choice, machineId. */
export { machineId, machineIdPath } from "./machine-id.js";
export * from "./service-directory.js";
export * from "./service-info.js";
export * from "./session.js";
