/**
 * A service main object that is not served here but forwarded elsewhere as raw messages: the
 * gateway registers services of its external clients in the internal Service Directory with
 * one of these (libqi's gateway re-hosted such services; we forward the bytes, spec §7).
 */
import type { Connection } from "../connection/index.js";
import type { Message } from "../wire/index.js";

export interface RequestForwarder {
  /** 20-byte identity published as ServiceInfo.objectUid. */
  readonly uid: Uint8Array;
  /** A Call, Post or Cancel addressed to this service, arrived on `from`. */
  forwardRequest(msg: Message, from: Connection): void;
}

export function isRequestForwarder(x: unknown): x is RequestForwarder {
  return typeof (x as Partial<RequestForwarder> | undefined)?.forwardRequest === "function";
}
