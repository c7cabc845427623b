/** Where a client's request goes: an object of a service, on the upstream connection serving it. */
import type { Connection } from "../../connection/index.js";
import type { MetaObject } from "../../wire/index.js";
import type { ServiceCalls } from "../metrics.js";

export interface Target {
  conn: Connection;
  service: number;
  objectId: number;
  meta: MetaObject;
  serviceName: string;
  /** The service's call counters (metrics), found once per target rather than once per call. */
  calls: ServiceCalls;
}
