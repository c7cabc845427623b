/**
 * Fair shares of the upstream connections the gateway shares between its clients. Every
 * service is reached over one connection whatever the number of clients, and that connection
 * (and the service behind it) takes a bounded number of calls in flight: without shares one
 * user could take them all and every other user's calls to that service would fail (issue 10).
 *
 * A user (all its connections together) may have `perUser` calls in flight on one upstream;
 * the last `reserve` places of an upstream's `total` go only to users that have fewer than
 * `reservePerUser` calls there, so a newcomer still gets through while others fill theirs.
 * Checking costs two map lookups; it is on the forward path.
 */
import type { Connection } from "../connection/index.js";

export interface ShareLimits {
  /** Calls all clients together may have in flight on one upstream connection. */
  total: number;
  /** Calls one user may have in flight on one upstream connection. */
  perUser: number;
  /** Places of `total` kept for users with fewer than `reservePerUser` calls in flight there. */
  reserve: number;
  reservePerUser: number;
}

/** One upstream connection's calls in flight: in all, and by user. */
export class UpstreamLoad {
  total = 0;
  readonly byUser = new Map<string, number>();
}

export class UpstreamShares {
  private readonly loads = new WeakMap<Connection, UpstreamLoad>();

  constructor(private readonly limits: ShareLimits) {}

  /** Takes a place for `user` on `conn`; undefined when its share (or the upstream) is full. */
  take(conn: Connection, user: string): UpstreamLoad | undefined {
    let load = this.loads.get(conn);
    if (!load) {
      load = new UpstreamLoad();
      this.loads.set(conn, load);
    }
    const mine = load.byUser.get(user) ?? 0;
    const { total, perUser, reserve, reservePerUser } = this.limits;
    if (mine >= perUser || load.total >= total) return undefined;
    if (load.total >= total - reserve && mine >= reservePerUser) return undefined;
    load.total++;
    load.byUser.set(user, mine + 1);
    return load;
  }

  /** Gives back a place taken by take(). */
  release(load: UpstreamLoad, user: string): void {
    load.total--;
    const mine = (load.byUser.get(user) ?? 1) - 1;
    if (mine <= 0) load.byUser.delete(user);
    else load.byUser.set(user, mine);
  }
}
