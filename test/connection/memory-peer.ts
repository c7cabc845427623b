/**
 * Socket-free fixtures for the connection's parts: a Connection on one end of a memoryChannelPair
 * and, on the other, either another Connection or a MemoryPeer — a qi peer written by hand that
 * sends and receives raw messages, so a test sees every message the Connection writes.
 */
import { AUTH_STATE_KEY, AuthState } from "../../src/connection/auth.js";
import { DEFAULT_CAPABILITIES } from "../../src/connection/capabilities.js";
import {
  AUTHENTICATE_ACTION,
  Connection,
  type ConnectionOptions,
  encodeCapabilityMap,
  SERVER_SERVICE,
} from "../../src/connection/index.js";
import { type MemoryChannel, memoryChannelPair } from "../../src/transport/memory-channel.js";
import { decode, encode } from "../../src/wire/codec.js";
import { type Message, MessageType } from "../../src/wire/message-types.js";
import { Dynamic } from "../../src/wire/values.js";

let nextId = 5_000_000;

export class MemoryPeer {
  readonly received: Message[] = [];
  readonly closed: Promise<Error | undefined>;
  private waiters: Array<{ pred: (m: Message) => boolean; resolve: (m: Message) => void }> = [];

  constructor(readonly channel: MemoryChannel) {
    channel.onMessage((m) => {
      this.received.push(m);
      for (const w of [...this.waiters]) {
        if (!w.pred(m)) continue;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    });
    this.closed = new Promise((resolve) => channel.onClose(resolve));
  }

  get isClosed(): boolean {
    return this.channel.closed;
  }

  freshId(): number {
    return nextId++;
  }

  send(m: Partial<Message> & { type: MessageType }): number {
    const id = m.id ?? this.freshId();
    this.channel.send({
      id,
      type: m.type,
      flags: m.flags ?? 0,
      service: m.service ?? 1,
      object: m.object ?? 1,
      action: m.action ?? 100,
      payload: m.payload ?? new Uint8Array(0),
    });
    return id;
  }

  /** The first message received (already, or from now on) that `pred` accepts. */
  next(pred: (m: Message) => boolean): Promise<Message> {
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** The answer (Reply, Error or Canceled) to the call with this id. */
  answerTo(id: number): Promise<Message> {
    return this.next((m) => m.id === id && isAnswer(m));
  }

  /** Sends a Call and waits for its answer. */
  async call(m: Partial<Message> = {}): Promise<Message> {
    const id = this.send({ ...m, type: MessageType.Call });
    return this.answerTo(id);
  }

  /** As a client: the authenticate call with our capabilities (and `data`), answered. */
  authenticate(
    data: Map<string, unknown> = new Map(),
    capabilities = DEFAULT_CAPABILITIES,
  ): Promise<Message> {
    const map = new Map<string, unknown>(capabilities);
    for (const [k, v] of data) map.set(`auth_${k}`, v);
    return this.call({
      service: SERVER_SERVICE,
      object: 0,
      action: AUTHENTICATE_ACTION,
      payload: encodeCapabilityMap(map),
    });
  }

  /** As a server: answers the client's authenticate call Done, with our capabilities. */
  async acceptAuthenticate(capabilities = DEFAULT_CAPABILITIES): Promise<Message> {
    const call = await this.next((m) => m.type === MessageType.Call && m.action === AUTHENTICATE_ACTION);
    const reply = new Map<string, unknown>([[AUTH_STATE_KEY, new Dynamic("I", AuthState.Done)]]);
    for (const [k, v] of capabilities) reply.set(k, v);
    this.send({ ...call, type: MessageType.Reply, payload: encodeCapabilityMap(reply) });
    return call;
  }

  /** Answers a call of the Connection's. */
  reply(call: Message, type: MessageType = MessageType.Reply, payload: Uint8Array = new Uint8Array(0)): void {
    this.send({ ...call, type, payload });
  }
}

export function isAnswer(m: Message): boolean {
  return m.type === MessageType.Reply || m.type === MessageType.Error || m.type === MessageType.Canceled;
}

/** The text of an Error message (a dynamic string, spec §1.3). */
export function errorTextOf(m: Message): string {
  const d = decode("m", m.payload);
  return String(d instanceof Dynamic ? d.value : d);
}

export function u32(n: number): Uint8Array {
  return encode("I", n);
}

/** A server Connection and a raw client on the other end, not authenticated yet. */
export function serverAndRawClient(options: Partial<ConnectionOptions> = {}): {
  conn: Connection;
  peer: MemoryPeer;
} {
  const [a, b] = memoryChannelPair({ names: ["mem://client", "mem://server"] });
  const conn = new Connection(b, { ...options, role: "server" });
  return { conn, peer: new MemoryPeer(a) };
}

/** A server Connection with a raw client that authenticated. */
export async function readyServer(
  options: Partial<ConnectionOptions> = {},
): Promise<{ conn: Connection; peer: MemoryPeer }> {
  const pair = serverAndRawClient(options);
  await pair.peer.authenticate();
  await pair.conn.ready();
  return pair;
}

/** A client Connection and a raw server on the other end that accepts its authenticate call. */
export async function readyClient(
  options: Partial<ConnectionOptions> = {},
): Promise<{ conn: Connection; peer: MemoryPeer }> {
  const [a, b] = memoryChannelPair({ names: ["mem://client", "mem://server"] });
  const peer = new MemoryPeer(b);
  const conn = new Connection(a, { ...options, role: "client" });
  await peer.acceptAuthenticate();
  await conn.ready();
  return { conn, peer };
}

/** Two Connections, client and server, over a memory pair, both ready. */
export async function connectionPair(
  server: Partial<ConnectionOptions> = {},
  client: Partial<ConnectionOptions> = {},
): Promise<{ client: Connection; server: Connection }> {
  const [a, b] = memoryChannelPair({ names: ["mem://client", "mem://server"] });
  const s = new Connection(b, { ...server, role: "server" });
  const c = new Connection(a, { ...client, role: "client" });
  await Promise.all([s.ready(), c.ready()]);
  return { client: c, server: s };
}
