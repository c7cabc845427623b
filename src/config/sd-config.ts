/**
 * The Service Directory's configuration file (`qi sd --config FILE`, JSON or YAML).
 *
 *   listen: [tcp://127.0.0.1:9559, tcps://0.0.0.0:9503]
 *   tls: { cert: sd.crt, key: sd.key }
 *   auth: { credentials: users.yaml }     # clients must authenticate; omit for libqi's open default
 *   maxPayload: 50000000
 *   dispatch: async
 */
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { GatewayAuthProvider } from "../gateway/index.js";
import type { SessionOptions } from "../session/index.js";
import {
  loadUsers,
  readConfigFile,
  readText,
  tlsSchema,
  urlSchema,
  usersSchema,
  validate,
} from "./config-file.js";

export const sdConfigSchema = z.strictObject({
  listen: z.array(urlSchema).min(1),
  tls: tlsSchema.optional(),
  auth: z
    .strictObject({
      users: usersSchema.optional(),
      credentials: z.string().optional(),
      certificateUsers: z.array(z.string()).optional(),
    })
    .optional(),
  maxPayload: z.number().int().positive().optional(),
  dispatch: z.enum(["async", "sync"]).optional(),
});

export type SdConfig = z.infer<typeof sdConfigSchema>;

export interface SdSetup {
  listen: string[];
  session: SessionOptions;
}

export function loadSdConfig(file: string): SdSetup {
  const config = validate(sdConfigSchema, readConfigFile(file), file, "Service Directory configuration");
  const at = (p: string) => resolve(dirname(resolve(file)), p);
  const session: SessionOptions = { maxPayload: config.maxPayload, dispatch: config.dispatch };
  if (config.tls) {
    session.serverTls = {
      cert: readText(at(config.tls.cert)),
      key: readText(at(config.tls.key)),
      ca: config.tls.ca ? readText(at(config.tls.ca)) : undefined,
    };
  }
  if (config.auth) {
    const users = loadUsers(
      config.auth.users,
      config.auth.credentials ? at(config.auth.credentials) : undefined,
    );
    session.authProvider = new GatewayAuthProvider(users, { certificateUsers: config.auth.certificateUsers });
    session.enforceAuth = true;
  }
  return { listen: config.listen, session };
}
