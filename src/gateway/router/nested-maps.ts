/**
 * Maps keyed by a path of keys, as nested Maps: a lookup builds no string, and everything
 * under a first key (one upstream connection, one service) is found, or dropped, in one step
 * instead of by scanning every entry for a key prefix.
 */

/** (a, b) → V. `size` counts the leaves. */
export class Index2<A, B, V> {
  private readonly byA = new Map<A, Map<B, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(a: A, b: B): V | undefined {
    return this.byA.get(a)?.get(b);
  }

  set(a: A, b: B, value: V): void {
    let inner = this.byA.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.byA.set(a, inner);
    }
    if (!inner.has(b)) this.count++;
    inner.set(b, value);
  }

  delete(a: A, b: B): boolean {
    const inner = this.byA.get(a);
    if (inner === undefined || !inner.delete(b)) return false;
    this.count--;
    if (inner.size === 0) this.byA.delete(a);
    return true;
  }

  /** Everything under `a` (live: do not change it while iterating other calls). */
  branch(a: A): ReadonlyMap<B, V> | undefined {
    return this.byA.get(a);
  }

  /** The first keys and what is under each. */
  branches(): IterableIterator<[A, Map<B, V>]> {
    return this.byA.entries();
  }

  /** Removes and returns everything under `a`. */
  dropBranch(a: A): Map<B, V> | undefined {
    const inner = this.byA.get(a);
    if (inner === undefined) return undefined;
    this.byA.delete(a);
    this.count -= inner.size;
    return inner;
  }

  *values(): IterableIterator<V> {
    for (const inner of this.byA.values()) yield* inner.values();
  }

  clear(): void {
    this.byA.clear();
    this.count = 0;
  }
}

/** (a, b, c) → V. `size` counts the leaves. */
export class Index3<A, B, C, V> {
  private readonly byA = new Map<A, Index2<B, C, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(a: A, b: B, c: C): V | undefined {
    return this.byA.get(a)?.get(b, c);
  }

  has(a: A, b: B, c: C): boolean {
    return this.get(a, b, c) !== undefined;
  }

  set(a: A, b: B, c: C, value: V): void {
    let inner = this.byA.get(a);
    if (inner === undefined) {
      inner = new Index2();
      this.byA.set(a, inner);
    }
    const before = inner.size;
    inner.set(b, c, value);
    this.count += inner.size - before;
  }

  delete(a: A, b: B, c: C): boolean {
    const inner = this.byA.get(a);
    if (inner === undefined || !inner.delete(b, c)) return false;
    this.count--;
    if (inner.size === 0) this.byA.delete(a);
    return true;
  }

  branch(a: A): Index2<B, C, V> | undefined {
    return this.byA.get(a);
  }

  /** The first keys and what is under each. */
  branches(): IterableIterator<[A, Index2<B, C, V>]> {
    return this.byA.entries();
  }

  /** Removes and returns everything under `a`. */
  dropBranch(a: A): Index2<B, C, V> | undefined {
    const inner = this.byA.get(a);
    if (inner === undefined) return undefined;
    this.byA.delete(a);
    this.count -= inner.size;
    return inner;
  }

  *values(): IterableIterator<V> {
    for (const inner of this.byA.values()) yield* inner.values();
  }

  clear(): void {
    this.byA.clear();
    this.count = 0;
  }
}
