/** Login attempts for the ops security cases: many at once over real sockets, classified by answer. */
import { UserTokenAuthenticator } from "../../src/connection/index.js";
import { Session } from "../../src/session/index.js";
import type { Credentials } from "./harness.js";

export type Outcome = "logged in" | "checked and refused" | "refused unchecked" | "other error";

/** One login attempt on its own connection (closed before it resolves). */
export async function tryLogin(
  url: string,
  who: Credentials,
): Promise<{ outcome: Outcome; message: string }> {
  const s = new Session({ authenticator: new UserTokenAuthenticator(who.user, who.token) });
  try {
    await s.connect(url);
    return { outcome: "logged in", message: "" };
  } catch (e) {
    const message = (e as Error).message;
    if (/invalid user or token/.test(message)) return { outcome: "checked and refused", message };
    if (/too many failed attempts|busy checking/.test(message))
      return { outcome: "refused unchecked", message };
    return { outcome: "other error", message };
  } finally {
    await s.close().catch(() => {});
  }
}

/** `count` attempts, `parallel` at a time; `who(i)` the credentials of the i-th. */
export async function tryLogins(
  url: string,
  count: number,
  parallel: number,
  who: (i: number) => Credentials,
): Promise<Array<{ outcome: Outcome; message: string }>> {
  const results: Array<{ outcome: Outcome; message: string }> = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await tryLogin(url, who(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return results;
}

export function tally(results: Array<{ outcome: Outcome }>): Record<Outcome, number> {
  const t: Record<Outcome, number> = {
    "logged in": 0,
    "checked and refused": 0,
    "refused unchecked": 0,
    "other error": 0,
  };
  for (const r of results) t[r.outcome]++;
  return t;
}
