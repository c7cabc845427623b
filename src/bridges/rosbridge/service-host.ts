/**
 * `advertise_service`: a web app provides a qi service. A name the mapping lists (its
 * `services` entries) registers the qi service and method that entry names, `<method>(m) -> m`,
 * through the client's own session; any other name is refused.
 * It works only where the gateway lets that user register services. A qi call
 * becomes a `call_service` to the web app, whose `service_response` (matched by id, within a
 * timeout) answers it; a failed response is a qi error.
 */
import { QiObject } from "../../object/index.js";
import type { Session } from "../../session/index.js";
import { jsonToDynamic, toJson } from "../../wire/index.js";
import { encodeFor } from "./encode.js";
import { ProtocolError, type RosbridgeMessage, stringField } from "./frames.js";
import type { Outbox } from "./outbox.js";
import { normalizeName } from "./qi-graph.js";
import type { RosbridgeSettings } from "./settings.js";

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ServiceHost {
  private readonly registered = new Map<string, number>();
  private readonly pending = new Map<string, PendingCall>();
  private nextCall = 0;

  constructor(
    private readonly session: Session,
    private readonly outbox: Outbox,
    private readonly settings: RosbridgeSettings,
  ) {}

  async handle(msg: RosbridgeMessage): Promise<void> {
    if (msg.op === "service_response") return this.answer(msg);
    const name = normalizeName(stringField(msg, "service"));
    if (msg.op === "unadvertise_service") {
      const id = this.registered.get(name);
      this.registered.delete(name);
      if (id !== undefined) await this.session.unregisterService(id);
      return;
    }
    // Only a service the mapping lists may be provided, as the qi service and method it names.
    const listed = this.settings.mapping.services.find((s) => s.name === name);
    if (!listed) throw new ProtocolError(`advertise_service: ${name} is not in the bridge's mapping`);
    if (this.registered.has(name)) return;
    if (this.registered.size >= this.settings.maxAdvertisedServices)
      throw new ProtocolError(`more than ${this.settings.maxAdvertisedServices} advertised services`);
    const { service, method } = listed;
    const object = new QiObject({ description: `provided by a rosbridge client as ${name}` }).method(
      method,
      "(m)",
      "m",
      (request: unknown) => this.forward(name, request),
    );
    this.registered.set(name, -1);
    try {
      this.registered.set(name, await this.session.registerService(service, object));
    } catch (e) {
      this.registered.delete(name);
      throw new ProtocolError(`advertise_service ${name}: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error("the rosbridge client providing this service left"));
    }
    this.pending.clear();
    await Promise.all(
      [...this.registered.values()]
        .filter((id) => id >= 0)
        .map((id) => this.session.unregisterService(id).catch(() => {})),
    );
    this.registered.clear();
  }

  private forward(service: string, request: unknown): Promise<unknown> {
    if (this.pending.size >= this.settings.maxCallsInFlight)
      return Promise.reject(
        new Error(`${service}: more than ${this.settings.maxCallsInFlight} calls waiting`),
      );
    const id = `qi_call:${this.nextCall++}`;
    const json = toJson(request);
    const args = typeof json === "object" && json !== null && !Array.isArray(json) ? json : { data: json };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${service}: no service_response within ${this.settings.serviceCallTimeoutMs} ms`));
      }, this.settings.serviceCallTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.outbox.sendNow(encodeFor({ op: "call_service", id, service, args }, "none", 0));
    });
  }

  private answer(msg: RosbridgeMessage): void {
    const id = msg.id === undefined ? "" : String(msg.id);
    const call = this.pending.get(id);
    if (!call) throw new ProtocolError(`service_response: no call with id ${JSON.stringify(id)}`);
    this.pending.delete(id);
    clearTimeout(call.timer);
    if (msg.result === false)
      call.reject(new Error(typeof msg.values === "string" ? msg.values : JSON.stringify(msg.values)));
    else call.resolve(jsonToDynamic(msg.values ?? null));
  }
}
