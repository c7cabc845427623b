/**
 * A synchronous client, for scripts, REPLs and debugging sessions: calls block and return their
 * values directly. Each SyncSession owns one worker thread (started by synckit) that holds a real
 * async Session; the main thread posts a request and sleeps in Atomics.wait until the answer.
 *
 *   const sd = connectSync("tcp://127.0.0.1:9559");
 *   const calc = sd.service("Calc");
 *   calc.call<number>("add", 2, 3); // 5
 *   sd.close();
 *
 * Values cross the thread as qi wire bytes, so they arrive as the async API's classes (Raw,
 * Struct, Dynamic, bigint, …), and errors as QiError with the same code, message and `remote`.
 * While a call blocks, the calling thread runs nothing else: a service it hosts itself cannot
 * answer, and signals are not delivered (there is no subscription API here).
 */
import { fileURLToPath } from "node:url";
import { startWorkerThread } from "synckit";
import { QiError } from "../connection/index.js";
import { FIRST_USER_MEMBER } from "../object/index.js";
import { DEFAULT_CONNECT_URL } from "../session/index.js";
import { type ServiceInfo, serviceInfoFromValue } from "../session/index.js";
import { decodeMetaObject } from "../wire/index.js";
import type { MetaObject } from "../wire/index.js";
import {
  packArgs,
  packValue,
  reviveError,
  type SyncReply,
  type SyncRequest,
  unpackValue,
} from "./protocol.js";

export const DEFAULT_SYNC_TIMEOUT_MS = 30_000;
/** Extra wait on the main thread beyond the worker's own timeout, for a worker that is stuck. */
const BACKSTOP_MS = 5_000;

export interface SyncConnectOptions {
  /** Credentials for robots that require them (NAOqi 2.9+). */
  user?: string;
  token?: string;
  /** Longest any blocking call may take, connecting included (default 30 s): then ERR_TIMEOUT. */
  timeoutMs?: number;
  /** Accept any TLS certificate (tcps:// robots with self-signed certificates). */
  insecure?: boolean;
}

type Send = (req: SyncRequest) => SyncReply;

// From sources (vitest, tsx) this module is sync-client.ts and the worker entry must first
// register tsx; from dist/ it is sync-client.js and the compiled worker.js loads as is.
function workerPath(): string {
  const here = import.meta.url;
  return fileURLToPath(
    new URL(/\.[cm]?ts$/.test(new URL(here).pathname) ? "./worker-tsx.mjs" : "./worker.js", here),
  );
}

function startWorker(timeoutMs: number): Send {
  // Not createSyncFn: it caches one worker per path for the whole process, and each session
  // needs its own (its own Session, timeout and lifetime).
  const fn = startWorkerThread<Send>(workerPath(), {
    timeout: timeoutMs + BACKSTOP_MS,
    execArgv: [],
  });
  return (req) => {
    try {
      return fn(req);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (/timed-out/.test(message))
        throw new QiError(
          "ERR_TIMEOUT",
          `sync ${req.op} got no answer from its worker within ${timeoutMs + BACKSTOP_MS} ms`,
        );
      throw new QiError("ERR_DISCONNECTED", `sync worker failed: ${message}`, { cause: e });
    }
  };
}

function unwrap(reply: SyncReply): Extract<SyncReply, { ok: true }> {
  if (!reply.ok) throw reviveError(reply.error);
  return reply;
}

/** Connects to a Service Directory and blocks until connected (or throws, like Session.connect). */
export function connectSync(
  url: string = DEFAULT_CONNECT_URL,
  options: SyncConnectOptions = {},
): SyncSession {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
  const send = startWorker(timeoutMs);
  try {
    unwrap(
      send({
        op: "connect",
        url,
        user: options.user,
        token: options.token,
        timeoutMs,
        insecure: options.insecure,
      }),
    );
  } catch (e) {
    try {
      send({ op: "close" });
    } catch {
      // the worker is gone already
    }
    throw e;
  }
  return new SyncSession(send, url);
}

export class SyncSession {
  #send: Send | undefined;
  readonly #url: string;

  /** @internal use connectSync */
  constructor(send: Send, url: string) {
    this.#send = send;
    this.#url = url;
  }

  /** The URL given to connectSync. */
  get url(): string {
    return this.#url;
  }

  get isClosed(): boolean {
    return this.#send === undefined;
  }

  /** @internal */
  request(req: SyncRequest): Extract<SyncReply, { ok: true }> {
    if (!this.#send) throw new QiError("ERR_CLOSED", "sync session closed");
    return unwrap(this.#send(req));
  }

  services(): ServiceInfo[] {
    const list = unpackValue(this.request({ op: "services" }).value as Uint8Array) as unknown[];
    return list.map(serviceInfoFromValue);
  }

  /** A proxy of the named service (QiError ERR_NO_SUCH_SERVICE, like the async API, if absent). */
  service(name: string): SyncObject {
    return SyncObject.fromReply(this, this.request({ op: "service", name }));
  }

  /** Closes the session and ends its worker. Idempotent. */
  close(): void {
    const send = this.#send;
    if (!send) return;
    this.#send = undefined;
    unwrap(send({ op: "close" }));
  }
}

export class SyncProperty<T = unknown> {
  constructor(
    private readonly owner: SyncObject,
    readonly name: string,
  ) {}

  get(): T {
    return this.owner.request({ op: "getProperty", handle: this.owner.handle, name: this.name }) as T;
  }

  set(value: T): void {
    this.owner.request({
      op: "setProperty",
      handle: this.owner.handle,
      name: this.name,
      value: packValue(value),
    });
  }
}

export class SyncObject {
  readonly metaObject: MetaObject;
  #released = false;

  private constructor(
    private readonly session: SyncSession,
    /** The proxy's handle in the worker. */
    readonly handle: number,
    metaObject: MetaObject,
  ) {
    this.metaObject = metaObject;
  }

  /** @internal */
  static fromReply(session: SyncSession, reply: Extract<SyncReply, { ok: true }>): SyncObject {
    if (!reply.object) throw new QiError("ERR_PROTOCOL", "sync worker answered without an object");
    return new SyncObject(session, reply.object.handle, decodeMetaObject(reply.object.metaObject));
  }

  /** @internal sends a request; returns the decoded value (a SyncObject for an object). */
  request(req: SyncRequest): unknown {
    if (this.#released) throw new QiError("ERR_CLOSED", `sync object #${this.handle} was released`);
    const reply = this.session.request(req);
    if (reply.object) return SyncObject.fromReply(this.session, reply);
    return reply.value === undefined ? undefined : unpackValue(reply.value);
  }

  /** Calls a method by name (`name` or `name::(sig)`), blocking until the answer. */
  call<T = unknown>(name: string, ...args: unknown[]): T {
    return this.request({ op: "call", handle: this.handle, name, args: packArgs(args) }) as T;
  }

  property<T = unknown>(name: string): SyncProperty<T> {
    if (![...this.metaObject.properties.values()].some((p) => p.name === name))
      throw new QiError("ERR_NO_SUCH_MEMBER", `no property "${name}" on sync object #${this.handle}`);
    return new SyncProperty<T>(this, name);
  }

  /** Names of the object's own methods (not the reserved ones below uid 100), each once. */
  methods(): string[] {
    const own = [...this.metaObject.methods.values()].filter((m) => m.uid >= FIRST_USER_MEMBER);
    return [...new Set(own.sort((a, b) => a.uid - b.uid).map((m) => m.name))];
  }

  /** Drops the worker's proxy (objects other than a service's main object are released remotely). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (!this.session.isClosed) this.session.request({ op: "release", handle: this.handle });
  }
}
