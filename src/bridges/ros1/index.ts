/** The ROS 1 bridge (loaded only when enabled, through the registry's entry). */
export { ros1Bridge, startRos1 } from "./bridge.js";
export { DEFAULTS as ROS1_DEFAULTS, parseSettings as parseRos1Settings } from "./settings.js";
