/**
 * What a program's environment says about where to connect: QI_URL, QI_USER, QI_TOKEN, the
 * variables the qi command reads, so a library user's `session.connect()` and `qi services`
 * reach the same place. Nothing in a browser (no process.env there).
 */
// connection/ file by file, as options.ts: its index pulls node:crypto into the browser bundle.
import { type ClientAuthenticator, UserTokenAuthenticator } from "../connection/auth.js";

export interface EnvironmentDefaults {
  url?: string;
  authenticator?: ClientAuthenticator;
}

export function environmentDefaults(
  env: Record<string, string | undefined> | undefined = typeof process === "undefined"
    ? undefined
    : process.env,
): EnvironmentDefaults {
  if (!env) return {};
  const url = env.QI_URL || undefined;
  const user = env.QI_USER || undefined;
  const token = env.QI_TOKEN || undefined;
  return {
    url,
    authenticator:
      user !== undefined || token !== undefined
        ? new UserTokenAuthenticator(user ?? "", token ?? "")
        : undefined,
  };
}
