/** config/: configuration files (JSON/YAML) turned into the options of the Service Directory and the gateway. */
export { ConfigError, isConfigError } from "./errors.js";
export {
  type GatewayConfig,
  gatewayConfigSchema,
  gatewayOptionsFromConfig,
  loadGatewayConfig,
  validateGatewayConfig,
} from "./gateway-config.js";
export { loadSdConfig, type SdConfig, type SdSetup, sdConfigSchema } from "./sd-config.js";
export { loadXmppEntryConfig, type XmppConfig, xmppConfigSchema } from "./xmpp-config.js";
