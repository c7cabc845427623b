/** connection/: the handshake (authentication, capabilities), message ids, pending calls, cancel, and routing of incoming messages to bound objects. */
export * from "./auth.js";
export * from "./capabilities.js";
export * from "./challenge-auth.js";
export * from "./connection.js";
export * from "./errors.js";
