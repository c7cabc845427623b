/**
 * Gateway metrics in Prometheus form (prom-client): clients, calls, errors, bytes, dropped
 * events, per-service latency. One registry per gateway so several can run in one process.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Admission, AdmissionCap } from "../transport/admission.js";

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly clients = new Gauge({
    name: "qi_gateway_clients",
    help: "Connected external clients",
    registers: [this.registry],
  });
  private readonly connections = new Counter({
    name: "qi_gateway_connections_total",
    help: "External connections accepted",
    registers: [this.registry],
  });
  private readonly authFailures = new Counter({
    name: "qi_gateway_auth_failures_total",
    help: "Failed authentication attempts",
    registers: [this.registry],
  });
  private readonly calls = new Counter({
    name: "qi_gateway_calls_total",
    help: "Calls forwarded to services",
    labelNames: ["service"],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: "qi_gateway_errors_total",
    help: "Error answers sent to clients",
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: "qi_gateway_refused_calls_total",
    help: "Calls refused by a limit",
    registers: [this.registry],
  });
  private readonly dropped = new Counter({
    name: "qi_gateway_dropped_events_total",
    help: "Events dropped toward slow clients",
    registers: [this.registry],
  });
  private readonly bytesInCounter = new Counter({
    name: "qi_gateway_bytes_in_total",
    help: "Bytes received from clients",
    registers: [this.registry],
  });
  private readonly bytesOutCounter = new Counter({
    name: "qi_gateway_bytes_out_total",
    help: "Bytes forwarded",
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: "qi_gateway_call_seconds",
    help: "Latency of forwarded calls",
    labelNames: ["service"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly refusedConnections = new Counter({
    name: "qi_gateway_refused_connections_total",
    help: "Connections closed by a connection cap (reason: the cap; for the unauthenticated caps, the oldest unauthenticated connection closed to make room)",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  private admission: Admission | undefined;
  private readonly openConnections = new Gauge({
    name: "qi_gateway_open_connections",
    help: "Open external connections, from the TCP accept (state: unauthenticated or authenticated)",
    labelNames: ["state"],
    registers: [this.registry],
    collect: () => {
      const a = this.admission;
      if (a === undefined) return;
      this.openConnections.set({ state: "unauthenticated" }, a.unauthenticated);
      this.openConnections.set({ state: "authenticated" }, a.open - a.unauthenticated);
    },
  });
  private dropCount = 0;

  /** The connection caps whose counts qi_gateway_open_connections shows. */
  watchConnections(admission: Admission): void {
    this.admission = admission;
  }
  refusedConnection(cap: AdmissionCap): void {
    this.refusedConnections.inc({ reason: cap });
  }

  clientConnected(): void {
    this.clients.inc();
    this.connections.inc();
  }
  clientDisconnected(): void {
    this.clients.dec();
  }
  authFailed(): void {
    this.authFailures.inc();
  }
  call(service: string, seconds: number, failed: boolean): void {
    this.calls.inc({ service });
    this.latency.observe({ service }, seconds);
    if (failed) this.errors.inc();
  }
  error(): void {
    this.errors.inc();
  }
  refusedCall(): void {
    this.refused.inc();
  }
  droppedEvents(n: number): void {
    this.dropCount += n;
    this.dropped.inc(n);
  }
  get droppedTotal(): number {
    return this.dropCount;
  }
  bytesIn(n: number): void {
    this.bytesInCounter.inc(n);
  }
  bytesOut(n: number): void {
    this.bytesOutCounter.inc(n);
  }
  text(): Promise<string> {
    return this.registry.metrics();
  }
  get contentType(): string {
    return this.registry.contentType;
  }
}
