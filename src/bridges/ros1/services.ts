/**
 * A mapped ROS service → a qi method call. std_srvs/Trigger and SetBool answer
 * success + message (the result as text, or the qi error text with success false); Empty
 * answers nothing, or the error; any other type takes its arguments from the request fields
 * the mapping names and puts the result in the response's first field.
 */
import type { Session } from "../../session/index.js";
import { argsToJsonText, fieldAt, type ServiceMapping } from "../mapping/index.js";
import type { BridgeMetrics } from "../plugin.js";
import { serviceType } from "./definitions.js";
import type { ServedService, ServiceReply } from "./service-server.js";

export function servedService(
  entry: ServiceMapping,
  session: Session,
  metrics: BridgeMetrics,
): ServedService {
  const type = serviceType(entry.type, entry.request, entry.response);
  const argPaths = entry.args ?? (entry.type === "std_srvs/SetBool" ? ["data"] : []);
  const replyWith = (ok: boolean, text: string): Record<string, unknown> => {
    if (type.responseFields.includes("success") && type.responseFields.includes("message"))
      return { success: ok, message: text };
    const [first] = type.responseFields;
    return first ? { [first]: text } : {};
  };
  return {
    type,
    async handle(request): Promise<ServiceReply> {
      metrics.messagesIn();
      const args = argPaths.map((p) => fieldAt(request, p));
      try {
        const service = await session.service(entry.service);
        const result = await service.call(entry.method, ...args);
        metrics.messagesOut();
        return { ok: true, response: replyWith(true, resultText(result)) };
      } catch (err) {
        const text = (err as Error).message;
        metrics.messagesOut();
        // A reply that can say "failed" says it; others fail the call with the qi error text.
        if (type.responseFields.includes("success")) return { ok: true, response: replyWith(false, text) };
        return { ok: false, error: text };
      }
    },
  };
}

function resultText(result: unknown): string {
  if (result === undefined) return "";
  return typeof result === "string" ? result : argsToJsonText([result]);
}
