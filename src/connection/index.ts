/** Connection layer: handshake, capabilities, message ids, pending calls, cancel, routing. */
export * from "./auth.js";
export * from "./capabilities.js";
export * from "./challenge-auth.js";
export * from "./connection.js";
export * from "./errors.js";
