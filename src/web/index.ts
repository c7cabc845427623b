/** web/: the browser client (client/, its own bundle), the web console and the gateway's HTTP handler for them. */
export { gatewayWebHandler } from "./console-handler.js";
