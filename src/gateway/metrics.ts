/**
 * Gateway metrics in Prometheus form (prom-client): clients, calls, errors, bytes, dropped
 * events, per-service latency. One registry per gateway so several can run in one process.
 * serveMetrics exposes them over HTTP: on loopback only unless protected by a bearer token or
 * explicitly allowed (they tell an outsider how busy the robot is and which services it runs).
 */
import { GatewayError } from "./errors.js";
import { createServer, type Server } from "node:http";
import { isIP } from "node:net";
import type { Logger } from "pino";
import { Counter, Gauge, type Metric, Registry } from "prom-client";
import { safeEqual } from "../connection/index.js";
import type { Admission, AdmissionCap } from "../transport/index.js";

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
  /** Calls by service: counted on the hot path as plain numbers, read by prom-client at a scrape. */
  private readonly services = new Map<string, ServiceCalls>();
  private readonly calls = new Counter({
    name: "qi_gateway_calls_total",
    help: "Calls forwarded to services",
    labelNames: ["service"],
    registers: [this.registry],
    collect: () => {
      this.calls.reset();
      for (const [service, c] of this.services) this.calls.inc({ service }, c.count);
    },
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
  private bytesInTotal = 0;
  private bytesOutTotal = 0;
  private readonly bytesInCounter = new Counter({
    name: "qi_gateway_bytes_in_total",
    help: "Bytes received from clients",
    registers: [this.registry],
    collect: () => {
      this.bytesInCounter.reset();
      this.bytesInCounter.inc(this.bytesInTotal);
    },
  });
  private readonly bytesOutCounter = new Counter({
    name: "qi_gateway_bytes_out_total",
    help: "Bytes forwarded",
    registers: [this.registry],
    collect: () => {
      this.bytesOutCounter.reset();
      this.bytesOutCounter.inc(this.bytesOutTotal);
    },
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

  constructor() {
    this.registry.registerMetric(new LatencyHistogram(this.services) as unknown as Metric);
  }

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
  /** The counters of one service's calls; the router keeps it with the service's target. */
  serviceCalls(service: string): ServiceCalls {
    let c = this.services.get(service);
    if (c === undefined) {
      c = new ServiceCalls(() => this.errors.inc());
      this.services.set(service, c);
    }
    return c;
  }
  call(service: string, seconds: number, failed: boolean): void {
    this.serviceCalls(service).record(seconds * 1000, failed);
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
    this.bytesInTotal += n;
  }
  bytesOut(n: number): void {
    this.bytesOutTotal += n;
  }
  text(): Promise<string> {
    return this.registry.metrics();
  }
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Upper bounds (seconds) of the call latency histogram's buckets. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LATENCY_BUCKETS_MS = LATENCY_BUCKETS.map((s) => s * 1000);

/**
 * One service's forwarded calls: a count and a latency histogram in plain numbers. Recording
 * a call is a few increments (no label hashing, no allocation): it is on every call's path.
 */
export class ServiceCalls {
  count = 0;
  sumSeconds = 0;
  /** Calls per bucket (not cumulative); the last one is over the largest bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);

  constructor(private readonly onFailed: () => void) {}

  record(milliseconds: number, failed: boolean): void {
    this.count++;
    this.sumSeconds += milliseconds / 1000;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && milliseconds > LATENCY_BUCKETS_MS[i]) i++;
    this.buckets[i]++;
    if (failed) this.onFailed();
  }
}

/**
 * qi_gateway_call_seconds as prom-client's Histogram shows it (buckets cumulative, then _sum
 * and _count, by service), read from the ServiceCalls at scrape time.
 */
class LatencyHistogram {
  readonly name = "qi_gateway_call_seconds";
  readonly help = "Latency of forwarded calls";
  readonly type = "histogram";
  readonly aggregator = "sum";

  constructor(private readonly services: ReadonlyMap<string, ServiceCalls>) {}

  get() {
    const values: Array<{
      value: number;
      labels: Record<string, string | number>;
      sharedLabels?: Record<string, string>;
      metricName: string;
    }> = [];
    for (const [service, c] of this.services) {
      const sharedLabels = { service };
      let acc = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        acc += c.buckets[i];
        values.push({ value: acc, labels: { le }, sharedLabels, metricName: `${this.name}_bucket` });
      });
      values.push({
        value: c.count,
        labels: { le: "+Inf" },
        sharedLabels,
        metricName: `${this.name}_bucket`,
      });
      values.push({ value: c.sumSeconds, labels: {}, sharedLabels, metricName: `${this.name}_sum` });
      values.push({ value: c.count, labels: {}, sharedLabels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export interface MetricsHttpOptions {
  /** `host:port`; a missing host means 127.0.0.1. */
  address: string;
  /** Required as `Authorization: Bearer <token>` when given. */
  token?: string;
  /** Listen on a non-loopback address without a token (the metrics are then public). */
  allowRemote?: boolean;
  logger?: Logger;
}

/** Is `host` a loopback address or name (the only hosts metrics listen on by default)? */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/** `host:port` or `[v6]:port`; an empty host is loopback. */
export function splitMetricsAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(address);
  if (!m) throw new GatewayError("ERR_BAD_OPTIONS", `metrics address must be host:port, got "${address}"`);
  const host = m[1] ?? m[2] ?? "";
  return { host: host === "" ? "127.0.0.1" : host, port: Number(m[3]) };
}

/**
 * Serves `GET /metrics`. Refuses to start on a non-loopback address unless a token protects it
 * or `allowRemote` says public metrics are intended (then it warns once).
 */
export async function serveMetrics(metrics: GatewayMetrics, options: MetricsHttpOptions): Promise<Server> {
  const { host, port } = splitMetricsAddress(options.address);
  if (!isLoopbackHost(host) && !options.token) {
    if (!options.allowRemote) {
      throw new GatewayError(
        "ERR_BAD_OPTIONS",
        `metrics on ${options.address} would be readable by anyone who can reach it: ` +
          "give metrics a token (bearer), listen on 127.0.0.1, or set metrics.allowRemote",
      );
    }
    options.logger?.warn(
      { address: options.address },
      "metrics are served without authentication on a non-loopback address (metrics.allowRemote)",
    );
  }
  const expected = options.token === undefined ? undefined : `Bearer ${options.token}`;
  const server = createServer((req, res) => {
    if (expected !== undefined && !safeEqual(expected, req.headers.authorization ?? "")) {
      res.writeHead(401, { "content-type": "text/plain; charset=utf-8" });
      res.end("metrics need Authorization: Bearer <token>\n");
      return;
    }
    if (req.url !== "/metrics") {
      res.writeHead(404);
      res.end("not found\n");
      return;
    }
    metrics.text().then(
      (text) => {
        res.writeHead(200, { "content-type": metrics.contentType });
        res.end(text);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  // A scraper needs seconds, not minutes: slow or idle HTTP clients do not hold sockets.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
