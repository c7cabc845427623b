/**
 * What the console's gateway page shows (/stats.json): the gateway's own stats() (clients,
 * fan-outs, dropped events, attached) plus traffic totals read from its Prometheus registry.
 * Plug in as `createWebHandler({ root, stats: () => gatewayStats(gateway) })`.
 */
import type { Gateway } from "../gateway/index.js";

const TRAFFIC: Record<string, string> = {
  qi_gateway_connections_total: "connectionsTotal",
  qi_gateway_auth_failures_total: "authFailures",
  qi_gateway_calls_total: "calls",
  qi_gateway_errors_total: "errors",
  qi_gateway_refused_calls_total: "refusedCalls",
  qi_gateway_dropped_events_total: "droppedEvents",
  qi_gateway_bytes_in_total: "bytesIn",
  qi_gateway_bytes_out_total: "bytesOut",
};

export async function gatewayStats(gateway: Gateway): Promise<Record<string, unknown>> {
  const traffic: Record<string, number> = {};
  try {
    for (const m of await gateway.metrics.registry.getMetricsAsJSON()) {
      const key = TRAFFIC[m.name];
      if (key === undefined) continue;
      traffic[key] = (m.values as Array<{ value: number }>).reduce((sum, v) => sum + v.value, 0);
    }
  } catch {
    // metrics are optional on this page
  }
  return { ...gateway.stats(), traffic, time: new Date().toISOString() };
}
