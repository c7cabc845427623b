/** Message header fields (spec §1.2–1.4). */
export const MessageType = {
  None: 0,
  Call: 1,
  Reply: 2,
  Error: 3,
  Post: 4,
  Event: 5,
  Capability: 6,
  Cancel: 7,
  Canceled: 8,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const MessageFlags = {
  None: 0,
  DynamicPayload: 0x01,
  ReturnType: 0x02,
} as const;

export const HEADER_SIZE = 28;
/** 42 DE AD 42 on the wire. */
export const MAGIC_BYTES = Uint8Array.of(0x42, 0xde, 0xad, 0x42);
/** Default payload limit: libqi 2.5's default (spec §1.7). Configurable everywhere it is used. */
export const DEFAULT_MAX_PAYLOAD = 50_000_000;

export interface MessageHeader {
  id: number;
  /** payload length; filled in by the encoder from payload.byteLength */
  size?: number;
  version?: number;
  type: MessageType;
  flags: number;
  service: number;
  object: number;
  action: number;
}

export interface Message extends MessageHeader {
  /** A view of the received bytes (never copied when it arrived in one chunk). */
  payload: Uint8Array;
  /**
   * Outgoing only, when set: the payload as parts to write back to back, large blocks by
   * reference (see payload.ts); `payload` is then their concatenation, made on first read.
   */
  readonly payloadParts?: readonly Uint8Array[];
}
