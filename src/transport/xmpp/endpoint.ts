/**
 * One logged-in XMPP account carrying in-band bytestreams: it answers IBB `open` / `data` /
 * `close` iqs, routes data to the channel of (remote full JID, sid), and ends channels whose
 * peer went offline (the unavailable presence a server sends for directed presence, RFC 6121
 * §4.6.3) or when the login itself is lost. Who may open a stream is the owner's decision
 * (`admit`): the gateway's entry checks its allow-list and caps, a client admits nobody.
 */
import type { XmppClient } from "@xmpp/client";
import { xml } from "@xmpp/client";
import { TransportError } from "../errors.js";
import { decodeBase64, iqError, NS_IBB, parseOpen } from "./ibb.js";
import type { ResolvedStreamLimits } from "./options.js";
import type { XmppChannel } from "./xmpp-channel.js";

/** The owner's answer to an `open`: a channel's settings, or the refusal sent back. */
export type Admit = (
  from: string,
  sid: string,
  blockSize: number,
) =>
  | { ok: true; channel: XmppChannel }
  | { ok: false; type: "cancel" | "modify" | "wait" | "auth"; condition: string };

export class IbbEndpoint {
  private readonly channels = new Map<string, XmppChannel>();

  constructor(
    readonly entity: XmppClient,
    readonly limits: ResolvedStreamLimits,
    private readonly admit: Admit,
  ) {
    entity.iqCallee.set(NS_IBB, "open", (ctx) => this.onOpen(ctx.stanza.attrs.from, ctx.element));
    entity.iqCallee.set(NS_IBB, "data", async (ctx) => this.onData(ctx.stanza.attrs.from, ctx.element));
    entity.iqCallee.set(NS_IBB, "close", (ctx) => this.onClose(ctx.stanza.attrs.from, ctx.element));
    entity.on("stanza", (s: { is(n: string): boolean; attrs: Record<string, string | undefined> }) => {
      if (s.is("presence") && s.attrs.type === "unavailable" && s.attrs.from) this.peerGone(s.attrs.from);
    });
  }

  /** The sender a channel of this login uses. */
  readonly sender = {
    request: (iq: Parameters<XmppClient["iqCaller"]["request"]>[0], timeoutMs: number) =>
      this.entity.iqCaller.request(iq, timeoutMs),
  };

  get size(): number {
    return this.channels.size;
  }

  all(): XmppChannel[] {
    return [...this.channels.values()];
  }

  /** Tracks a channel (opened by this side or admitted) until it closes. */
  add(from: string, channel: XmppChannel): void {
    const key = `${from}\n${channel.sid}`;
    this.channels.set(key, channel);
    channel.onClose(() => {
      if (this.channels.get(key) === channel) this.channels.delete(key);
    });
  }

  private onOpen(from: string | undefined, el: Parameters<typeof parseOpen>[0]) {
    const open = parseOpen(el);
    if (from === undefined || open === undefined) return iqError("modify", "bad-request");
    if (this.channels.has(`${from}\n${open.sid}`)) return iqError("cancel", "conflict");
    const verdict = this.admit(from, open.sid, open.blockSize);
    if (!verdict.ok) return iqError(verdict.type, verdict.condition);
    this.add(from, verdict.channel);
    // Directed presence: the server tells us (unavailable) when this peer goes offline, and it
    // learns the same of us.
    this.entity.send(xml("presence", { to: from })).catch(() => {});
    return true;
  }

  private async onData(from: string | undefined, el: Parameters<typeof parseOpen>[0]) {
    const channel = from === undefined ? undefined : this.channels.get(`${from}\n${el.attrs.sid ?? ""}`);
    if (channel === undefined) return iqError("cancel", "item-not-found");
    const seq = Number(el.attrs.seq);
    const bytes = decodeBase64(el.text());
    if (!Number.isInteger(seq) || bytes === undefined) {
      channel.lost(new TransportError("ERR_SOCKET", `${channel.remoteUrl}: malformed data block`));
      return iqError("modify", "bad-request");
    }
    const verdict = await channel.receive(seq, bytes);
    return verdict.ok ? true : iqError("cancel", verdict.condition);
  }

  private onClose(from: string | undefined, el: Parameters<typeof parseOpen>[0]) {
    const channel = from === undefined ? undefined : this.channels.get(`${from}\n${el.attrs.sid ?? ""}`);
    if (channel === undefined) return iqError("cancel", "item-not-found");
    channel.lost(new TransportError("ERR_CLOSED", `connection ${channel.remoteUrl} closed by peer`));
    return true;
  }

  /** Every channel to this full JID (or, for a bare JID, to any of its resources) ends. */
  peerGone(jid: string): void {
    for (const [key, channel] of this.channels) {
      const from = key.slice(0, key.indexOf("\n"));
      if (from === jid || from.startsWith(`${jid}/`)) {
        channel.lost(
          new TransportError("ERR_CLOSED", `connection ${channel.remoteUrl} closed: the peer went offline`),
        );
      }
    }
  }

  /** The login is gone: every channel ends with `reason`. */
  loseAll(reason: Error): void {
    for (const channel of [...this.channels.values()]) channel.lost(reason);
    this.channels.clear();
  }
}
