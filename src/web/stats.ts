/**
 * What the console's gateway page shows (/stats.json): the gateway's own stats() (clients,
 * fan-outs, dropped events, attached), traffic totals read from its Prometheus registry, and
 * one row per connected client (`clients`, see GatewayClientInfo). The rows name users and
 * peers, so serve it behind credentials:
 * `createWebHandler({ root, stats: () => gatewayStats(gateway), authenticate })`.
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
  /** The authenticated clients, one row each. */
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

export async function gatewayStats(gateway: Gateway): Promise<GatewayStatsJson> {
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
    clients: gateway.clients(),
    traffic,
    time: new Date().toISOString(),
  };
}
