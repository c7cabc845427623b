/**
 * The client side: a qi client reaching `xmpp://robot@domain[/resource]` logs in to XMPP with
 * its own account (a fresh resource per channel), sends the robot directed presence and opens
 * an in-band bytestream to it. The channel owns the login: closing one ends the other, and a
 * lost login (server gone) closes the channel with a clear reason.
 */
import { randomBytes } from "node:crypto";
import { xml } from "@xmpp/client";
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_CLOSE_TIMEOUT_MS } from "../channel.js";
import { asError, TransportError } from "../errors.js";
import type { ConnectOptions } from "../options.js";
import type { QiUrl } from "../url.js";
import { IbbEndpoint } from "./endpoint.js";
import { openIq } from "./ibb.js";
import { fullOf, jidOfUrl, parseJid } from "./jid.js";
import { createXmppClient, forceClose, login, serviceOf } from "./login.js";
import { DEFAULT_XMPP_RESOURCE, resolveStreamLimits } from "./options.js";
import { XmppChannel } from "./xmpp-channel.js";

const DEFAULT_OPEN_TIMEOUT_MS = 10_000;

function openRefusal(robot: string, e: unknown): TransportError {
  const condition = (e as { condition?: string }).condition;
  const text =
    condition === "forbidden" || condition === "not-allowed" || condition === "not-acceptable"
      ? `${robot} refused the session: this account is not on its allow-list`
      : condition === "service-unavailable" ||
          condition === "recipient-unavailable" ||
          condition === "item-not-found"
        ? `${robot} is not online (${condition})`
        : condition === "resource-constraint"
          ? `${robot} refused the session: too many sessions, or block size too large (resource-constraint)`
          : `${robot} did not open a session: ${condition ?? asError(e).message}`;
  return new TransportError("ERR_CONNECT", text, { cause: e });
}

export async function connectXmpp(url: QiUrl, opts: ConnectOptions): Promise<XmppChannel> {
  const x = opts.xmpp;
  if (x === undefined || typeof x.jid !== "string" || typeof x.password !== "string") {
    throw new TransportError(
      "ERR_BAD_OPTIONS",
      "xmpp:// needs xmpp.jid and xmpp.password (the client's own account)",
    );
  }
  const robot = fullOf(jidOfUrl(url, DEFAULT_XMPP_RESOURCE));
  const mine = parseJid(x.jid, "xmpp.jid");
  mine.resource = `qi-${randomBytes(6).toString("hex")}`;
  const limits = resolveStreamLimits(x);
  const service = serviceOf(mine.domain, mine.domain === url.host ? url.port : 5222, x);
  if (opts.signal?.aborted) throw new TransportError("ERR_ABORTED", `connect to xmpp://${robot} aborted`);
  let lost: (e: Error) => void = () => {};
  const entity = createXmppClient(mine, service, x, (e) => lost(e));
  await login(entity, mine, x);
  const endpoint = new IbbEndpoint(entity, limits, () => ({
    ok: false,
    type: "cancel",
    condition: "not-acceptable",
  }));
  const sid = randomBytes(9).toString("base64url");
  const channel = new XmppChannel({
    sender: endpoint.sender,
    remote: robot,
    local: fullOf(mine),
    sid,
    limits,
    maxPayload: opts.maxPayload,
    highWaterMark: opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    closeTimeout: opts.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS,
  });
  const onAbort = () =>
    channel.destroy(new TransportError("ERR_ABORTED", `connect to xmpp://${robot} aborted`));
  try {
    await entity.send(xml("presence", { to: robot }));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    await entity.iqCaller.request(
      openIq(robot, sid, limits.blockSize),
      opts.timeout || DEFAULT_OPEN_TIMEOUT_MS,
    );
  } catch (e) {
    forceClose(entity);
    if (channel.closed) throw channel.closeReason;
    if ((e as Error).name === "TimeoutError") {
      throw new TransportError("ERR_TIMEOUT", `${robot} did not answer the session request in time`, {
        cause: e,
      });
    }
    throw openRefusal(robot, e);
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
  endpoint.add(robot, channel);
  lost = (e) =>
    channel.lost(
      new TransportError("ERR_CLOSED", `XMPP connection of ${fullOf(mine)} failed: ${e.message}`, {
        cause: e,
      }),
    );
  entity.on("disconnect", () =>
    channel.lost(
      new TransportError("ERR_CLOSED", `connection xmpp://${robot} lost: the XMPP server went away`),
    ),
  );
  channel.onClose(() => forceClose(entity));
  return channel;
}
