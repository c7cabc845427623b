/**
 * Reading a TCP socket into memory the reader chooses (pull mode), for accepted sockets too.
 *
 * Node offers this as `net.connect({ onread })` only: a socket a server accepts always gets
 * chunks Node allocated, which the framer then copies into each large payload's buffer. The
 * `onread` machinery is the same for every net.Socket though: three fields on the socket (the
 * buffer, the generator of the next one, the callback) and `useUserBuffer` on its handle. This
 * module sets them on a socket that already exists, found by their names, and says no (the
 * caller stays in push mode, with 'data' events) wherever they are not what Node 18–22 has:
 * TLS sockets (their handle reads for the TLS layer), a socket without a handle, another Node.
 */
import type { Socket } from "node:net";

export interface PullReader {
  /** Where the next bytes go (called once now, then after each read). */
  buffer(): Uint8Array;
  /** `n` bytes were written at the start of the last buffer; false stops reading. */
  commit(n: number): boolean;
}

interface OnreadKeys {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

interface StreamHandle {
  reading?: boolean;
  useUserBuffer?: (buf: Uint8Array) => void;
  readStart?: () => number;
  readStop?: () => number;
}

let keys: OnreadKeys | null | undefined;

/**
 * What every pulled socket of this thread reads into between payloads: each read is copied
 * out before the next one runs (Framer's sharedReadBuffer), so an idle connection holds no
 * read buffer.
 */
let sharedReadBuffer: Uint8Array | undefined;
export function sharedRead(): Uint8Array {
  sharedReadBuffer ??= Buffer.allocUnsafeSlow(64 * 1024);
  return sharedReadBuffer;
}

/** The socket fields behind `onread`, by their symbols' names (null when not all are there). */
function onreadKeys(socket: Socket): OnreadKeys | null {
  if (keys !== undefined) return keys;
  const byName = new Map<string, symbol>();
  for (const sym of Object.getOwnPropertySymbols(socket)) byName.set(sym.description ?? "", sym);
  const buffer = byName.get("kBuffer");
  const callback = byName.get("kBufferCb");
  const generator = byName.get("kBufferGen");
  keys = buffer && callback && generator ? { buffer, callback, generator } : null;
  return keys;
}

function handleOf(socket: Socket): StreamHandle | undefined {
  return (socket as unknown as { _handle?: StreamHandle | null })._handle ?? undefined;
}

/**
 * Switches `socket` to reading into `reader`'s buffers; false (nothing changed) where this
 * Node or this socket does not allow it. Bytes Node buffered before the switch are handed to
 * `early` first. 'end', 'close' and 'error' events are unchanged; 'data' events stop.
 */
export function pullFrom(socket: Socket, reader: PullReader, early: (chunk: Buffer) => void): boolean {
  if ((socket as { encrypted?: boolean }).encrypted) return false;
  const handle = handleOf(socket);
  if (handle?.useUserBuffer === undefined || handle.readStart === undefined) return false;
  const k = onreadKeys(socket);
  if (k === null) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[k.buffer] !== null && fields[k.buffer] !== undefined) return false; // already pulled
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null)
    early(chunk);
  const first = reader.buffer();
  fields[k.generator] = () => reader.buffer();
  fields[k.callback] = (n: number) => reader.commit(n);
  // Node keeps the current buffer here (the handle holds only its address): it must stay set.
  fields[k.buffer] = first;
  handle.useUserBuffer(first);
  // Flowing mode without 'data' listeners, so that 'end' is emitted at the peer's FIN.
  socket.resume();
  return true;
}

/** Stops reading a pulled socket now (the next read is not made, unlike after pause()). */
export function stopPulling(socket: Socket): void {
  const handle = handleOf(socket);
  if (handle === undefined || !handle.reading) return;
  handle.reading = false;
  handle.readStop?.();
}

/** Reads a pulled socket again after stopPulling() or a commit that returned false. */
export function resumePulling(socket: Socket): void {
  const handle = handleOf(socket);
  if (handle === undefined || handle.reading || socket.destroyed) return;
  handle.reading = true;
  const err = handle.readStart?.() ?? 0;
  if (err !== 0) socket.destroy(new Error(`cannot read from the socket (libuv error ${err})`));
}
