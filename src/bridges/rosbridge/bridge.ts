/**
 * The rosbridge v2 bridge (`--bridge rosbridge`): a WebSocket listener where roslibjs,
 * roslibpy and other rosbridge tools reach the robot's qi services. Each web client logs in
 * with the `auth` op (the gateway's user and token, checked by the gateway itself) and then
 * acts through a qi session of its own user, so the gateway's permissions apply per web user.
 * Unless configured `open` (then a warning), a client that has not logged in can do nothing.
 */
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import type { BridgeContext, BridgePlugin, RunningBridge } from "../plugin.js";
import { openInProcessSession } from "../start-bridges.js";
import { RosbridgeClient } from "./client.js";
import { parseFrame } from "./frames.js";
import { listenWeb, mountWeb, type WebListenerOptions } from "./listener.js";
import { type Frame, Outbox } from "./outbox.js";
import { rosbridgeSettings, withDemoMapping } from "./settings.js";
import { sendPieces } from "./ws-pieces.js";

/** One message on the socket: a text, or binary pieces as one frame (never joined: ws-pieces.ts). */
function sendFrame(ws: WebSocket, frame: Frame, written: () => void): void {
  if (typeof frame === "string") ws.send(frame, { binary: false }, () => written());
  else sendPieces(ws, frame, written);
}

/** WebSocket close code for a refused login or a client over its limits (RFC 6455 policy violation). */
const POLICY_VIOLATION = 1008;

export async function startRosbridge(context: BridgeContext): Promise<RunningBridge> {
  const settings = withDemoMapping(rosbridgeSettings(context.settings), context.demo);
  const { gateway, logger, metrics } = context;
  if (settings.open)
    logger.warn(
      { user: context.user },
      `rosbridge is open: every web client acts as ${context.user} without logging in`,
    );
  let subscribers = 0;
  const openSession = (user: string) => openInProcessSession(gateway, user, `rosbridge/${user}`);

  const onConnection = (ws: WebSocket, request: IncomingMessage) => {
    const remote = request.socket.remoteAddress ?? "unknown";
    const outbox = new Outbox({
      write: (frame, written) => sendFrame(ws, frame, written),
      maxInFlightBytes: settings.maxInFlightBytes,
      dropped: (n) => metrics.dropped(n),
    });
    let authTimer: ReturnType<typeof setTimeout> | undefined;
    const refuse = (reason: string) => {
      outbox.sendNow([JSON.stringify({ op: "status", level: "error", msg: reason })]);
      logger.info({ remote, reason }, "rosbridge client refused");
      ws.close(POLICY_VIOLATION, reason.slice(0, 120));
    };
    const client = new RosbridgeClient({
      outbox,
      settings,
      logger,
      authenticate: (user, token) =>
        gateway
          .authenticate(
            new Map([
              ["user", user],
              ["token", token],
            ]),
            remote,
          )
          .finally(() => clearTimeout(authTimer)),
      openSession,
      refuse,
      metrics: {
        in: () => metrics.messagesIn(),
        out: () => metrics.messagesOut(),
        subscribers: (d) => {
          subscribers += d;
          metrics.subscribers(subscribers);
        },
      },
    });
    if (settings.open) client.startOpen(context.user).catch((e: Error) => refuse(e.message));
    else authTimer = setTimeout(() => refuse("no auth op in time"), settings.authTimeoutMs);
    ws.on("message", (data, isBinary) => {
      let msg: ReturnType<typeof parseFrame>;
      try {
        msg = parseFrame(data, isBinary);
      } catch (e) {
        client.reportBadFrame(e as Error);
        return;
      }
      client.receive(msg);
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      clearTimeout(authTimer);
      client.close().catch(() => {});
    });
  };

  const options: WebListenerOptions = {
    listen: settings.listen,
    tlsCert: settings.tlsCert,
    tlsKey: settings.tlsKey,
    maxClients: settings.maxClients,
    maxPayload: settings.maxMessageBytes,
    onConnection,
  };
  const listener = settings.path ? mountWeb(gateway, settings.path, options) : await listenWeb(options);
  logger.info({ url: listener.url, open: settings.open }, "rosbridge listening");
  return {
    endpoints: [
      `rosbridge v2 (roslibjs, roslibpy) on ${listener.url}` +
        (settings.open ? " (open: no login)" : " (log in: ros.authenticate(token, user))"),
    ],
    close: () => listener.close(),
  };
}

export const rosbridgePlugin: BridgePlugin = { name: "rosbridge", start: startRosbridge };
export default rosbridgePlugin;
