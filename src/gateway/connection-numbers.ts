/**
 * Small stable numbers for connections, for use in map keys ("3.12.1" rather than an object
 * key). A WeakMap: numbering a connection never keeps it alive.
 */
import type { Connection } from "../connection/index.js";

export class ConnectionNumbers {
  private readonly numbers = new WeakMap<Connection, number>();
  private next = 1;

  of(conn: Connection): number {
    let n = this.numbers.get(conn);
    if (n === undefined) {
      n = this.next++;
      this.numbers.set(conn, n);
    }
    return n;
  }
}
