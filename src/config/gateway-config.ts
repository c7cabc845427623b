/**
 * The gateway's configuration file (JSON or YAML), validated before anything listens: an
 * unknown key or a wrong value is reported with its path and what was expected.
 */
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { UserTokenAuthenticator } from "../connection/index.js";
import { GatewayAuthProvider, type GatewayOptions } from "../gateway/index.js";
import {
  loadUsers,
  readConfigFile,
  readText,
  tlsSchema,
  urlSchema,
  usersSchema,
  validate,
} from "./config-file.js";
import { ConfigError } from "./errors.js";
import { listenUrlSchema, xmppConfigSchema, xmppOptionsFromConfig } from "./xmpp-config.js";

const ruleSet = z.strictObject({
  allow: z.array(z.string()).optional(),
  deny: z.array(z.string()).optional(),
});
const userPermissions = z.strictObject({
  services: ruleSet.optional(),
  call: ruleSet.optional(),
  subscribe: ruleSet.optional(),
  write: ruleSet.optional(),
  register: ruleSet.optional(),
});
const url = urlSchema;
const metricsAddress = z.string().regex(/^\[?[^\]]*\]?:\d+$/, "host:port");

export const gatewayConfigSchema = z.strictObject({
  attach: url.optional(),
  listen: z.array(listenUrlSchema).min(1),
  /** The robot's XMPP account, for xmpp:// listeners (xmpp-config.ts, docs/xmpp.md). */
  xmpp: xmppConfigSchema.optional(),
  tls: tlsSchema.optional(),
  auth: z
    .strictObject({
      anonymous: z.boolean().default(false),
      users: usersSchema.optional(),
      credentials: z.string().optional().describe("a JSON/YAML file with { users: { name: { token } } }"),
      certificateUsers: z.array(z.string()).optional(),
      /** How long a correct login skips scrypt on the next ones (ms, 0: never). */
      verifiedTtlMs: z.number().int().nonnegative().optional(),
      rateLimit: z
        .strictObject({
          maxFailures: z.number().int().positive(),
          maxFailuresPerUser: z.number().int().positive(),
          maxFailuresPerAddress: z.number().int().positive(),
          windowMs: z.number().int().positive(),
          maxLockMs: z.number().int().positive(),
          throttleMs: z.number().int().positive(),
          maxConcurrentChecks: z.number().int().positive(),
          maxChecksPerAddress: z.number().int().positive(),
          maxEntries: z.number().int().positive(),
          trustMs: z.number().int().nonnegative(),
        })
        .partial()
        .optional(),
    })
    .default({ anonymous: false }),
  upstream: z
    .strictObject({
      user: z.string().optional(),
      token: z.string().optional(),
      /** A file holding the token (first line), instead of the token in this file. */
      tokenFile: z.string().optional(),
      ca: z.string().optional(),
      /** SHA-256 fingerprint(s) of the Service Directory's certificate. */
      pin: z.union([z.string(), z.array(z.string())]).optional(),
      /** Client certificate and key toward a tcpsm Service Directory. */
      cert: z.string().optional(),
      key: z.string().optional(),
      insecure: z.boolean().optional(),
    })
    .optional(),
  /**
   * Bridges to other robotics frameworks, by name (`ros1`, ...), each with its own settings,
   * which the bridge validates when it starts. Naming one here enables it.
   */
  bridges: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  /** The NATS fleet (robot side or edge): validated by fleet/ (docs/fleet.md). */
  fleet: z.record(z.string(), z.unknown()).optional(),
  permissions: z
    .strictObject({
      users: z.record(z.string(), userPermissions.extend({ admin: z.boolean().optional() })).optional(),
      default: userPermissions.optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      maxPendingCalls: z.number().int().positive(),
      maxQueuedBytes: z.number().int().positive(),
      hardQueuedBytes: z.number().int().positive(),
      maxPayload: z.number().int().positive(),
      // Connection caps (docs/gateway.md) and the TCP-connect-to-upgrade deadline.
      maxConnections: z.number().int().positive(),
      maxUnauthenticated: z.number().int().positive(),
      maxConnectionsPerAddress: z.number().int().positive(),
      maxUnauthenticatedPerAddress: z.number().int().positive(),
      acceptTimeoutMs: z.number().int().positive(),
      maxUpstreamPendingCalls: z.number().int().positive(),
      maxUserPendingCalls: z.number().int().positive(),
      upstreamReserve: z.number().int().nonnegative(),
      upstreamReservePerUser: z.number().int().positive(),
      maxSubscriptions: z.number().int().positive(),
      maxNameLength: z.number().int().positive(),
      maxRegistrations: z.number().int().nonnegative(),
    })
    .partial()
    .optional(),
  /** `host:port` (loopback unless token or allowRemote), or { address, token, allowRemote }. */
  metrics: z
    .union([
      metricsAddress,
      z.strictObject({
        address: metricsAddress,
        token: z.string().min(16, "a bearer token of 16 characters or more").optional(),
        allowRemote: z.boolean().optional(),
      }),
    ])
    .optional(),
  /** Browser origins allowed on ws/wss listeners besides the listener's own (no allow-all). */
  allowedOrigins: z
    .array(z.string().regex(/^https?:\/\/[^/\s]+$/, "an origin like https://host:port"))
    .optional(),
  /** External clients may register services inside (off by default; see permissions.register). */
  registration: z.strictObject({ enabled: z.boolean() }).optional(),
  /** mDNS `_naoqi._tcp` (docs/discovery.md): false stops advertising; `discover` lists LAN robots in the console. */
  advertise: z
    .union([z.boolean(), z.strictObject({ name: z.string().min(1).max(63).optional() })])
    .optional(),
  discover: z.boolean().optional(),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** Reads, parses and validates a config file. */
export function loadGatewayConfig(file: string): GatewayConfig {
  return validateGatewayConfig(readConfigFile(file), file);
}

export function validateGatewayConfig(raw: unknown, file = "config"): GatewayConfig {
  return validate(gatewayConfigSchema, raw, file, "gateway configuration");
}

/** Turns a validated config into gateway options (reading the PEM and credentials files). */
export function gatewayOptionsFromConfig(config: GatewayConfig, file: string): GatewayOptions {
  const base = dirname(resolve(file));
  const at = (p: string) => resolve(base, p);
  const users = loadUsers(
    config.auth.users,
    config.auth.credentials ? at(config.auth.credentials) : undefined,
  );
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
          verifiedTtlMs: config.auth.verifiedTtlMs,
        })
      : undefined,
    upstreamAuthenticator:
      config.upstream?.user !== undefined
        ? new UserTokenAuthenticator(
            config.upstream.user,
            config.upstream.tokenFile !== undefined
              ? readText(at(config.upstream.tokenFile)).split(/\r?\n/, 1)[0]!.trim()
              : (config.upstream.token ?? ""),
          )
        : undefined,
    upstreamTls: config.upstream
      ? {
          ca: config.upstream.ca ? readText(at(config.upstream.ca)) : undefined,
          pinnedSha256: config.upstream.pin,
          cert: config.upstream.cert ? readText(at(config.upstream.cert)) : undefined,
          key: config.upstream.key ? readText(at(config.upstream.key)) : undefined,
          insecureAcceptAnyCertificate: config.upstream.insecure,
        }
      : undefined,
    permissions: config.permissions,
    limits: config.limits,
    maxPayload: config.limits?.maxPayload,
    ...metricsOptions(config.metrics),
    allowServiceRegistration: config.registration?.enabled ?? false,
    ws: config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : undefined,
    xmpp: config.xmpp ? xmppOptionsFromConfig(config.xmpp, file, at) : undefined,
  };
}

function metricsOptions(
  metrics: GatewayConfig["metrics"],
): Pick<GatewayOptions, "metricsAddress" | "metricsToken" | "metricsAllowRemote"> {
  if (metrics === undefined || typeof metrics === "string") return { metricsAddress: metrics };
  return {
    metricsAddress: metrics.address,
    metricsToken: metrics.token,
    metricsAllowRemote: metrics.allowRemote,
  };
}
