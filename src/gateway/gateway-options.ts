/**
 * The gateway's options resolved once, where they enter (Gateway's constructor): defaults and
 * the refusals of unsafe settings in one place, so the gateway's parts read settled values.
 */
import pino, { type Logger } from "pino";
import { machineId as defaultMachineId } from "../session/index.js";
import { GatewayError } from "./errors.js";
import type { GatewayOptions } from "./gateway.js";
import { DEFAULT_LIMITS, type RouterLimits } from "./router/index.js";

/** libqi's Service Directory on this machine. */
export const DEFAULT_ATTACH_URL = "tcp://127.0.0.1:9559";

export interface ResolvedGatewayOptions {
  readonly attach: string;
  readonly allowAnonymous: boolean;
  /** Not yet clipped: the gateway wraps it (clippingLogger) before any part logs. */
  readonly logger: Logger;
  readonly machineId: string;
  /** Every router limit, the defaults filled in. */
  readonly routerLimits: RouterLimits;
  /** The limits as given (admission caps and the accept timeout keep their own defaults). */
  readonly limits: NonNullable<GatewayOptions["limits"]>;
}

export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  if (!options.authProvider && !options.allowAnonymous) {
    throw new GatewayError(
      "ERR_BAD_OPTIONS",
      "the gateway requires authentication: give it an auth provider (credentials) or set allowAnonymous explicitly",
    );
  }
  const limits = options.limits ?? {};
  return {
    attach: options.attach ?? DEFAULT_ATTACH_URL,
    allowAnonymous: options.allowAnonymous === true,
    logger: options.logger ?? pino({ level: "silent" }),
    machineId: options.machineId ?? defaultMachineId(),
    routerLimits: { ...DEFAULT_LIMITS, ...limits },
    limits,
  };
}
