/**
 * The gateway's XMPP entry (`listen("xmpp://robot@domain[/resource]")`): logs in as the robot,
 * shows it online, and admits in-band bytestreams from allow-listed bare JIDs only, within the
 * per-JID and total caps; every admitted stream is a Channel handed to onChannel (the gateway
 * then runs the qi handshake, authentication and permissions as on tcp). Anything else is
 * refused at the `open`, before a qi byte is read. When the server goes away every channel
 * ends and the entry logs in again with exponential backoff.
 */
import { xml, type XmppClient } from "@xmpp/client";
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_HIGH_WATER_MARK } from "../channel.js";
import { TransportError } from "../errors.js";
import type { Listener, ListenOptions, OnChannel } from "../options.js";
import { formatUrl, type QiUrl } from "../url.js";
import { type Admit, IbbEndpoint } from "./endpoint.js";
import { bareOfText, fullOf, type Jid, jidOfUrl, parseJid } from "./jid.js";
import { createXmppClient, forceClose, login, serviceOf } from "./login.js";
import {
  DEFAULT_XMPP_RESOURCE,
  type ResolvedStreamLimits,
  resolveCaps,
  resolveStreamLimits,
  type XmppListenOptions,
} from "./options.js";
import { XmppChannel } from "./xmpp-channel.js";

export class XmppEntry implements Listener {
  readonly url: string;
  readonly port: number;
  private readonly account: Jid;
  private readonly allow: Set<string>;
  private readonly caps: { perJid: number; total: number };
  private readonly limits: ResolvedStreamLimits;
  private readonly service: string;
  private endpoint: IbbEndpoint | undefined;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    url: QiUrl,
    private readonly x: XmppListenOptions,
    private readonly opts: ListenOptions,
    private readonly onChannel: OnChannel,
  ) {
    this.account = jidOfUrl(url, x.resource ?? DEFAULT_XMPP_RESOURCE);
    // With the port: a client compares it with the URL it reached the directory at (endpoint choice).
    this.url = formatUrl({ ...url, path: `/${this.account.resource}` });
    this.port = url.port;
    if (!Array.isArray(x.allow))
      throw new TransportError("ERR_BAD_OPTIONS", "xmpp.allow must list the bare JIDs allowed in");
    this.allow = new Set(x.allow.map((j) => bareOfText(j) || parseJid(j, "xmpp.allow entry").domain));
    this.caps = resolveCaps(x);
    this.limits = resolveStreamLimits(x);
    this.service = serviceOf(this.account.domain, url.port, x);
    this.retryMs = x.reconnectMinMs ?? 500;
  }

  /** Logs in once; a failure here is the listen() error (bad password, untrusted certificate). */
  async start(): Promise<void> {
    await this.loginOnce();
  }

  endpoints(): string[] {
    return [this.url];
  }

  /** Channels open now (all JIDs). */
  get channelCount(): number {
    return this.endpoint?.size ?? 0;
  }

  get online(): boolean {
    return this.endpoint?.entity.status === "online";
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const ep = this.endpoint;
    this.endpoint = undefined;
    if (ep === undefined) return;
    const channels = ep.all();
    for (const ch of channels) ch.close();
    await Promise.all(channels.map((ch) => new Promise<void>((r) => ch.onClose(() => r()))));
    forceClose(ep.entity);
  }

  private async loginOnce(): Promise<void> {
    let endpoint: IbbEndpoint | undefined;
    const entity = createXmppClient(this.account, this.service, this.x, (e) => {
      this.opts.onError?.(e);
    });
    endpoint = new IbbEndpoint(entity, this.limits, (from, sid, blockSize) =>
      this.admit(endpoint as IbbEndpoint, from, sid, blockSize),
    );
    await login(entity, this.account, this.x);
    if (this.stopped) {
      forceClose(entity);
      return;
    }
    this.endpoint = endpoint;
    this.retryMs = this.x.reconnectMinMs ?? 500;
    entity.on("disconnect", () => this.lost(entity, endpoint as IbbEndpoint));
    // Initial presence: roster contacts see the robot online.
    await entity.send(xml("presence", {}, xml("status", {}, "qi gateway"))).catch(() => {});
    this.x.onEvent?.({ kind: "online", jid: fullOf(this.account) });
  }

  private lost(entity: XmppClient, endpoint: IbbEndpoint): void {
    if (this.endpoint !== endpoint) return;
    this.endpoint = undefined;
    endpoint.loseAll(new TransportError("ERR_CLOSED", `the XMPP server ${this.service} went away`));
    forceClose(entity);
    this.scheduleRetry("the XMPP server went away");
  }

  private scheduleRetry(reason: string): void {
    if (this.stopped) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.x.reconnectMaxMs ?? 30_000);
    this.x.onEvent?.({ kind: "offline", reason, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.loginOnce().catch((e: Error) => this.scheduleRetry(e.message));
    }, delay);
    this.retryTimer.unref();
  }

  private refuse(from: string, why: string, type: "cancel" | "wait" | "modify", condition: string) {
    this.x.onEvent?.({ kind: "refused", from, why });
    return { ok: false as const, type, condition };
  }

  private readonly admit = (
    endpoint: IbbEndpoint,
    from: string,
    sid: string,
    blockSize: number,
  ): ReturnType<Admit> => {
    const bare = bareOfText(from);
    if (bare === "" || !this.allow.has(bare))
      return this.refuse(from, "not on the allow-list", "cancel", "forbidden");
    if (blockSize > this.limits.blockSize) {
      return this.refuse(
        from,
        `block size ${blockSize} over ${this.limits.blockSize}`,
        "modify",
        "resource-constraint",
      );
    }
    const channels = endpoint.all();
    // One channel per remote full JID: a new open from the same resource replaces the old one
    // (a client that restarted with a fixed resource is not locked out until a timeout).
    for (const ch of channels) {
      if (ch.remoteUrl === `xmpp://${from}`)
        ch.destroy(new TransportError("ERR_CLOSED", `${from} opened a new session`));
    }
    const live = endpoint.all();
    if (live.filter((ch) => ch.remoteAddress === bare).length >= this.caps.perJid) {
      return this.refuse(
        from,
        `more than ${this.caps.perJid} channels from ${bare}`,
        "wait",
        "resource-constraint",
      );
    }
    if (live.length >= this.caps.total)
      return this.refuse(from, `more than ${this.caps.total} channels`, "wait", "resource-constraint");
    const channel = new XmppChannel({
      sender: endpoint.sender,
      remote: from,
      local: fullOf(this.account),
      sid,
      limits: { ...this.limits, blockSize },
      maxPayload: this.opts.maxPayload,
      highWaterMark: this.opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      closeTimeout: this.opts.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS,
    });
    // Handed over after the open's result has gone out: the peer sends nothing before it.
    queueMicrotask(() => {
      try {
        this.onChannel(channel);
      } catch (e) {
        channel.destroy(e as Error);
      }
    });
    return { ok: true, channel };
  };
}

export async function listenXmpp(url: QiUrl, opts: ListenOptions, onChannel: OnChannel): Promise<Listener> {
  const x = opts.xmpp;
  if (x === undefined || typeof x.password !== "string") {
    throw new TransportError(
      "ERR_BAD_OPTIONS",
      `${url.user}@${url.host}: an xmpp:// listener needs xmpp.password and xmpp.allow (from the config file)`,
    );
  }
  const entry = new XmppEntry(url, x, opts, onChannel);
  await entry.start();
  return entry;
}
