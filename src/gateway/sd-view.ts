/**
 * What an external client sees as the Service Directory (service 1): the services it may
 * see, with endpoints, machineId and processId rewritten to the gateway's own so libqi
 * clients come back through the gateway (spec §7.3). Member ids are the directory's
 * (100 service … 109 _socketOfService), so libqi clients use it unchanged.
 */
import { Capability } from "../connection/index.js";
import type { Connection } from "../connection/index.js";
import { QiError } from "../connection/index.js";
import { QiObject } from "../object/index.js";
import { SERVICE_DIRECTORY_NAME } from "../session/index.js";
import {
  type ServiceInfo,
  SERVICE_INFO_SIGNATURE,
  serviceInfoFromValue,
  serviceInfoToStruct,
} from "../session/index.js";
import { sortEndpoints } from "../transport/index.js";

export interface SdViewContext {
  conn: Connection;
  machineId: string;
  /** The gateway's external endpoints. */
  endpoints: () => string[];
  services: () => ServiceInfo[];
  /**
   * Asks the Service Directory itself for a service not (yet) among `services()`: one
   * registered a moment ago whose serviceAdded event is still on its way to the gateway.
   */
  lookup?: (name: string) => Promise<ServiceInfo | undefined>;
  canSee: (name: string) => boolean;
  /** Longest service name a client may ask for or register (characters). */
  maxNameLength: number;
  /** Registration of services by this client (off by default: undefined). */
  registration?: ClientRegistration;
}

/** What the view does for a client that registers services through the gateway. */
export interface ClientRegistration {
  register(info: ServiceInfo): Promise<number>;
  ready(id: number): Promise<void>;
  unregister(id: number): Promise<void>;
  owns(id: number): boolean;
}

const REFUSED = "Registering services through this gateway is not enabled.";

/** Each client's context, found from the connection a call came in on. */
const contexts = new WeakMap<Connection, SdViewContext>();

function contextOf(conn: Connection): SdViewContext {
  const ctx = contexts.get(conn);
  if (!ctx) throw new QiError("ERR_NO_SUCH_SERVICE", "this connection has no directory view");
  return ctx;
}

let template: QiObject | undefined;

/**
 * The members of every client's view, made once: each view shares them (QiObject.withMembersOf)
 * and only has its own signal subscribers, so an idle client costs a small object rather than
 * a method table (see the idle-clients row of bench/gateway.bench.ts).
 */
function viewTemplate(): QiObject {
  if (template) return template;
  const INFO = SERVICE_INFO_SIGNATURE;
  const publish = (ctx: SdViewContext, info: ServiceInfo) => serviceInfoToStruct(rewrite(ctx, info));
  const registration = (conn: Connection): ClientRegistration => {
    const reg = contextOf(conn).registration;
    if (!reg) throw new QiError("ERR_BAD_ARGUMENTS", REFUSED);
    return reg;
  };
  template = new QiObject()
    .method("service", "(s)", INFO, function (name: string) {
      const ctx = contextOf(this.connection);
      checkName(ctx, name);
      const missing = () => new QiError("ERR_NO_SUCH_SERVICE", `Cannot find service '${name}' in index`);
      if (!ctx.canSee(name)) throw missing();
      const known = listOrDetached(ctx);
      const info = known.find((s) => s.name === name);
      if (info) return publish(ctx, info);
      if (!ctx.lookup) throw missing();
      return ctx.lookup(name).then((found) => {
        if (!found) throw missing();
        return publish(ctx, found);
      });
    })
    .method("services", "()", `[${INFO}]`, function () {
      const ctx = contextOf(this.connection);
      return listOrDetached(ctx)
        .filter((s) => ctx.canSee(s.name))
        .map((info) => publish(ctx, info));
    })
    .method("registerService", `(${INFO})`, "I", function (info: unknown) {
      return registration(this.connection).register(serviceInfoFromValue(info));
    })
    .method("unregisterService", "(I)", "v", function (id: number) {
      return registration(this.connection).unregister(id);
    })
    .method("serviceReady", "(I)", "v", function (id: number) {
      return registration(this.connection).ready(id);
    })
    // The endpoints a client publishes are never used (it is reached over its connection).
    .method("updateServiceInfo", `(${INFO})`, "v", function (info: unknown) {
      const id = serviceInfoFromValue(info).serviceId;
      if (!registration(this.connection).owns(id))
        throw new QiError("ERR_NO_SUCH_SERVICE", `Service #${id} was not registered by this client.`);
    })
    .signal("serviceAdded", "(Is)")
    .signal("serviceRemoved", "(Is)")
    .method("machineId", "()", "s", function () {
      return contextOf(this.connection).machineId;
    })
    .method("_socketOfService", "(I)", "o", () => null);
  return template;
}

/**
 * The services the gateway knows; none at all (not even the directory itself, service 1) means
 * it has lost its Service Directory, which a client must hear as an error, not as an empty robot.
 */
function listOrDetached(ctx: SdViewContext): ServiceInfo[] {
  const list = ctx.services();
  if (list.length === 0)
    throw new QiError(
      "ERR_DISCONNECTED",
      "The gateway has lost its Service Directory (reconnecting); try again in a moment.",
    );
  return list;
}

/** A name longer than any service has is refused, and never echoed back or logged whole. */
function checkName(ctx: SdViewContext, name: string): void {
  if (name.length > ctx.maxNameLength)
    throw new QiError(
      "ERR_BAD_ARGUMENTS",
      `Service name longer than ${ctx.maxNameLength} characters (${name.length}).`,
    );
}

/** The directory a client sees, answering on `ctx.conn` only. */
export function createSdView(ctx: SdViewContext): QiObject {
  contexts.set(ctx.conn, ctx);
  return QiObject.withMembersOf(viewTemplate());
}

function rewrite(ctx: SdViewContext, info: ServiceInfo): ServiceInfo {
  const endpoints = [...ctx.endpoints()];
  // Everything is reached over the connection the client already has (spec §6.3).
  if (ctx.conn.shared(Capability.RelativeEndpointURI)) endpoints.push("qi:ServiceDirectory");
  return {
    ...info,
    machineId: ctx.machineId,
    processId: process.pid,
    endpoints: sortEndpoints(endpoints),
    sessionId: info.name === SERVICE_DIRECTORY_NAME ? "0" : info.sessionId,
  };
}
