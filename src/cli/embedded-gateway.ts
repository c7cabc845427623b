/**
 * The gateway of the embedded default (`qi start`): authenticated with credentials made for
 * this run, on tcp for qi clients and on ws for browsers, with the web console beside it.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { type Gateway, GatewayAuthProvider, hashToken, startGateway } from "../gateway/index.js";
import type { XmppListenOptions } from "../transport/index.js";
import { gatewayWebHandler } from "../web/index.js";

export interface EmbeddedGatewayConfig {
  sdUrl: string;
  listen: string[];
  user: string;
  /** Generated when omitted. */
  token?: string;
  logger: Logger;
  /** The robot's XMPP account when `listen` has an xmpp:// entry (qi start --xmpp). */
  xmpp?: XmppListenOptions;
  /** Outside clients may register services (off by default, as for `qi gateway`). */
  allowRegistration?: boolean;
  /** The robots found on the LAN, served as /robots.json (qi start --discover). */
  robots?: () => object[];
}

export interface RunningGateway {
  gateway: Gateway;
  endpoints: string[];
  user: string;
  token: string;
  /** The web console URL, when a ws listener and the built console exist. */
  consoleUrl: string | undefined;
  allowsRegistration: boolean;
  close(): Promise<void>;
}

/** dist/web next to the compiled CLI; absent when running from sources without a web build. */
export function webRoot(): string | undefined {
  for (const rel of ["../web/", "../../dist/web/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/index.html`)) return dir;
  }
  return undefined;
}

export async function runEmbeddedGateway(config: EmbeddedGatewayConfig): Promise<RunningGateway> {
  const token = config.token ?? randomBytes(12).toString("base64url");
  const root = webRoot();
  let gateway: Gateway | undefined;
  const gw = await startGateway({
    attach: config.sdUrl,
    listen: config.listen,
    authProvider: new GatewayAuthProvider({ [config.user]: { token: hashToken(token) } }),
    logger: config.logger,
    xmpp: config.xmpp,
    allowServiceRegistration: !!config.allowRegistration,
    ws:
      root || config.robots
        ? {
            httpHandler: gatewayWebHandler(root, () => gateway, config.robots),
          }
        : undefined,
  });
  gateway = gw;
  await gw.waitAttached();
  const endpoints = gw.endpoints();
  const ws = endpoints.find((e) => e.startsWith("ws://") || e.startsWith("wss://"));
  const consoleUrl = root && ws ? ws.replace(/^ws/, "http").replace(/\/qi$/, "") + "/" : undefined;
  return {
    gateway: gw,
    endpoints,
    user: config.user,
    token,
    consoleUrl,
    allowsRegistration: !!config.allowRegistration,
    close: () => gw.close(),
  };
}
