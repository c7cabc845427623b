/**
 * The `xmpp:` section of the gateway's config file: the robot's XMPP account for
 * `listen: [xmpp://robot@example.org]`. The password lives here or in a file named here, never
 * on a command line.
 */
import { dirname, resolve } from "node:path";
import { z } from "zod";
import type { XmppListenOptions } from "../transport/index.js";
import { readConfigFile, readText, validate } from "./config-file.js";
import { ConfigError } from "./errors.js";

const bareJid = z.string().regex(/^[^\s@/]+@[^\s@/]+$/, "a bare JID like alice@example.org");

export const xmppListenUrlSchema = z
  .string()
  .regex(/^xmpp:\/\/[^\s@/]+@[^\s/]+(\/[^\s/]+)?$/, "an XMPP entry like xmpp://robot@example.org");

/** A gateway listen URL: the socket schemes, or an XMPP entry. */
export const listenUrlSchema = z
  .string()
  .regex(
    /^((tcp|tcps|tcpsm|ws|wss):\/\/|xmpp:\/\/[^\s@/]+@[^\s/]+(\/[^\s/]+)?$)/,
    "a URL like tcp://host:port (tcp, tcps, tcpsm, ws or wss) or xmpp://robot@example.org",
  );

export const xmppConfigSchema = z
  .strictObject({
    password: z.string().min(1).optional(),
    /** A file whose first line is the password (relative to the config file). */
    passwordFile: z.string().optional(),
    /** `xmpp://host:port` (STARTTLS) or `xmpps://host:port` (direct TLS); default the JID's domain, 5222. */
    service: z
      .string()
      .regex(/^xmpps?:\/\/[^/\s]+$/, "xmpp://host:port or xmpps://host:port")
      .optional(),
    /** PEM file of the CA that signed the XMPP server's certificate (default Node's roots). */
    ca: z.string().optional(),
    /** Accept any certificate from the XMPP server (encrypted, not authenticated). */
    insecure: z.boolean().optional(),
    /** Bare JIDs allowed to open a qi session; nobody else is let in. */
    allow: z.array(bareJid).min(1),
    resource: z
      .string()
      .regex(/^[^\s/]+$/)
      .optional(),
    maxChannelsPerJid: z.number().int().positive().optional(),
    maxChannels: z.number().int().positive().optional(),
    blockSize: z.number().int().min(512).max(65_535).optional(),
    window: z.number().int().positive().max(1024).optional(),
    ackTimeoutMs: z.number().int().positive().optional(),
  })
  .describe("the robot's XMPP account for xmpp:// listeners");

export type XmppConfig = z.infer<typeof xmppConfigSchema>;

/** The listener options of a validated section; `at` resolves paths against the config file. */
export function xmppOptionsFromConfig(
  x: XmppConfig,
  file: string,
  at: (p: string) => string,
): XmppListenOptions {
  const password =
    x.passwordFile !== undefined ? readText(at(x.passwordFile)).split(/\r?\n/, 1)[0].trim() : x.password;
  if (password === undefined || password === "") {
    throw new ConfigError(`${file}: xmpp needs password or passwordFile`, file);
  }
  return {
    password,
    service: x.service,
    tls: {
      ca: x.ca !== undefined ? readText(at(x.ca)) : undefined,
      insecureAcceptAnyCertificate: x.insecure,
    },
    allow: x.allow,
    resource: x.resource,
    maxChannelsPerJid: x.maxChannelsPerJid,
    maxChannels: x.maxChannels,
    blockSize: x.blockSize,
    window: x.window,
    ackTimeoutMs: x.ackTimeoutMs,
  };
}

const xmppEntryFileSchema = z.strictObject({ listen: xmppListenUrlSchema, xmpp: xmppConfigSchema });

/** `qi start --xmpp FILE`: a file with `listen: xmpp://robot@domain` and the `xmpp:` section. */
export function loadXmppEntryConfig(file: string): { url: string; options: XmppListenOptions } {
  const config = validate(xmppEntryFileSchema, readConfigFile(file), file, "XMPP entry configuration");
  const base = dirname(resolve(file));
  return { url: config.listen, options: xmppOptionsFromConfig(config.xmpp, file, (p) => resolve(base, p)) };
}
