/**
 * A call whose real outcome is kept past an abort (InvokeOptions.outcome). A Cancel is a
 * request (libqi 4.0.5, spec §5.5): the callee answers Canceled only if its method stopped, and
 * a method that ignores the cancel still returns its result. The Cancel is sent with the
 * connection's late-answer hook, and the late Reply, Error or Canceled decides the outcome.
 */
import type { Address, Connection } from "../connection/index.js";
import { isQiError, QiError } from "../connection/errors.js";
import { type Dynamic, decode, type Message, MessageType, type Payload } from "../wire/index.js";

/** What a canceled call really came to, as its callee answered. */
export type CallOutcome =
  | { status: "returned"; value: unknown }
  | { status: "failed"; error: QiError }
  | { status: "canceled" };

export function watchedCall<T>(
  conn: Connection,
  address: Address,
  call: { payload: Payload; flags: number; name: string },
  signal: AbortSignal,
  watch: "wait" | ((outcome: CallOutcome) => void),
  timeoutMs: number | undefined,
  decodeReply: (m: Message) => T,
): Promise<T> {
  const { id, answer } = conn.startCall(address, call.payload, { flags: call.flags, timeoutMs });
  let abandoned = false;
  const real = new Promise<T>((resolve, reject) => {
    const settle = (m: Message) => {
      try {
        resolve(decodeReply(m));
      } catch (e) {
        reject(e);
      }
    };
    const settleLate = (m: Message) => {
      if (m.type === MessageType.Reply) settle(m);
      else if (m.type === MessageType.Error)
        reject(new QiError("ERR_REMOTE", errorText(m.payload), { remote: true, peer: conn.peer }));
      else reject(new QiError("ERR_CANCELED", `${call.name}: the callee stopped on the cancel`));
    };
    const onAbort = () => {
      abandoned = true;
      // The connection forgets late answers when it closes: the outcome is then unknowable.
      const waiting = awaitingLate(conn);
      const lost = (reason: Error) =>
        reject(new QiError("ERR_DISCONNECTED", `outcome of ${call.name} unknown: ${reason.message}`));
      waiting.add(lost);
      conn.cancelCall(id, new QiError("ERR_CANCELED", `${call.name} canceled`), (m) => {
        waiting.delete(lost);
        settleLate(m);
      });
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    answer.then(
      (m) => {
        signal.removeEventListener("abort", onAbort);
        settle(m);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        if (!abandoned) reject(e);
      },
    );
  });
  if (watch === "wait") return real;
  real.then(
    (value) => watch({ status: "returned", value }),
    (error: QiError) =>
      watch(isQiError(error, "ERR_CANCELED") ? { status: "canceled" } : { status: "failed", error }),
  );
  // The web meaning of an abort: the caller's promise rejects now.
  return Promise.race([
    real,
    new Promise<never>((_, reject) => {
      const now = () => reject(new QiError("ERR_CANCELED", `${call.name} canceled`));
      if (signal.aborted) now();
      else signal.addEventListener("abort", now, { once: true });
    }),
  ]);
}

const lateByConn = new WeakMap<Connection, Set<(reason: Error) => void>>();

/** Canceled calls of a connection waiting for their real answer; one close hook per connection. */
function awaitingLate(conn: Connection): Set<(reason: Error) => void> {
  let set = lateByConn.get(conn);
  if (set === undefined) {
    const made = new Set<(reason: Error) => void>();
    set = made;
    lateByConn.set(conn, made);
    conn.onClose((reason) => {
      for (const lost of made) lost(reason);
      made.clear();
    });
  }
  return set;
}

/** The text of an Error answer (a dynamic holding a string, spec §1.3). */
function errorText(payload: Uint8Array): string {
  try {
    const d = decode("m", payload) as Dynamic;
    return typeof d.value === "string" ? d.value : String(d.value);
  } catch {
    return "unreadable error";
  }
}
