/**
 * What every part of a connection says on the wire besides the payloads it carries: the
 * address of a message, the Server service of the handshake (spec §5.1), error payloads
 * (spec §1.3), Cancel payloads (spec §5.5) and the `{sm}` capability map (spec §5.2).
 */
import { decode, encode } from "../wire/index.js";
import type { Message } from "../wire/index.js";
import { Dynamic } from "../wire/index.js";
import { toWireMap } from "./capabilities.js";
import { QiError } from "./errors.js";

/** Service 0 is the connection's own "Server" service; its action 8 is authenticate. */
export const SERVER_SERVICE = 0;
export const AUTHENTICATE_ACTION = 8;
export const EMPTY_PAYLOAD = new Uint8Array(0);
const CAPABILITY_MAP_SIGNATURE = "{sm}";
/** The answer libqi gives to a request nobody serves. */
export const UNHANDLED_REQUEST = "The call request could not be handled.";

export interface Address {
  service: number;
  object: number;
  action: number;
}

/** A string key for (service, object), for the maps of the object layer. */
export function addressKey(service: number, object: number): string {
  return `${service}.${object}`;
}

export function addressDetails(a: Address): { service: number; object: number; action: number } {
  return { service: a.service, object: a.object, action: a.action };
}

export function canceledError(a: Address): QiError {
  return new QiError("ERR_CANCELED", "call canceled", addressDetails(a));
}

/** The id of the Call a Cancel message asks to cancel (its u32 payload, spec §1.3), if it has one. */
export function canceledCallId(msg: Message): number | undefined {
  if (msg.payload.byteLength < 4) return undefined;
  return new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getUint32(0, true);
}

/** The payload of a Cancel message: the id of the call to cancel. */
export function cancelPayload(id: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, id, true);
  return payload;
}

export function encodeErrorPayload(text: string): Uint8Array {
  return encode("m", new Dynamic("s", text));
}

/** Error payloads are a dynamic holding a string (spec §1.3); be lenient with anything else. */
export function decodeErrorPayload(payload: Uint8Array): string {
  try {
    const d = decode("m", payload);
    const v = d instanceof Dynamic ? d.value : d;
    return typeof v === "string" ? v : String(v);
  } catch {
    return "(undecodable error payload)";
  }
}

export function encodeCapabilityMap(map: ReadonlyMap<string, unknown>): Uint8Array {
  return encode(CAPABILITY_MAP_SIGNATURE, toWireMap(map));
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A call on a connection that is closed already. */
export function closedConnectionError(peer: string, address: Address, cause: Error | undefined): QiError {
  return new QiError("ERR_DISCONNECTED", `connection to ${peer} is closed`, {
    ...addressDetails(address),
    peer,
    cause,
  });
}
