/**
 * The gateway's configuration file (JSON or YAML), validated before anything listens: an
 * unknown key or a wrong value is reported with its path and what was expected.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UserTokenAuthenticator } from "../connection/auth.js";
import { GatewayAuthProvider } from "./credentials.js";
import type { GatewayOptions } from "./gateway.js";

const ruleSet = z.strictObject({
  allow: z.array(z.string()).optional(),
  deny: z.array(z.string()).optional(),
});
const userPermissions = z.strictObject({
  services: ruleSet.optional(),
  call: ruleSet.optional(),
  subscribe: ruleSet.optional(),
  write: ruleSet.optional(),
});
const url = z.string().regex(/^(tcp|tcps|tcpsm):\/\//, "a URL like tcp://host:port, tcps://… or tcpsm://…");
const hashedToken = z
  .string()
  .regex(/^scrypt\$\d+\$[0-9a-f]+\$[0-9a-f]+$/, "a hashed token (make one with `qi hash-token`)");

export const gatewayConfigSchema = z.strictObject({
  attach: url.optional(),
  listen: z.array(url).min(1),
  tls: z
    .strictObject({ cert: z.string(), key: z.string(), ca: z.string().optional() })
    .optional()
    .describe("PEM files of the listeners' identity; `ca` checks client certificates on tcpsm"),
  auth: z
    .strictObject({
      anonymous: z.boolean().default(false),
      users: z.record(z.string(), z.strictObject({ token: hashedToken })).optional(),
      credentials: z.string().optional().describe("a JSON/YAML file with { users: { name: { token } } }"),
      certificateUsers: z.array(z.string()).optional(),
      rateLimit: z
        .strictObject({ maxFailures: z.number().int().positive(), windowMs: z.number().int().positive() })
        .partial()
        .optional(),
    })
    .default({ anonymous: false }),
  upstream: z
    .strictObject({
      user: z.string().optional(),
      token: z.string().optional(),
      ca: z.string().optional(),
      insecure: z.boolean().optional(),
    })
    .optional(),
  permissions: z
    .strictObject({
      users: z.record(z.string(), userPermissions).optional(),
      default: userPermissions.optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      maxPendingCalls: z.number().int().positive(),
      maxQueuedBytes: z.number().int().positive(),
      hardQueuedBytes: z.number().int().positive(),
      maxPayload: z.number().int().positive(),
    })
    .partial()
    .optional(),
  metrics: z
    .string()
    .regex(/^\[?[^\]]*\]?:\d+$/, "host:port")
    .optional(),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export class ConfigError extends Error {
  readonly code = "ERR_CONFIG";
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Reads, parses and validates a config file. */
export function loadGatewayConfig(file: string): GatewayConfig {
  const text = readText(file);
  let raw: unknown;
  try {
    raw = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(
      `${file}: not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`,
      file,
    );
  }
  return validateGatewayConfig(raw, file);
}

export function validateGatewayConfig(raw: unknown, file = "config"): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join(".") : "(top level)";
    return `  ${path}: ${issue.message}`;
  });
  throw new ConfigError(`${file} is not a valid gateway configuration:\n${lines.join("\n")}`, file);
}

/** Turns a validated config into gateway options (reading the PEM and credentials files). */
export function gatewayOptionsFromConfig(config: GatewayConfig, file: string): GatewayOptions {
  const base = dirname(resolve(file));
  const at = (p: string) => resolve(base, p);
  let users = config.auth.users ?? {};
  if (config.auth.credentials) {
    const credFile = at(config.auth.credentials);
    const text = readText(credFile);
    const parsed = (credFile.endsWith(".json") ? JSON.parse(text) : parseYaml(text)) as unknown;
    const creds = z
      .strictObject({ users: z.record(z.string(), z.strictObject({ token: hashedToken })) })
      .safeParse(parsed);
    if (!creds.success) {
      throw new ConfigError(
        `${credFile}: ${creds.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        credFile,
      );
    }
    users = { ...users, ...creds.data.users };
  }
  const anonymous = config.auth.anonymous;
  const hasCredentials = Object.keys(users).length > 0 || (config.auth.certificateUsers ?? []).length > 0;
  if (!anonymous && !hasCredentials) {
    throw new ConfigError(
      `${file}: auth needs users, credentials or certificateUsers (or anonymous: true)`,
      file,
    );
  }
  return {
    attach: config.attach,
    listen: config.listen,
    tls: config.tls
      ? {
          cert: readText(at(config.tls.cert)),
          key: readText(at(config.tls.key)),
          ca: config.tls.ca ? readText(at(config.tls.ca)) : undefined,
        }
      : undefined,
    allowAnonymous: anonymous,
    authProvider: hasCredentials
      ? new GatewayAuthProvider(users, {
          ...config.auth.rateLimit,
          certificateUsers: config.auth.certificateUsers,
        })
      : undefined,
    upstreamAuthenticator:
      config.upstream?.user !== undefined
        ? new UserTokenAuthenticator(config.upstream.user, config.upstream.token ?? "")
        : undefined,
    upstreamTls: config.upstream
      ? {
          ca: config.upstream.ca ? readText(at(config.upstream.ca)) : undefined,
          insecureAcceptAnyCertificate: config.upstream.insecure,
        }
      : undefined,
    permissions: config.permissions,
    limits: config.limits,
    maxPayload: config.limits?.maxPayload,
    metricsAddress: config.metrics,
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      file,
    );
  }
}
