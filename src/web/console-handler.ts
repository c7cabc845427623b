/**
 * The HTTP handler a gateway's ws/wss listener serves beside the upgrade: the console, the
 * browser client, and /stats.json behind the gateway's own credentials (its rows name users
 * and peers: a user sees their own rows, an admin everyone's). `gateway()` may be undefined
 * while the gateway starts: stats are then empty and every credential is refused. Repeated
 * requests do not each cost a scrypt: the gateway's provider remembers correct logins.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Gateway } from "../gateway/index.js";
import { createWebHandler } from "./serve.js";
import { gatewayStats } from "./stats.js";

export function gatewayWebHandler(
  root: string | undefined,
  gateway: () => Gateway | undefined,
  robots?: () => object[],
): (req: IncomingMessage, res: ServerResponse) => void {
  return createWebHandler({
    root,
    robots,
    stats: (viewer) => {
      const gw = gateway();
      return gw ? gatewayStats(gw, viewer) : {};
    },
    authenticate: async (user, token, address) => {
      const gw = gateway();
      if (!gw) return undefined;
      const data = new Map<string, unknown>();
      if (user !== undefined) data.set("user", user);
      if (token !== undefined) data.set("token", token);
      return gw.authenticate(data, address);
    },
  });
}
