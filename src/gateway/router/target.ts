/** Where a client's request goes: an object of a service, on the upstream connection serving it. */
import type { Connection } from "../../connection/index.js";
import type { MetaObject } from "../../wire/index.js";
import type { ServiceCalls } from "../metrics.js";
import type { Upstream } from "../upstream.js";

export interface Target {
  conn: Connection;
  service: number;
  objectId: number;
  meta: MetaObject;
  serviceName: string;
  /** The service's call counters (metrics), found once per target rather than once per call. */
  calls: ServiceCalls;
}

/** What the router asks of the gateway's upstream side: services, their connections, MetaObjects. */
export type UpstreamView = Pick<
  Upstream,
  "serviceById" | "connectionNow" | "metaObjectNow" | "connectionFor" | "metaObject" | "rememberMetaObject"
>;
