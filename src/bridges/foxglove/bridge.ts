/**
 * The Foxglove WebSocket protocol bridge (`--bridge foxglove`): Foxglove and Lichtblick open
 * `ws://host:8765/?user=<user>&token=<token>`. The protocol has no login of its own, so the
 * credentials ride on the URL and the gateway checks them before the WebSocket exists (a
 * refused client gets HTTP 401); each client then sees the robot through a qi session of its
 * own user. Configured `open` (then a warning), no credentials are asked and every client acts
 * as the bridge's user.
 */
import foxglove from "@foxglove/ws-protocol";
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import type { BridgeContext, BridgePlugin, RunningBridge } from "../plugin.js";
import { listenWeb, mountWeb, type WebListenerOptions } from "../rosbridge/listener.js";
import { rosbridgeSettings, withDemoMapping } from "../rosbridge/settings.js";
import { openInProcessSession } from "../start-bridges.js";
import { serveFoxgloveClient } from "./client.js";

export const DEFAULT_FOXGLOVE_LISTEN = "ws://127.0.0.1:8765";

export async function startFoxglove(context: BridgeContext): Promise<RunningBridge> {
  const settings = withDemoMapping(
    rosbridgeSettings(context.settings, DEFAULT_FOXGLOVE_LISTEN, "foxglove"),
    context.demo,
  );
  const { gateway, logger, metrics } = context;
  if (settings.open)
    logger.warn(
      { user: context.user },
      `foxglove is open: every client acts as ${context.user} without credentials`,
    );
  let subscribers = 0;

  const admit = async (request: IncomingMessage): Promise<string | false> => {
    if (settings.open) return context.user;
    const query = new URL(request.url ?? "/", "http://x").searchParams;
    const user = query.get("user");
    const token = query.get("token");
    if (!user || !token) return false;
    const identity = await gateway.authenticate(
      new Map([
        ["user", user],
        ["token", token],
      ]),
      request.socket.remoteAddress ?? "unknown",
    );
    return identity ?? false;
  };

  const onConnection = (ws: WebSocket, _request: IncomingMessage, admitted: unknown) => {
    const user = admitted as string;
    let close: (() => Promise<void>) | undefined;
    let closed = false;
    ws.on("error", () => {});
    ws.on("close", () => {
      closed = true;
      close?.().catch(() => {});
    });
    (async () => {
      const session = await openInProcessSession(gateway, user, `foxglove/${user}`);
      close = await serveFoxgloveClient(ws, {
        session,
        allow: settings.mapping,
        maxInFlightBytes: settings.maxInFlightBytes,
        metrics: {
          in: () => metrics.messagesIn(),
          out: () => metrics.messagesOut(),
          dropped: () => metrics.dropped(),
          subscribers: (d) => {
            subscribers += d;
            metrics.subscribers(subscribers);
          },
        },
      }).catch(async (e) => {
        await session.close();
        throw e;
      });
      if (closed) await close();
      else logger.info({ user }, "foxglove client connected");
    })().catch((e: Error) => {
      logger.warn({ user, err: e.message }, "foxglove client failed");
      ws.close(1011, "cannot read the robot's services");
    });
  };

  const options: WebListenerOptions = {
    listen: settings.listen,
    tlsCert: settings.tlsCert,
    tlsKey: settings.tlsKey,
    maxClients: settings.maxClients,
    maxPayload: settings.maxMessageBytes,
    handleProtocols: (protocols) =>
      protocols.has(foxglove.FoxgloveServer.SUPPORTED_SUBPROTOCOL)
        ? foxglove.FoxgloveServer.SUPPORTED_SUBPROTOCOL
        : false,
    admit,
    onConnection,
  };
  const listener = settings.path ? mountWeb(gateway, settings.path, options) : await listenWeb(options);
  logger.info({ url: listener.url, open: settings.open }, "foxglove listening");
  return {
    endpoints: [
      `Foxglove WebSocket (Foxglove, Lichtblick) on ${listener.url}` +
        (settings.open ? " (open: no login)" : `/?user=<user>&token=<token>`),
    ],
    close: () => listener.close(),
  };
}

export const foxglovePlugin: BridgePlugin = { name: "foxglove", start: startFoxglove };
export default foxglovePlugin;
