/** The generated-kernel caches' LRU map: recency on hits, eviction at the limit, null entries, throwing makers. */
import { describe, expect, it } from "vitest";
import { LruCache } from "../../src/exec/lru-cache.js";

describe("LruCache", () => {
  it("keeps the most recently used entries and counts hits and misses", () => {
    const c = new LruCache<number>(2);
    let made = 0;
    const get = (k: string): number => c.getOrCreate(k, () => ++made);
    expect([get("a"), get("b"), get("a")]).toEqual([1, 2, 1]); // a is now more recent than b
    expect(get("c")).toBe(3); // evicts b, the least recently used
    expect(get("a")).toBe(1);
    expect(get("b")).toBe(4); // b was dropped and is made again
    expect(c.stats()).toEqual({ size: 2, hits: 2, misses: 4 });
    c.clear();
    expect(c.stats()).toEqual({ size: 0, hits: 0, misses: 0 });
  });

  it("caches null as an answer, and keeps nothing when the maker throws", () => {
    const c = new LruCache<string | null>(4);
    let calls = 0;
    expect(c.getOrCreate("none", () => (calls++, null))).toBeNull();
    expect(c.getOrCreate("none", () => (calls++, "x"))).toBeNull();
    expect(calls).toBe(1);
    expect(() => c.getOrCreate("bad", () => { throw new Error("no"); })).toThrow("no");
    expect(c.getOrCreate("bad", () => "ok")).toBe("ok");
    expect(c.stats().size).toBe(2);
  });
});
