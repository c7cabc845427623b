/** gateway/: the Gateway: external clients in (auth, permissions, limits), internal services out (router, Service Directory view). */
export { ClientLink } from "./client-link.js";
export { GatewayAuthProvider, hashToken, verifyToken } from "./credentials.js";
export { DEFAULT_LOGIN_LIMITS, type LoginLimitOptions, LoginLimiter } from "./login-limiter.js";
export { GatewayError, type GatewayErrorCode, isGatewayError } from "./errors.js";
export { Gateway, type GatewayClientInfo, type GatewayOptions } from "./gateway.js";
export { GatewayMetrics } from "./metrics.js";
export {
  type Action,
  Permissions,
  type PermissionsConfig,
  type RuleSet,
  type UserPermissions,
} from "./permissions.js";
export { DEFAULT_LIMITS, type RouterLimits } from "./router/index.js";

import { Gateway, type GatewayOptions } from "./gateway.js";

/** Creates a gateway and starts it (listening at once, attaching in the background if needed). */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const gw = new Gateway(options);
  try {
    await gw.start();
  } catch (e) {
    await gw.close();
    throw e;
  }
  return gw;
}

// Internal face: what other folders of src/ use (kept up to date by scripts/route-imports.ts).
export { pattern } from "./permissions.js";
