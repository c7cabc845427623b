/**
 * Configuration files (JSON or YAML) and the pieces the gateway's and the Service Directory's
 * schemas share. Validation happens before anything listens: an unknown key or a wrong value
 * is reported with its path and what was expected.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError } from "./errors.js";

export const urlSchema = z
  .string()
  .regex(/^(tcp|tcps|tcpsm|ws|wss):\/\//, "a URL like tcp://host:port (tcp, tcps, tcpsm, ws or wss)");
export const hashedTokenSchema = z
  .string()
  .regex(/^scrypt\$\d+\$[0-9a-f]+\$[0-9a-f]+$/, "a hashed token (make one with `qi hash-token`)");
export const tlsSchema = z
  .strictObject({ cert: z.string(), key: z.string(), ca: z.string().optional() })
  .describe("PEM files of the listeners' identity; `ca` checks client certificates on tcpsm");
export const usersSchema = z.record(z.string(), z.strictObject({ token: hashedTokenSchema }));

export function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      file,
    );
  }
}

/** Reads a JSON (`.json`) or YAML (anything else) file. */
export function readConfigFile(file: string): unknown {
  const text = readText(file);
  try {
    return file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(
      `${file}: not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`,
      file,
    );
  }
}

/** Validates against a schema; the error lists every problem with its path. */
export function validate<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  file: string,
  what: string,
): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join(".") : "(top level)";
    return `  ${path}: ${issue.message}`;
  });
  throw new ConfigError(`${file} is not a valid ${what}:\n${lines.join("\n")}`, file);
}

/** Users from inline entries and an optional credentials file (paths relative to `at`). */
export function loadUsers(
  inline: z.infer<typeof usersSchema> | undefined,
  credentialsFile: string | undefined,
): z.infer<typeof usersSchema> {
  let users = inline ?? {};
  if (credentialsFile) {
    const creds = validate(
      z.strictObject({ users: usersSchema }),
      readConfigFile(credentialsFile),
      credentialsFile,
      "credentials file",
    );
    users = { ...users, ...creds.users };
  }
  return users;
}
