/**
 * One binary WebSocket message written from pieces (a CBOR head and a camera frame's pixels)
 * as ONE frame, straight to the socket under `ws`: the pieces are written by reference, and
 * the client gets a single frame. Sent as fragments instead (ws.send with fin: false), the
 * client's `ws` copies every fragment into one buffer again: the profile showed that copy as
 * the largest client cost on the camera path (about a third of a millisecond a frame).
 *
 * Safe beside `ws`'s own sends because our listeners turn compression off: without it `ws`
 * writes each message to the socket at once and queues nothing, so messages keep their order,
 * and `ws.bufferedAmount` (the socket's unwritten bytes) still counts these ones.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** The socket under each WebSocket our listeners upgraded (listener.ts records it). */
const sockets = new WeakMap<WebSocket, Duplex>();

export function rememberSocket(ws: WebSocket, socket: Duplex): void {
  sockets.set(ws, socket);
}

const OPEN = 1;
const FIN_BINARY = 0x82;

/** A server's frame header (unmasked) for a payload of `length` bytes. */
export function binaryFrameHeader(length: number): Uint8Array {
  if (length < 126) return Uint8Array.of(FIN_BINARY, length);
  if (length < 0x10000) return Uint8Array.of(FIN_BINARY, 126, length >>> 8, length & 0xff);
  const header = Buffer.allocUnsafe(10);
  header[0] = FIN_BINARY;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/**
 * Sends `pieces` as one binary message; `written` runs once the socket took the last byte (or
 * at once when the socket is gone: there is nothing left to wait for).
 */
export function sendPieces(ws: WebSocket, pieces: readonly Uint8Array[], written: () => void): void {
  const socket = sockets.get(ws);
  if (socket === undefined) {
    // Not one of our listeners' sockets: the fragments of one message, through ws.
    const last = pieces.length - 1;
    for (let i = 0; i < last; i++) ws.send(pieces[i]!, { binary: true, fin: false });
    ws.send(pieces[last] ?? new Uint8Array(0), { binary: true, fin: true }, () => written());
    return;
  }
  if (ws.readyState !== OPEN || socket.destroyed || !socket.writable) {
    written();
    return;
  }
  let length = 0;
  for (const p of pieces) length += p.byteLength;
  const parts = [binaryFrameHeader(length), ...pieces.filter((p) => p.byteLength > 0)];
  const last = parts.length - 1;
  // One writev for the lot. The callback runs on success and on failure alike (a socket that
  // failed is closing anyway, and its client's queues with it).
  socket.cork();
  for (let i = 0; i < last; i++) socket.write(parts[i]!);
  socket.write(parts[last]!, () => written());
  socket.uncork();
}
