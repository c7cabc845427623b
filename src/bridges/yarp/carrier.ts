/**
 * The byte layouts of YARP's `tcp` carrier (doc/yarp_protocol.dox, AbstractCarrier.cpp):
 *
 * - a "yarp number" is 8 bytes: `Y` `A`, an int32 little-endian, `R` `P`;
 * - a connection opens with the carrier's specifier as a yarp number (7777 + 3 for tcp, +128
 *   when the receiver acknowledges each message: `YA E4 1E 00 00 RP`), then the sender's name
 *   (int32 length counting a final NUL, the name, NUL); the receiver answers with a yarp number
 *   (its socket port, unused);
 * - a message is an index (the yarp number 10, then 10 bytes: block count, reply-block count
 *   and eight 0xFF, then each block's int32 length and a 0 reply length) and its blocks; the
 *   first block is the 8-byte port header {int32 n, `~`, CHAR, 0, 1}: CHAR `d` is data that
 *   wants a reply, `D` data that does not, `a` an administrative Bottle, 0 a port command of n
 *   bytes (`q`, `/port`, `!/port`, `*`);
 * - a reply is the reply Bottle's bytes, then the acknowledgement: a yarp number giving how
 *   many further bytes follow (0).
 *
 * The text carriers open with `CONNECT ` or `CONNACK ` (acknowledged) and a name line.
 */

export const YARP_NUMBER_BYTES = 8;
const SPECIFIER_BASE = 7777;
const TCP = 3;
const ACK_FLAG = 128;

export function yarpNumber(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.write("YA", 0, "latin1");
  b.writeInt32LE(n, 2);
  b.write("RP", 6, "latin1");
  return b;
}

/** The int in a yarp number, or undefined when the 8 bytes are not one. */
export function readYarpNumber(b: Uint8Array): number | undefined {
  if (b.length !== 8 || b[0] !== 0x59 || b[1] !== 0x41 || b[6] !== 0x52 || b[7] !== 0x50) return undefined;
  return Buffer.from(b.buffer, b.byteOffset, 8).readInt32LE(2);
}

/** What the first 8 bytes of an incoming connection ask for. */
export type Opening =
  | { kind: "tcp"; ack: boolean }
  | { kind: "text"; ack: boolean }
  | { kind: "unknown"; detail: string };

export function classifyOpening(first8: Buffer): Opening {
  const text = first8.toString("latin1");
  if (text === "CONNECT ") return { kind: "text", ack: false };
  if (text === "CONNACK ") return { kind: "text", ack: true };
  const n = readYarpNumber(first8);
  if (n !== undefined) {
    const specifier = n - SPECIFIER_BASE;
    // fast_tcp shares tcp's layout without acknowledgements (specifier 3, no ack flag).
    if ((specifier & 0x7f) === TCP) return { kind: "tcp", ack: (specifier & ACK_FLAG) !== 0 };
    return { kind: "unknown", detail: `carrier specifier ${specifier} (only tcp and text are served)` };
  }
  return { kind: "unknown", detail: `opening bytes ${JSON.stringify(text)}` };
}

/** The opening a sender writes: tcp with acknowledgements, then its name. */
export function tcpOpening(senderName: string): Buffer {
  const name = Buffer.from(`${senderName}\0`, "utf8");
  const len = Buffer.alloc(4);
  len.writeInt32LE(name.length, 0);
  return Buffer.concat([yarpNumber(SPECIFIER_BASE + TCP + ACK_FLAG), len, name]);
}

/** The receiver's answer to a tcp opening: its socket port as a yarp number. */
export function tcpOpeningReply(localPort: number): Buffer {
  return yarpNumber(localPort & 0xffff);
}

export const ACK = yarpNumber(0);

/** The 8-byte first block of a message: `~` and what follows (`d`, `D`, `a`, or 0 for a command). */
export function portHeader(kind: "d" | "D" | "a" | "command", commandBytes = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32LE(commandBytes, 0);
  b[4] = 0x7e;
  b[5] = kind === "command" ? 0 : kind.charCodeAt(0);
  b[6] = 0;
  b[7] = 1;
  return b;
}

/** The index of a message whose blocks have these lengths. */
export function messageIndex(blockLengths: readonly number[]): Buffer {
  if (blockLengths.length > 255) throw new Error("a YARP message has at most 255 blocks");
  const index = Buffer.alloc(8 + 10 + 4 * blockLengths.length + 4);
  yarpNumber(10).copy(index, 0);
  index[8] = blockLengths.length;
  index[9] = 1;
  index.fill(0xff, 10, 18);
  blockLengths.forEach((n, i) => {
    index.writeInt32LE(n, 18 + 4 * i);
  });
  index.writeInt32LE(0, 18 + 4 * blockLengths.length);
  return index;
}

/** A data message carrying one encoded Bottle (its chunks form one block, written in order). */
export function dataMessage(bottleChunks: readonly Uint8Array[], wantsReply: boolean): Uint8Array[] {
  const total = bottleChunks.reduce((n, c) => n + c.length, 0);
  return [messageIndex([8, total]), portHeader(wantsReply ? "d" : "D"), ...bottleChunks];
}

/** A port command (`q` to close politely). */
export function commandMessage(command: string): Uint8Array[] {
  const text = Buffer.from(`${command}\0`, "utf8");
  const block = Buffer.concat([portHeader("command", text.length), text]);
  return [messageIndex([block.length]), block];
}

/** The port header of a received message: what it is and where its content starts. */
export function readPortHeader(payload: Buffer): { kind: string; command?: string; body: Buffer } {
  if (payload.length < 8 || payload[4] !== 0x7e) return { kind: "raw", body: payload };
  const ch = payload[5];
  if (ch === 0) {
    const n = Math.max(0, Math.min(payload.readInt32LE(0), payload.length - 8));
    const command = payload.toString("utf8", 8, 8 + n).replace(/\0+$/, "");
    return { kind: "command", command, body: payload.subarray(8 + n) };
  }
  return { kind: String.fromCharCode(ch), body: payload.subarray(8) };
}
