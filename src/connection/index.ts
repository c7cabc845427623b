/** connection/: the handshake (authentication, capabilities), message ids, pending calls, cancel, incoming requests, and how higher layers attach. */
export * from "./attach.js";
export * from "./auth.js";
export * from "./capabilities.js";
export * from "./challenge-auth.js";
export * from "./connection.js";
export * from "./errors.js";
export { type ResolvedConnectionOptions, resolveConnectionOptions } from "./options.js";
