/**
 * The value model. Plain JS where JS has a natural match:
 *   b → boolean; c C w W i I f d → number; l L → bigint; s → string; [T] #T → Array;
 *   {KV} → Map; (…) without struct annotation → Array (tuple); v → undefined.
 * Small classes where it has none: Dynamic (m), Struct (annotated tuple), Optional (+T),
 * Raw (r), ObjectRef (o).
 */
import type { MetaObject } from "./metaobject-types.js";
import { releasePayload } from "./payload-pool.js";

/** A value together with its own signature: the wire type `m`. `signature === ""` is the empty dynamic. */
export class Dynamic {
  constructor(
    readonly signature: string,
    readonly value: unknown,
  ) {}
  static readonly EMPTY = new Dynamic("", undefined);
}

/**
 * An annotated tuple `(…)<Name,field,…>`. `fields` maps field name → value in declaration order.
 * Encoding by a signature with names matches fields by name (spec §2.2 struct versioning):
 * missing fields take their type's default, extra fields are dropped.
 */
export class Struct {
  constructor(
    readonly name: string,
    readonly fields: Record<string, unknown>,
  ) {}
}

/** `+T`: present or absent. */
export class Optional<T = unknown> {
  private constructor(
    readonly hasValue: boolean,
    readonly value: T | undefined,
  ) {}
  static of<T>(value: T): Optional<T> {
    return new Optional<T>(true, value);
  }
  static readonly NONE = new Optional<never>(false, undefined);
}

/**
 * `r`: opaque bytes. Decoded, `bytes` is a view into the received message (no copy). Sent
 * (a call argument, a result, a signal argument), bytes of 16 KiB or more go to the socket by
 * reference, not copied, like a Buffer given to socket.write: treat them as immutable once
 * handed over (a call's are sent by the time it settles; a result's or an event's may stay
 * queued while the peer reads slowly).
 */
export class Raw {
  constructor(readonly bytes: Uint8Array) {}

  /**
   * Done with a received Raw: the memory of the message it came in (256 KiB or more) may hold
   * the next one, which saves the page faults and garbage collections of fresh memory (a 1 MiB
   * echo ran about twice as fast, bench/node.bench.ts). Opt-in and safe: the memory is only
   * reused once writes that send it are done, and then `bytes`, and every other view of that
   * message (other Raws or ByteStrings decoded from it), become empty; they never show another
   * message's bytes. A Raw the application made, or a small one, is left alone.
   */
  release(): void {
    releasePayload(this.bytes);
  }
}

/**
 * An `s` whose bytes are not valid UTF-8 (libqi does no charset check; e.g. ServiceInfo.objectUid
 * holds 20 binary bytes). Decoded strings become a ByteString instead of a lossy JS string, and
 * the encoder writes its bytes unchanged. `bytes` is usually a view into the received message.
 */
export class ByteString {
  constructor(readonly bytes: Uint8Array) {}
  /** Lossy text form (invalid sequences become U+FFFD). */
  toString(): string {
    return new TextDecoder().decode(this.bytes);
  }
}

/**
 * `o`: a reference to an object hosted by some peer: where to reach it (serviceId, objectId),
 * its MetaObject, and its 20-byte uid (spec §2.6). objectId 0 is the null object.
 */
export class ObjectRef {
  constructor(
    readonly metaObject: MetaObject,
    readonly serviceId: number,
    readonly objectId: number,
    readonly uid: Uint8Array | undefined,
  ) {}
  get isNull(): boolean {
    return this.objectId === 0;
  }
}
