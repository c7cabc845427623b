/** What the router allows each client and each upstream connection (issue 10, docs/security.md). */
export interface RouterLimits {
  /** Calls one client may have in flight. */
  maxPendingCalls: number;
  /** Bytes queued toward a client above which its events are dropped (and counted). */
  maxQueuedBytes: number;
  /**
   * Bytes queued toward a client above which its events wait (the newest per subscription)
   * so that answers to its calls go first (issue 11, docs/resilience.md).
   */
  streamQueueBytes: number;
  /** Bytes queued toward a client above which it is disconnected. */
  hardQueuedBytes: number;
  /** Calls all clients together may have in flight on one shared upstream connection. */
  maxUpstreamPendingCalls: number;
  /** Calls one user (all its connections) may have in flight on one upstream connection. */
  maxUserPendingCalls: number;
  /** Places of maxUpstreamPendingCalls kept for users with few calls in flight there. */
  upstreamReserve: number;
  /** A user with fewer calls than this in flight on an upstream may use its reserve. */
  upstreamReservePerUser: number;
  /** Signal subscriptions one client may hold. */
  maxSubscriptions: number;
  /** Characters of a name or signature a client gives (service, property, wanted signature). */
  maxNameLength: number;
  /** Services one client may register through the gateway (when registration is on). */
  maxRegistrations: number;
}

export const DEFAULT_LIMITS: RouterLimits = {
  maxPendingCalls: 1_000,
  maxQueuedBytes: 8 * 1024 * 1024,
  hardQueuedBytes: 64 * 1024 * 1024,
  streamQueueBytes: 256 * 1024,
  // Below the 10,000 a Connection and a service host take, so the gateway's own calls
  // (MetaObjects, subscriptions) still fit when clients have filled their shares.
  maxUpstreamPendingCalls: 8_000,
  maxUserPendingCalls: 2_000,
  upstreamReserve: 2_000,
  upstreamReservePerUser: 32,
  maxSubscriptions: 1_000,
  maxNameLength: 256,
  maxRegistrations: 16,
};
