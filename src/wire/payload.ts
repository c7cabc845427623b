/**
 * Outgoing payloads that keep their large blocks by reference. Encoding a 1 MiB raw or a
 * camera frame used to copy it into the encoder's buffer before the socket copied it again;
 * a GatheredPayload is instead the list of parts to write back to back (the encoded bytes
 * around the blocks, and the caller's blocks themselves), and a socket channel hands them to
 * the kernel in one writev. A channel that needs one contiguous array (WebSocket frames, the
 * in-memory pair) reads `message.payload`, which concatenates the parts once, on first use.
 */
import type { Message, MessageHeader } from "./message-types.js";
import { concatParts } from "./writer.js";

/** An encoded payload as parts to send back to back; the blocks must not change until sent. */
export class GatheredPayload {
  constructor(
    readonly parts: readonly Uint8Array[],
    readonly byteLength: number,
  ) {}

  /** The parts in one new array (one copy). */
  toBytes(): Uint8Array {
    return concatParts(this.parts, this.byteLength);
  }
}

/** What the encoder hands to a connection: bytes, or gathered parts. */
export type Payload = Uint8Array | GatheredPayload;

/** A message whose payload travels as parts; `payload` is made from them on first read. */
class GatheredMessage implements Message {
  id: number;
  size?: number;
  version?: number;
  type: Message["type"];
  flags: number;
  service: number;
  object: number;
  action: number;
  readonly payloadParts: readonly Uint8Array[];
  private bytes: Uint8Array | undefined = undefined;
  private readonly gathered: GatheredPayload;

  constructor(header: MessageHeader, gathered: GatheredPayload) {
    this.id = header.id;
    this.size = header.size;
    this.version = header.version;
    this.type = header.type;
    this.flags = header.flags;
    this.service = header.service;
    this.object = header.object;
    this.action = header.action;
    this.payloadParts = gathered.parts;
    this.gathered = gathered;
  }

  get payload(): Uint8Array {
    this.bytes ??= this.gathered.toBytes();
    return this.bytes;
  }

  set payload(bytes: Uint8Array) {
    // A writer replaces the parts with these bytes (nobody does today; keep Message's contract).
    this.bytes = bytes;
    (this as { payloadParts: readonly Uint8Array[] }).payloadParts = [bytes];
  }
}

/**
 * The message `header` carrying `payload`: a plain Uint8Array is set on the header object
 * itself (no allocation, the common case); gathered parts make a message that keeps them.
 */
export function withPayload(header: MessageHeader & { payload?: Uint8Array }, payload: Payload): Message {
  if (payload instanceof Uint8Array) {
    header.payload = payload;
    return header as Message;
  }
  return new GatheredMessage(header, payload);
}
