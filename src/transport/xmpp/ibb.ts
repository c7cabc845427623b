/**
 * In-Band Bytestreams (XEP-0047) as this transport uses them: iq stanzas only (each data
 * stanza is acknowledged by its iq result, which is our flow control), one bidirectional
 * stream per qi channel, each direction with its own 16-bit sequence number.
 */
import { xml, type XmlElement } from "@xmpp/client";

export const NS_IBB = "http://jabber.org/protocol/ibb";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** XEP-0047 §2.2: seq counts modulo 65 536. */
export function nextSeq(seq: number): number {
  return (seq + 1) & 0xffff;
}

export function openIq(to: string, sid: string, blockSize: number): XmlElement {
  return xml(
    "iq",
    { type: "set", to },
    xml("open", { xmlns: NS_IBB, sid, "block-size": blockSize, stanza: "iq" }),
  );
}

export function dataIq(to: string, sid: string, seq: number, bytes: Uint8Array): XmlElement {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  return xml("iq", { type: "set", to }, xml("data", { xmlns: NS_IBB, sid, seq }, b64));
}

export function closeIq(to: string, sid: string): XmlElement {
  return xml("iq", { type: "set", to }, xml("close", { xmlns: NS_IBB, sid }));
}

export type IqErrorType = "cancel" | "modify" | "wait" | "auth";

/** An `<error/>` child for an iq reply (RFC 6120 §8.3): what iqCallee sends back. */
export function iqError(type: IqErrorType, condition: string): XmlElement {
  return xml("error", { type }, xml(condition, { xmlns: NS_STANZAS }));
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 (Buffer.from would skip garbage silently); undefined when malformed. */
export function decodeBase64(text: string): Buffer | undefined {
  const t = text.trim();
  if (t.length % 4 !== 0 || !BASE64.test(t)) return undefined;
  return Buffer.from(t, "base64");
}

/** The sid and block size of an `<open/>`, undefined when malformed. */
export function parseOpen(el: XmlElement): { sid: string; blockSize: number } | undefined {
  const sid = el.attrs.sid ?? "";
  const blockSize = Number(el.attrs["block-size"]);
  if (
    !/^[A-Za-z0-9_-]{1,64}$/.test(sid) ||
    !Number.isInteger(blockSize) ||
    blockSize < 1 ||
    blockSize > 65_535
  ) {
    return undefined;
  }
  if ((el.attrs.stanza ?? "iq") !== "iq") return undefined;
  return { sid, blockSize };
}
