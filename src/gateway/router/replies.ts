/**
 * The answers the router itself gives a client (refusals, unreachable services): counted as
 * errors, and never naming an internal endpoint or address.
 */
import type { Logger } from "pino";
import { errorText, isQiError } from "../../connection/index.js";
import type { Message } from "../../wire/index.js";
import type { ClientLink } from "../client-link.js";
import type { GatewayMetrics } from "../metrics.js";
import type { Upstream } from "../upstream.js";

export const UNHANDLED = "The call request could not be handled.";

export class Replies {
  constructor(
    private readonly upstream: Pick<Upstream, "serviceById">,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  error(link: ClientLink, msg: Message, text: string): void {
    this.metrics.error();
    link.conn.replyError(msg, text);
  }

  /**
   * What a client is told when its service cannot be reached: never an internal endpoint or
   * address (errors of connections inside name them). The detail goes to the debug log.
   */
  unavailable(service: number, e: unknown, knownName?: string): string {
    if (isQiError(e, "ERR_REMOTE")) return errorText(e); // the service's own answer
    const name = knownName ?? this.upstream.serviceById(service)?.name;
    this.logger.debug({ service, err: errorText(e) }, "service unreachable for a client");
    return name === undefined ? `Service #${service} is unavailable.` : `Service "${name}" is unavailable.`;
  }
}
