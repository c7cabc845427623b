/**
 * What the console's gateway page shows (/stats.json): the gateway's own stats() (clients,
 * fan-outs, dropped events, attached), traffic totals read from its Prometheus registry, and
 * one row per connected client (`clients`, see GatewayClientInfo). The rows name users and
 * peers, so serve it behind credentials, and show a viewer only their own rows unless the
 * gateway says they are an admin (Gateway.isAdmin: `admin: true` in their permissions):
 * `createWebHandler({ root, stats: (viewer) => gatewayStats(gateway, viewer), authenticate })`.
 */
import type { Gateway, GatewayClientInfo } from "../gateway/index.js";

/** Totals over the gateway's life, from its Prometheus counters (absent when metrics fail). */
export interface GatewayTraffic {
  connectionsTotal?: number;
  authFailures?: number;
  calls?: number;
  errors?: number;
  refusedCalls?: number;
  droppedEvents?: number;
  bytesIn?: number;
  bytesOut?: number;
}

/** The body of /stats.json (the console reads it with this type; only a type crosses over). */
export interface GatewayStatsJson {
  /** Connections, including ones still in their handshake. */
  clientCount: number;
  fanouts: number;
  upstreamObjects: number;
  exports: number;
  droppedEvents: number;
  attached: boolean;
  /** The authenticated clients the viewer may see (all for an admin, else their own), one row each. */
  clients: GatewayClientInfo[];
  traffic: GatewayTraffic;
  time: string;
}

const TRAFFIC: Record<string, keyof GatewayTraffic> = {
  qi_gateway_connections_total: "connectionsTotal",
  qi_gateway_auth_failures_total: "authFailures",
  qi_gateway_calls_total: "calls",
  qi_gateway_errors_total: "errors",
  qi_gateway_refused_calls_total: "refusedCalls",
  qi_gateway_dropped_events_total: "droppedEvents",
  qi_gateway_bytes_in_total: "bytesIn",
  qi_gateway_bytes_out_total: "bytesOut",
};

/** The rows `viewer` may see: every client for an admin, their own connections for a user, none for nobody. */
export function visibleClients(gateway: Gateway, viewer: string | undefined): GatewayClientInfo[] {
  if (gateway.isAdmin(viewer)) return gateway.clients();
  // Anonymous clients share one identity: not a way to see each other.
  if (viewer === undefined || viewer === "anonymous") return [];
  return gateway.clients().filter((c) => c.user === viewer);
}

export async function gatewayStats(gateway: Gateway, viewer: string | undefined): Promise<GatewayStatsJson> {
  if (!gateway.isAdmin(viewer)) return ownStats(gateway, viewer);
  const traffic: GatewayTraffic = {};
  try {
    for (const m of await gateway.metrics.registry.getMetricsAsJSON()) {
      const key = TRAFFIC[m.name];
      if (key === undefined) continue;
      traffic[key] = (m.values as Array<{ value: number }>).reduce((sum, v) => sum + v.value, 0);
    }
  } catch {
    // metrics are optional on this page
  }
  const { clients: clientCount, ...rest } = gateway.stats();
  return {
    ...rest,
    // stats().clients is a count of every connection; `clients` is now the rows of the
    // authenticated ones, so the count keeps its own name.
    clientCount,
    clients: visibleClients(gateway, viewer),
    traffic,
    time: new Date().toISOString(),
  };
}

/**
 * A non-admin's page: their own rows and figures only. The gateway-wide counts (clients,
 * fan-outs, traffic, failed logins) would tell a user how many others are connected and when.
 */
function ownStats(gateway: Gateway, viewer: string | undefined): GatewayStatsJson {
  const clients = visibleClients(gateway, viewer);
  return {
    clientCount: clients.length,
    fanouts: 0,
    upstreamObjects: 0,
    exports: 0,
    droppedEvents: clients.reduce((sum, c) => sum + c.droppedEvents, 0),
    attached: gateway.isAttached,
    clients,
    traffic: {},
    time: new Date().toISOString(),
  };
}
