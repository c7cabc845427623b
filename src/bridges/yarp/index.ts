/** bridges/yarp/: the robot's qi services as YARP ports (name server, tcp and text carriers, Bottles, images). */
import type { BridgePlugin } from "../plugin.js";
import { startYarpBridge } from "./bridge.js";

export {
  type Bottle,
  type BottleValue,
  decodeBottle,
  encodeBottle,
  encodeBottleBytes,
  Float,
  Vocab,
} from "./bottle.js";
export { bottleToText, textToBottle } from "./bottle-text.js";
export { NameClient, parseNameServer } from "./name-client.js";
export { DEMO_MAPPING, parseSettings, type YarpSettings } from "./settings.js";

export const yarpBridge: BridgePlugin = { name: "yarp", start: startYarpBridge };
export default yarpBridge;
