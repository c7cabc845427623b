/**
 * What an external client sees as the Service Directory (service 1): the services it may
 * see, with endpoints, machineId and processId rewritten to the gateway's own so libqi
 * clients come back through the gateway (spec §7.3). Member ids are the directory's
 * (100 service … 109 _socketOfService), so libqi clients use it unchanged.
 */
import { Capability } from "../connection/capabilities.js";
import type { Connection } from "../connection/connection.js";
import { QiError } from "../connection/errors.js";
import { QiObject } from "../object/qi-object.js";
import { SERVICE_DIRECTORY_NAME } from "../session/service-directory.js";
import {
  type ServiceInfo,
  SERVICE_INFO_SIGNATURE,
  serviceInfoFromValue,
  serviceInfoToStruct,
} from "../session/service-info.js";
import { sortEndpoints } from "../transport/index.js";

export interface SdViewContext {
  conn: Connection;
  machineId: string;
  /** The gateway's external endpoints. */
  endpoints: () => string[];
  services: () => ServiceInfo[];
  canSee: (name: string) => boolean;
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

export function createSdView(ctx: SdViewContext): QiObject {
  const INFO = SERVICE_INFO_SIGNATURE;
  const publish = (info: ServiceInfo) => serviceInfoToStruct(rewrite(ctx, info));
  const refuse = () => {
    throw new QiError("ERR_BAD_ARGUMENTS", REFUSED);
  };
  const reg = ctx.registration;
  const owned = (id: number) => {
    if (!reg?.owns(id))
      throw new QiError("ERR_NO_SUCH_SERVICE", `Service #${id} was not registered by this client.`);
  };
  return (
    new QiObject()
      .method("service", "(s)", INFO, (name: string) => {
        const info = ctx.services().find((s) => s.name === name);
        if (!info || !ctx.canSee(name))
          throw new QiError("ERR_NO_SUCH_SERVICE", `Cannot find service '${name}' in index`);
        return publish(info);
      })
      .method("services", "()", `[${INFO}]`, () =>
        ctx
          .services()
          .filter((s) => ctx.canSee(s.name))
          .map(publish),
      )
      .method("registerService", `(${INFO})`, "I", (info: unknown) =>
        reg ? reg.register(serviceInfoFromValue(info)) : refuse(),
      )
      .method("unregisterService", "(I)", "v", (id: number) => (reg ? reg.unregister(id) : refuse()))
      .method("serviceReady", "(I)", "v", (id: number) => (reg ? reg.ready(id) : refuse()))
      // The endpoints a client publishes are never used (it is reached over its connection).
      .method("updateServiceInfo", `(${INFO})`, "v", (info: unknown) =>
        reg ? owned(serviceInfoFromValue(info).serviceId) : refuse(),
      )
      .signal("serviceAdded", "(Is)")
      .signal("serviceRemoved", "(Is)")
      .method("machineId", "()", "s", () => ctx.machineId)
      .method("_socketOfService", "(I)", "o", () => null)
  );
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
