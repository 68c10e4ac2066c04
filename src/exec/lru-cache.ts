/**
 * The generated-kernel caches' shape (JavaScript kernels, WGSL kernels, WebAssembly plans and
 * eager kernels): a Map that keeps at most `limit` entries and drops the least recently used,
 * counting hits and misses. A cached `null` means "no kernel for this key" and is a hit too.
 */
export class LruCache<V> {
  readonly #map = new Map<string, V>();
  #hits = 0;
  #misses = 0;

  constructor(readonly limit: number) {}

  /** The value for `key`, made by `make` (and kept) on a miss. A `make` that throws keeps nothing. */
  getOrCreate(key: string, make: () => V): V {
    if (this.#map.has(key)) {
      const hit = this.#map.get(key) as V;
      this.#hits++;
      // Map order is insertion order: re-inserting marks the entry as recently used.
      this.#map.delete(key);
      this.#map.set(key, hit);
      return hit;
    }
    const made = make();
    this.#misses++;
    this.#map.set(key, made);
    if (this.#map.size > this.limit) this.#map.delete(this.#map.keys().next().value!);
    return made;
  }

  clear(): void {
    this.#map.clear();
    this.#hits = 0;
    this.#misses = 0;
  }

  stats(): { readonly size: number; readonly hits: number; readonly misses: number } {
    return { size: this.#map.size, hits: this.#hits, misses: this.#misses };
  }
}
