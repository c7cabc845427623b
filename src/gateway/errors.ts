/** Errors of the gateway's own set-up (package-unique codes `QI_ERR_GATEWAY_...`). */
import { brandErrorClass, prefixedCode, QiBaseError } from "../errors/index.js";

export const GATEWAY_ERROR_REASONS = [
  "BAD_OPTIONS", // options that would open the door (no authentication, public metrics) or do not fit
] as const;
type GatewayErrorReason = (typeof GATEWAY_ERROR_REASONS)[number];
/** The code a GatewayError carries. */
export type GatewayErrorCode = `QI_ERR_GATEWAY_${GatewayErrorReason}`;
/** The short spelling accepted by the constructor (`ERR_BAD_OPTIONS`). */
export type GatewayErrorLocalCode = `ERR_${GatewayErrorReason}`;

export class GatewayError extends QiBaseError {
  static override readonly brand: symbol = Symbol.for("qimessaging.error.GatewayError");
  static readonly codes: readonly GatewayErrorCode[] = GATEWAY_ERROR_REASONS.map(
    (r) => `QI_ERR_GATEWAY_${r}` as const,
  );
  declare readonly code: GatewayErrorCode;

  constructor(
    code: GatewayErrorCode | GatewayErrorLocalCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(prefixedCode<GatewayErrorCode>("GATEWAY_", code), message, options);
    this.name = "GatewayError";
  }
}
brandErrorClass(GatewayError);

export function isGatewayError(
  e: unknown,
  code?: GatewayErrorCode | GatewayErrorLocalCode,
): e is GatewayError {
  return GatewayError.is(e, code === undefined ? undefined : prefixedCode("GATEWAY_", code));
}
