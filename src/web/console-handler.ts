/**
 * The HTTP handler a gateway's ws/wss listener serves beside the upgrade: the console, the
 * browser client, and /stats.json behind the gateway's own credentials (its rows name users
 * and peers). `gateway()` may be undefined while the gateway starts: stats are then empty and
 * every credential is refused.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Gateway } from "../gateway/index.js";
import { createWebHandler } from "./serve.js";
import { gatewayStats } from "./stats.js";

export function gatewayWebHandler(
  root: string,
  gateway: () => Gateway | undefined,
): (req: IncomingMessage, res: ServerResponse) => void {
  return createWebHandler({
    root,
    stats: () => {
      const gw = gateway();
      return gw ? gatewayStats(gw) : {};
    },
    authenticate: async (user, token, address) => {
      const gw = gateway();
      if (!gw) return false;
      const data = new Map<string, unknown>();
      if (user !== undefined) data.set("user", user);
      if (token !== undefined) data.set("token", token);
      return (await gw.authenticate(data, address)) !== undefined;
    },
  });
}
