/**
 * Splits a byte stream into messages (spec §1.1): 28-byte header, then `size` payload bytes,
 * back to back, nothing else.
 *
 * An explicit two-state machine over the incoming chunks:
 *
 *   HEADER   collecting the 28 header bytes. Fast path: when a whole header sits in the current
 *            chunk it is decoded in place; only a header split across chunks is gathered in a
 *            28-byte scratch buffer.
 *   PAYLOAD  collecting the payload of a header that is already known and validated. Its buffer
 *            is allocated once, with exactly `size` bytes, and each chunk is copied into it once.
 *
 * A payload that lies inside a single chunk is delivered as a subarray view of that chunk
 * (zero copy: `payload.buffer === chunk.buffer`). Callers must therefore not reuse a chunk's memory
 * after pushing it (Node sockets never do).
 *
 * Two ways to feed it:
 *   push(chunk)                 for 'data' events: a payload split across chunks is copied once.
 *   readBuffer()/commitRead(n)  for sockets that read into caller memory (Node's `onread`; every
 *                               TCP SocketChannel, see transport/socket-pull.ts): a large
 *                               pending payload is itself handed out as the read target, so the
 *                               kernel writes into it and the framer copies nothing. On a TCP
 *                               loopback with 1 MiB payloads this runs at pipe speed, where push
 *                               mode, whose extra copy into fresh memory is as costly as the
 *                               kernel's, reaches about 60–75% (bench/wire.bench.ts).
 *
 * Errors are fatal (spec §1.7: no resynchronisation after bad magic): the first WireError is
 * thrown from push and the framer is dead; every later push throws that same error. If the
 * onMessage callback throws, its exception propagates out of push and also kills the framer (the
 * rest of that chunk cannot be resumed reliably). Error offsets are positions in the whole stream.
 *
 * No Node APIs: runs unchanged in browsers.
 */
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE, type Message } from "./message-types.js";
import type { FramerOptions } from "./framer-options.js";
import { messageAt, validateHeaderAt } from "./header.js";

export type { FramerOptions } from "./framer-options.js";

const defaultAllocate = (size: number): Uint8Array => new Uint8Array(size);

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;
const STATE_DEAD = 2;

const EMPTY = new Uint8Array(0);

export class Framer {
  private readonly onMessage: (m: Message) => void;
  private maxPayload: number;
  private readonly strictFlags: boolean;
  private readonly allocate: (size: number) => Uint8Array;

  private state = STATE_HEADER;
  /** Stream position of the first byte of the current chunk. */
  private streamPos = 0;
  /** Header bytes gathered in `scratch` (only when a header straddles chunks). */
  private headerFill = 0;
  /**
   * Gathers a header that straddles chunks; made when one does and dropped once it is
   * complete, so that a framer between messages holds no buffer (10,000 idle connections).
   */
  private scratch: Uint8Array | undefined = undefined;
  /** The message being assembled in STATE_PAYLOAD (payload = its exactly sized buffer). */
  private pending: Message | undefined = undefined;
  private payloadFill = 0;
  private error: unknown = undefined;
  private inPush = false;
  private readonly readBufferSize: number;
  private readonly directReadMin: number;
  /** The buffer last handed out by readBuffer() and not yet committed. */
  private target: Uint8Array | undefined = undefined;
  /** `target` is the rest of the pending payload (bytes land in place, no push needed). */
  private targetDirect = false;
  private readonly lazyPayloadMin: number;
  /**
   * The pending payload's bytes received so far, as views of their chunks, while its buffer
   * is not allocated yet (a large payload in push mode); undefined otherwise.
   */
  private parts: Uint8Array[] | undefined = undefined;
  private partsSize = 0;
  private readonly eagerPayloadMax: number;
  private readonly sharedRead: Uint8Array | undefined;
  /**
   * The chunk being pushed is the shared read buffer (commitShared): nothing may keep a view
   * of it past the push. Only a message it starts and does not end is pushed that way.
   */
  private transient = false;

  constructor(onMessage: (m: Message) => void, opts: FramerOptions = {}) {
    const maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!(maxPayload >= 0)) throw new RangeError(`Framer: bad maxPayload ${maxPayload}`);
    this.onMessage = onMessage;
    this.maxPayload = maxPayload;
    this.strictFlags = opts.strictFlags ?? false;
    this.allocate = opts.allocate ?? defaultAllocate;
    this.readBufferSize = opts.readBufferSize ?? 64 * 1024;
    this.directReadMin = opts.directReadMin ?? 16 * 1024;
    this.lazyPayloadMin = opts.lazyPayloadMin ?? 256 * 1024;
    this.eagerPayloadMax = opts.eagerPayloadMax ?? 4 * 1024 * 1024;
    this.sharedRead = opts.sharedReadBuffer;
    if (this.sharedRead !== undefined && this.sharedRead.length === 0)
      throw new RangeError("Framer: empty sharedReadBuffer");
    if (!(this.readBufferSize >= 1))
      throw new RangeError(`Framer: bad readBufferSize ${this.readBufferSize}`);
  }

  /**
   * Bytes of the current, not yet complete message received so far (header and payload bytes);
   * 0 at a message boundary.
   */
  get bufferedBytes(): number {
    if (this.state === STATE_PAYLOAD) return HEADER_SIZE + this.payloadFill;
    return this.headerFill;
  }

  /**
   * Bytes of memory this framer keeps referenced: a straddling header's scratch, the pending
   * payload's buffer or the chunks kept for it, the readBuffer() target. 0 between messages.
   */
  get heldBytes(): number {
    let n = this.scratch === undefined ? 0 : HEADER_SIZE;
    if (this.parts !== undefined) for (const p of this.parts) n += p.byteLength;
    else if (this.pending !== undefined) n += this.pending.payload.byteLength;
    // The shared read buffer is the process's, not this framer's.
    if (this.target !== undefined && !this.targetDirect && this.target !== this.sharedRead)
      n += this.target.byteLength;
    return n;
  }

  /** The error that killed this framer, if any. */
  get failure(): unknown {
    return this.error;
  }

  get isDead(): boolean {
    return this.state === STATE_DEAD;
  }

  /** Feed the next chunk of the stream; onMessage runs synchronously for each completed message. */
  /**
   * Changes the payload limit for messages whose header has not been read yet (a connection
   * accepts only handshake-sized messages before authentication, then its full limit).
   */
  setMaxPayload(limit: number): void {
    if (!(limit >= 0)) throw new RangeError(`Framer: bad maxPayload ${limit}`);
    this.maxPayload = limit;
  }

  push(chunk: Uint8Array): void {
    if (this.state === STATE_DEAD) throw this.error;
    if (this.target !== undefined && this.targetDirect) {
      throw new Error(
        "Framer.push while a readBuffer() payload target is outstanding; call commitRead first",
      );
    }
    if (this.inPush) {
      // A synchronous push from inside onMessage would reorder the stream.
      throw new Error("Framer.push called re-entrantly from onMessage");
    }
    this.inPush = true;
    try {
      this.run(chunk);
    } catch (e) {
      this.state = STATE_DEAD;
      this.error = e;
      this.pending = undefined;
      this.parts = undefined;
      throw e;
    } finally {
      this.inPush = false;
    }
  }

  /**
   * Pull-mode input, for sockets that read into caller-provided memory (Node:
   * `net.connect({ onread: { buffer: () => framer.readBuffer(), callback: (n) => framer.commitRead(n) } })`).
   * Returns where the next bytes of the stream should be written: while a large payload is being
   * assembled, the unfilled rest of that payload buffer (the socket then fills it directly and the
   * framer copies nothing); otherwise a fresh buffer of `readBufferSize` bytes, handled like a
   * pushed chunk (so payloads inside it are zero-copy views, and it is never reused). Calling it
   * again before commitRead returns the same memory.
   */
  readBuffer(): Uint8Array {
    if (this.state === STATE_DEAD) throw this.error;
    if (this.state === STATE_PAYLOAD && (this.parts === undefined || this.eagerEnough())) {
      this.materialize();
      const payload = this.pending!.payload;
      if (payload.length - this.payloadFill >= this.directReadMin) {
        this.targetDirect = true;
        this.target = payload.subarray(this.payloadFill);
        return this.target;
      }
    }
    if (this.target === undefined || this.targetDirect) {
      this.targetDirect = false;
      this.target = this.sharedRead ?? this.allocate(this.readBufferSize);
    }
    return this.target;
  }

  /** `n` bytes were written at the start of the buffer last returned by readBuffer(). */
  commitRead(n: number): void {
    const target = this.target;
    if (this.state === STATE_DEAD) throw this.error;
    if (target === undefined) throw new Error("Framer.commitRead without readBuffer");
    if (!(n >= 0 && n <= target.length && Math.floor(n) === n)) {
      throw new RangeError(`Framer.commitRead: ${n} bytes do not fit a ${target.length}-byte buffer`);
    }
    this.target = undefined;
    if (!this.targetDirect) {
      if (target !== this.sharedRead || n === 0) {
        this.push(n === target.length ? target : target.subarray(0, n));
        return;
      }
      this.commitShared(target, n);
      return;
    }
    this.targetDirect = false;
    if (this.inPush) throw new Error("Framer.commitRead called re-entrantly from onMessage");
    this.inPush = true;
    try {
      this.streamPos += n;
      this.payloadFill += n;
      const msg = this.pending!;
      if (this.payloadFill === msg.payload.length) {
        this.pending = undefined;
        this.payloadFill = 0;
        this.state = STATE_HEADER;
        this.onMessage(msg);
      }
    } catch (e) {
      this.state = STATE_DEAD;
      this.error = e;
      this.pending = undefined;
      this.parts = undefined;
      throw e;
    } finally {
      this.inPush = false;
    }
  }

  /**
   * A read into the shared buffer, which the next read (of any socket) overwrites. The
   * messages it completes move, as before, to one buffer of their own (their payloads are
   * views of it). A large message it only starts (header here, payload going on in later
   * reads) does not: its payload buffer is allocated now and its first bytes are copied
   * straight from the shared buffer into it, so they are copied once, like the rest of it,
   * which the socket then reads in place.
   */
  private commitShared(shared: Uint8Array, n: number): void {
    const tail = this.incompleteTail(shared, n);
    if (tail < 0) {
      const own = this.allocate(n);
      own.set(n === shared.length ? shared : shared.subarray(0, n));
      this.push(own);
      return;
    }
    if (tail > 0) {
      const own = this.allocate(tail);
      own.set(shared.subarray(0, tail));
      this.push(own);
    }
    this.transient = true;
    try {
      this.push(shared.subarray(tail, n));
    } finally {
      this.transient = false;
    }
  }

  /**
   * Where, in the first `n` bytes of `chunk`, starts a message whose whole header is there
   * but whose payload goes on past them (0 too when all n bytes belong to the payload being
   * assembled, which copies them); -1 when there is none (the read ends on a message
   * boundary or inside a header) or the framer is not at a point this scan can start from
   * (inside a header gathered from earlier reads, or a payload kept as parts). Header fields
   * are only read here; push() validates them.
   */
  private incompleteTail(chunk: Uint8Array, n: number): number {
    let pos = 0;
    if (this.state === STATE_PAYLOAD) {
      if (this.parts !== undefined) return -1;
      pos = this.pending!.payload.length - this.payloadFill;
      if (pos >= n) return 0;
    } else if (this.state !== STATE_HEADER || this.headerFill > 0) return -1;
    while (pos + HEADER_SIZE <= n) {
      const size =
        (chunk[pos + 8] | (chunk[pos + 9] << 8) | (chunk[pos + 10] << 16) | (chunk[pos + 11] << 24)) >>> 0;
      const end = pos + HEADER_SIZE + size;
      if (end > n) return size > this.maxPayload ? -1 : pos;
      pos = end;
    }
    return -1;
  }

  private allocPayload(size: number): Uint8Array {
    const payload = this.allocate(size);
    if (payload.length !== size) {
      throw new RangeError(`Framer: allocate(${size}) returned ${payload.length} bytes`);
    }
    return payload;
  }

  /** A payload that continues past this chunk; `first` is its start (maybe empty). */
  private startPayload(header: Message, first: Uint8Array): void {
    const size = header.size ?? 0;
    this.state = STATE_PAYLOAD;
    this.payloadFill = first.length;
    if (size > this.lazyPayloadMin && !(this.transient && size <= this.eagerPayloadMax)) {
      this.parts = first.length > 0 ? [this.transient ? this.copyOf(first) : first] : [];
      this.partsSize = size;
      this.pending = header;
      return;
    }
    const payload = this.allocPayload(size);
    payload.set(first, 0);
    header.payload = payload;
    this.pending = header;
  }

  /**
   * A copy of a transient chunk's bytes (the shared read buffer is overwritten by the next
   * read). Not `slice()`: on a Node Buffer, which the shared buffer is, that is a view.
   */
  private copyOf(bytes: Uint8Array): Uint8Array {
    const copy = this.allocate(bytes.length);
    copy.set(bytes);
    return copy;
  }

  /** A lazily kept payload may get its buffer (pull mode): it is small enough, or half here. */
  private eagerEnough(): boolean {
    return this.partsSize <= this.eagerPayloadMax || this.payloadFill * 2 >= this.partsSize;
  }

  /** Gives the pending payload its buffer now, with the bytes received so far copied in. */
  private materialize(): void {
    const parts = this.parts;
    if (parts === undefined) return;
    const payload = this.allocPayload(this.partsSize);
    let at = 0;
    for (const part of parts) {
      payload.set(part, at);
      at += part.length;
    }
    this.parts = undefined;
    this.partsSize = 0;
    this.pending!.payload = payload;
  }

  private run(chunk: Uint8Array): void {
    const len = chunk.length;
    const base = this.streamPos;
    this.streamPos = base + len;
    let pos = 0;
    while (pos < len) {
      if (this.state === STATE_PAYLOAD) {
        const msg = this.pending!;
        if (this.parts !== undefined) {
          // Large payload, not allocated yet: keep views of the chunks until it is complete.
          const need = this.partsSize - this.payloadFill;
          const take = Math.min(need, len - pos);
          this.parts.push(pos === 0 && take === len ? chunk : chunk.subarray(pos, pos + take));
          this.payloadFill += take;
          pos += take;
          if (this.payloadFill < this.partsSize) return;
          this.materialize();
          this.pending = undefined;
          this.payloadFill = 0;
          this.state = STATE_HEADER;
          this.onMessage(msg);
          continue;
        }
        const payload = msg.payload;
        const need = payload.length - this.payloadFill;
        const avail = len - pos;
        if (avail < need) {
          payload.set(pos === 0 ? chunk : chunk.subarray(pos), this.payloadFill);
          this.payloadFill += avail;
          return;
        }
        payload.set(chunk.subarray(pos, pos + need), this.payloadFill);
        pos += need;
        this.pending = undefined;
        this.payloadFill = 0;
        this.state = STATE_HEADER;
        this.onMessage(msg);
        continue;
      }

      // STATE_HEADER
      if (this.headerFill === 0 && len - pos >= HEADER_SIZE) {
        // Fast path: the whole header is in this chunk.
        const size = validateHeaderAt(chunk, pos, this.maxPayload, this.strictFlags, base + pos);
        const start = pos + HEADER_SIZE;
        const end = start + size;
        if (end <= len) {
          const msg = messageAt(chunk, pos, size, chunk.subarray(start, end));
          pos = end;
          this.onMessage(msg);
          continue;
        }
        // Payload continues in later chunks: allocate it once, exactly sized (size already
        // passed the limit check), or, when large, once it has arrived.
        this.startPayload(messageAt(chunk, pos, size, EMPTY), chunk.subarray(start, len));
        return;
      }

      // Slow path: gather a header that straddles chunks.
      const take = Math.min(HEADER_SIZE - this.headerFill, len - pos);
      if (this.scratch === undefined) this.scratch = new Uint8Array(HEADER_SIZE);
      const scratch = this.scratch;
      for (let i = 0; i < take; i++) scratch[this.headerFill + i] = chunk[pos + i];
      this.headerFill += take;
      pos += take;
      if (this.headerFill < HEADER_SIZE) return;
      this.headerFill = 0;
      this.scratch = undefined;
      const headerStart = base + pos - HEADER_SIZE;
      const size = validateHeaderAt(scratch, 0, this.maxPayload, this.strictFlags, headerStart);
      if (size === 0) {
        this.onMessage(messageAt(scratch, 0, 0, EMPTY));
        continue;
      }
      const avail = len - pos;
      if (avail >= size) {
        // Header was split but the payload is entirely in this chunk: still a view.
        const msg = messageAt(scratch, 0, size, chunk.subarray(pos, pos + size));
        pos += size;
        this.onMessage(msg);
        continue;
      }
      this.startPayload(messageAt(scratch, 0, size, EMPTY), chunk.subarray(pos, len));
      return;
    }
  }
}
