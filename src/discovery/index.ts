/** discovery/: robots on the LAN over mDNS/DNS-SD (`_naoqi._tcp`): advertise a gateway, list what answers, bounded and validated. */
export { type AdvertisedService, type Advertisement, type AdvertiseOptions, advertise } from "./advertise.js";
export { type BrowseOptions, type DiscoveredRobot, discover, RobotBrowser } from "./browse.js";
export type { MdnsOptions } from "./mdns.js";
export { type AdvertisePlan, type PlannedService, planAdvertisement } from "./plan.js";
export { encodeTxt, instanceName, parseTxt, SERVICE_TYPE, type ServiceTxt } from "./records.js";
export { cleanText, DISCOVERY_LIMITS, validAddress, validPort } from "./text.js";
