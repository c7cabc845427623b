/** connection/: the handshake (authentication, capabilities), message ids, pending calls, cancel, incoming requests, and how higher layers attach. */
export * from "./challenge-auth.js";
export * from "./neutral.js";
