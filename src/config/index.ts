/** Configuration files of the Service Directory and the gateway. */
export * from "./config-file.js";
export * from "./sd-config.js";
