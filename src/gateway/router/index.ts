/** The gateway's router: calls, signal fan-out, object ids and reverse calls between clients and services. */
export { DEFAULT_LIMITS, type RouterLimits } from "./limits.js";
export { Router } from "./router.js";
