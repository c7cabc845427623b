/**
 * qimessaging: the qi messaging stack of NAO and Pepper robots (libqi) in TypeScript.
 * Layers, lowest first: wire, transport, connection, object, dispatch, session, gateway.
 */
export * from "./wire/index.js";
export * from "./transport/index.js";
export * from "./connection/index.js";
export * from "./object/index.js";
export * from "./dispatch/index.js";
export * from "./session/index.js";
export * from "./gateway/index.js";
export * from "./sync/index.js";
