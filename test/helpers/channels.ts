/** Small helpers for tests that use transport channels over real loopback sockets. */
import type { Channel } from "../../src/transport/channel.js";
import { connect } from "../../src/transport/connect.js";
import { listen } from "../../src/transport/listen.js";
import type { ConnectOptions, Listener, ListenOptions } from "../../src/transport/options.js";
import { type Message, MessageType } from "../../src/wire/message-types.js";

export function makeMessage(id: number, payload: Uint8Array, extra: Partial<Message> = {}): Message {
  return { id, type: MessageType.Call, flags: 0, service: 1, object: 1, action: 100, payload, ...extra };
}

/** Deterministic pseudo-random bytes. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Resolves with the next `n` messages of `ch` (copies of their payloads). */
export function collect(ch: Channel, n: number, timeoutMs = 15_000): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const got: Message[] = [];
    if (n === 0) {
      resolve(got);
      return;
    }
    const timer = setTimeout(() => reject(new Error(`collect: got ${got.length}/${n} messages`)), timeoutMs);
    const off = ch.onMessage((m) => {
      got.push({ ...m, payload: new Uint8Array(m.payload) }); // a plain copy (sockets deliver Buffers)
      if (got.length === n) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
  });
}

/** Resolves with the close reason of `ch` (and counts how often onClose fired). */
export function closedWith(ch: Channel): Promise<Error | undefined> & { calls: () => number } {
  let calls = 0;
  const p = new Promise<Error | undefined>((resolve) => {
    ch.onClose((reason) => {
      calls++;
      resolve(reason);
    });
  }) as Promise<Error | undefined> & { calls: () => number };
  p.calls = () => calls;
  return p;
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A promise with an external resolve. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export interface Pair {
  listener: Listener;
  client: Channel;
  server: Channel;
  close(): Promise<void>;
}

/** Listens on `listenUrl`, connects to the listener's URL, returns both ends. */
export async function channelPair(
  listenUrl = "tcp://127.0.0.1:0",
  listenOpts: ListenOptions = {},
  connectOpts: ConnectOptions = {},
  connectUrl?: (l: Listener) => string,
): Promise<Pair> {
  const accepted = deferred<Channel>();
  const listener = await listen(listenUrl, listenOpts, (ch) => accepted.resolve(ch));
  try {
    const client = await connect(connectUrl ? connectUrl(listener) : listener.url, connectOpts);
    const server = await accepted.promise;
    return {
      listener,
      client,
      server,
      async close() {
        client.destroy();
        server.destroy();
        await listener.close();
      },
    };
  } catch (e) {
    await listener.close();
    throw e;
  }
}
