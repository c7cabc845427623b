/**
 * One connection into a bridge port, from any YARP peer: a writer (`yarp write`, `yarp rpc`),
 * or a tool sending port commands (`yarp connect`, `yarp read /r <port>`, which ask the port
 * to add an output). Serves the tcp carrier (binary Bottles) and the text carriers
 * (`CONNECT`/`CONNACK`, one Bottle per line), one message at a time, in order.
 */
import type { Socket } from "node:net";
import { type Bottle, BottleError, decodeBottle, encodeBottle } from "./bottle.js";
import { bottleToText, textToBottle } from "./bottle-text.js";
import { ByteQueue } from "./byte-queue.js";
import { ACK, classifyOpening, readPortHeader, readYarpNumber, tcpOpeningReply } from "./carrier.js";

/** What a port does with what arrives. */
export interface InboundHandler {
  /** A data Bottle; resolves with the reply (sent only when the peer asked for one). */
  data(bottle: Bottle, from: string): Promise<Bottle | undefined>;
  /** An administrative Bottle (`[add] /reader`, `[del] /reader`, `[list] [out]`). */
  admin(bottle: Bottle, from: string): Promise<Bottle>;
  /** A text port command (`/reader`, `!/reader`, `*`); resolves with reply lines. */
  command(command: string, from: string): Promise<string[]>;
}

export interface InboundLimits {
  /** Largest message (or text line) accepted from a peer, bytes. */
  maxMessageBytes: number;
  /** Time a peer has to send its opening, ms. */
  openingTimeoutMs: number;
}

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

const HELP = [
  "This is a YARP port of the qi bridge. Commands, one per line:",
  "d       the next line is a Bottle for the port (a reply follows)",
  "do      the same, without a reply",
  "a       the next line is an administrative Bottle",
  "/port   send this port's output to /port",
  "!/port  stop sending output to /port",
  "*       describe this port",
  "q       close this connection",
];

export async function serveInbound(
  socket: Socket,
  handler: InboundHandler,
  limits: InboundLimits,
): Promise<void> {
  const q = new ByteQueue(socket, limits.maxMessageBytes + 64 * 1024);
  const opening = await withTimeout(q.read(8), limits.openingTimeoutMs);
  const kind = classifyOpening(opening);
  if (kind.kind === "unknown") throw new ProtocolError(`unsupported YARP connection: ${kind.detail}`);
  if (kind.kind === "text") {
    const from = (await withTimeout(q.readLine(1000), limits.openingTimeoutMs)).trim() || "external";
    socket.write(`Welcome ${from}\r\n`);
    await serveText(socket, q, handler, limits, from, kind.ack);
    return;
  }
  const lenBytes = await q.read(4);
  const nameLen = lenBytes.readInt32LE(0);
  if (nameLen < 1 || nameLen > 1000) throw new ProtocolError(`bad sender name length ${nameLen}`);
  const from = (await q.read(nameLen)).toString("utf8").replace(/\0+$/, "");
  socket.write(tcpOpeningReply(socket.localPort ?? 0));
  await serveTcp(socket, q, handler, limits, from, kind.ack);
}

async function serveTcp(
  socket: Socket,
  q: ByteQueue,
  handler: InboundHandler,
  limits: InboundLimits,
  from: string,
  ack: boolean,
): Promise<void> {
  for (;;) {
    const size = readYarpNumber(await q.read(8));
    if (size !== 10) throw new ProtocolError(`bad message index (${size})`);
    const index = await q.read(10);
    const blocks = index[0] + index[1];
    const lengths = await q.read(4 * blocks);
    let total = 0;
    for (let i = 0; i < blocks; i++) {
      const n = lengths.readInt32LE(4 * i);
      if (n < 0) throw new ProtocolError("negative block length");
      total += n;
    }
    if (total > limits.maxMessageBytes)
      throw new ProtocolError(`message of ${total} bytes is over the limit of ${limits.maxMessageBytes}`);
    const payload = await q.read(total);
    const header = readPortHeader(payload);
    let reply: Bottle | undefined;
    if (header.kind === "command") {
      if (header.command === "q") {
        if (ack) socket.write(ACK);
        socket.end();
        return;
      }
      await handler.command(header.command ?? "", from);
    } else if (header.kind === "a") {
      reply = await handler.admin(decodeBottle(header.body), from);
    } else if (header.kind === "d" || header.kind === "D" || header.kind === "raw") {
      const answer = await handler.data(decodeBottle(header.body), from);
      // A sender that asked for a reply reads one Bottle before the acknowledgement: always send one.
      if (header.kind === "d") reply = answer ?? [];
    } else {
      throw new ProtocolError(`unknown port header "${header.kind}"`);
    }
    // One segment for reply and acknowledgement: the peer waits for both.
    socket.cork();
    if (reply) for (const chunk of encodeBottle(reply)) socket.write(chunk);
    if (ack) socket.write(ACK);
    socket.uncork();
  }
}

async function serveText(
  socket: Socket,
  q: ByteQueue,
  handler: InboundHandler,
  limits: InboundLimits,
  from: string,
  ack: boolean,
): Promise<void> {
  const maxLine = limits.maxMessageBytes;
  const send = (lines: string[]) => {
    socket.write(lines.map((l) => `${l}\r\n`).join("") + (ack ? "<ACK>\r\n" : ""));
  };
  for (;;) {
    const line = (await q.readLine(maxLine)).trim();
    if (line === "q") {
      socket.end();
      return;
    }
    if (line === "d" || line === "do" || line === "D") {
      const bottle = parseLine(await q.readLine(maxLine));
      if (bottle instanceof Error) {
        send([`fail ${JSON.stringify(bottle.message)}`]);
        continue;
      }
      const answer = await handler.data(bottle, from);
      if (line === "d") send([bottleToText(answer ?? [])]);
      else if (ack) send([]);
    } else if (line === "a") {
      const bottle = parseLine(await q.readLine(maxLine));
      send([
        bottleToText(bottle instanceof Error ? [-1, bottle.message] : await handler.admin(bottle, from)),
      ]);
    } else if (line.startsWith("/") || line.startsWith("!") || line.startsWith("~") || line === "*") {
      send(await handler.command(line, from));
    } else if (line === "?" || line === "help") {
      send(HELP);
    } else {
      send(["Not a port command: type d then a Bottle, or ? for help."]);
    }
  }
}

function parseLine(line: string): Bottle | Error {
  try {
    return textToBottle(line);
  } catch (e) {
    if (e instanceof BottleError) return e;
    throw e;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProtocolError(`no YARP opening within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
