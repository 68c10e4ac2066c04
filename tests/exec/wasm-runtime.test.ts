// The WebAssembly runtime: feature detection, thread settings and environment switches,
// backendInfo(), and the allocator (checked against a model with fast-check).
import fc from "fast-check";
import { availableParallelism } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ValueError } from "../../src/ir/errors.js";
import { HeapAllocator, PAGE_BYTES } from "../../src/exec/wasm/runtime-alloc.js";
import { backendInfo, getNumThreads, getWasmRuntime, INITIAL_PAGES, MAXIMUM_PAGES, setNumThreads } from "../../src/exec/wasm/runtime.js";

describe("runtime", () => {
  it("detects SIMD, shared memory and workers in Node 20, and creates one shared memory", () => {
    const rt = getWasmRuntime();
    expect(rt).toBeDefined();
    expect(getWasmRuntime()).toBe(rt);
    expect(rt!.shared).toBe(true);
    expect(rt!.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(rt!.memory.buffer.byteLength).toBeGreaterThanOrEqual(INITIAL_PAGES * PAGE_BYTES);
    expect(rt!.memoryImport).toEqual({ shared: true, initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES });
    const info = backendInfo();
    expect(info.cpu).toMatchObject({ kernels: "wasm-simd", simd: true, sharedMemory: true, threads: getNumThreads() });
  });

  it("defaults to min(4, availableParallelism()) threads (or SYMTENSOR_THREADS), and validates setNumThreads", () => {
    const env = process.env["SYMTENSOR_THREADS"];
    expect(getNumThreads()).toBe(env !== undefined && /^\d+$/.test(env) && Number(env) >= 1 ? Number(env) : Math.min(4, availableParallelism()));
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "2" as unknown as number]) {
      expect(() => setNumThreads(bad)).toThrow(ValueError);
    }
    try {
      setNumThreads(3);
      expect(getNumThreads()).toBe(3);
      expect(backendInfo().cpu.threads).toBe(3);
      setNumThreads(1);
      expect(getNumThreads()).toBe(1);
    } finally {
      setNumThreads(Math.min(4, availableParallelism()));
    }
  });

  it("hands out aligned, disjoint blocks and refreshes its views after the memory grows", () => {
    const rt = getWasmRuntime()!;
    const gen = rt.generation;
    const a = rt.alloc(100);
    const b = rt.alloc(3, 64);
    expect(a % 16).toBe(0);
    expect(b % 64).toBe(0);
    expect(a).toBeGreaterThan(0);
    rt.u8()[a] = 42;
    const before = rt.f32();
    // Larger than what is free: the memory grows; the shared buffer's old views stay valid.
    const big = rt.alloc(rt.memory.buffer.byteLength);
    expect(rt.generation).toBeGreaterThan(gen);
    expect(rt.f32()).not.toBe(before);
    expect(rt.f32().length * 4).toBe(rt.memory.buffer.byteLength);
    expect(before.length).toBeGreaterThan(0);
    expect(rt.u8()[a]).toBe(42);
    rt.u8()[big + rt.memory.buffer.byteLength / 2] = 1;
    for (const p of [a, b, big]) rt.free(p);
    expect(() => rt.free(a)).toThrow(ValueError);
  });
});

describe("environment switches", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ["SYMTENSOR_WASM", "SYMTENSOR_THREADS"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    vi.resetModules();
  });

  /** A fresh copy of the runtime module (and its feature probe) that reads the environment again. */
  async function freshRuntime(): Promise<typeof import("../../src/exec/wasm/runtime.js")> {
    vi.resetModules();
    return import("../../src/exec/wasm/runtime.js");
  }

  it("SYMTENSOR_WASM=0 turns the WebAssembly kernels off, and backendInfo says so", async () => {
    process.env["SYMTENSOR_WASM"] = "0";
    const m = await freshRuntime();
    expect(m.getWasmRuntime()).toBeUndefined();
    expect(m.getNumThreads()).toBe(1);
    const info = m.backendInfo();
    expect(info.cpu.kernels).toBe("js");
    expect(info.cpu.threads).toBe(1);
    expect(info.cpu.sharedMemory).toBe(false);
    expect(info.cpu.reason).toMatch(/SYMTENSOR_WASM=0/);
  });

  it("SYMTENSOR_THREADS sets the default, setNumThreads overrides it, a bad value is ignored with a reason", async () => {
    process.env["SYMTENSOR_THREADS"] = "3";
    let m = await freshRuntime();
    expect(m.getNumThreads()).toBe(3);
    expect(m.backendInfo().cpu.reason).toBeUndefined();
    m.setNumThreads(2);
    expect(m.getNumThreads()).toBe(2);
    process.env["SYMTENSOR_THREADS"] = "many";
    m = await freshRuntime();
    expect(m.getNumThreads()).toBe(Math.min(4, availableParallelism()));
    expect(m.backendInfo().cpu.reason).toMatch(/SYMTENSOR_THREADS="many" ignored/);
  });
});

describe("HeapAllocator", () => {
  type Cmd = { kind: "alloc"; bytes: number; alignLog2: number } | { kind: "free"; pick: number };
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("alloc" as const),
        bytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 3 * PAGE_BYTES })),
        alignLog2: fc.integer({ min: 0, max: 12 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  );

  it("matches a model: aligned, in bounds, disjoint, contents kept, free blocks coalesced, growth when full", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 120 }), fc.boolean(), (cmds, shared) => {
        const maximumPages = 16;
        const memory = new WebAssembly.Memory({ initial: 1, maximum: maximumPages, shared });
        let grows = 0;
        const heap = new HeapAllocator(memory, { base: 64, maximumPages, onGrow: () => grows++ });
        /** The model: live blocks with the byte each one was filled with. */
        const live: { ptr: number; bytes: number; fill: number }[] = [];
        let stamp = 0;
        for (const c of cmds) {
          if (c.kind === "alloc") {
            const align = 2 ** c.alignLog2;
            const end = memory.buffer.byteLength;
            let ptr: number;
            try {
              ptr = heap.alloc(c.bytes, align);
            } catch (e) {
              // Only when growing enough for the block (rounded to 16 bytes, plus worst-case
              // alignment padding) would pass the maximum.
              expect(e).toBeInstanceOf(RangeError);
              expect(memory.buffer.byteLength).toBe(end);
              const size = Math.max(16, Math.ceil(c.bytes / 16) * 16);
              expect(end / PAGE_BYTES + Math.ceil((size + Math.max(16, align)) / PAGE_BYTES)).toBeGreaterThan(maximumPages);
              continue;
            }
            expect(ptr % align).toBe(0);
            expect(ptr % 16).toBe(0);
            expect(ptr).toBeGreaterThanOrEqual(64);
            expect(ptr + c.bytes).toBeLessThanOrEqual(memory.buffer.byteLength);
            for (const o of live) expect(ptr + Math.max(c.bytes, 1) <= o.ptr || o.ptr + Math.max(o.bytes, 1) <= ptr).toBe(true);
            const fill = (stamp++ % 250) + 1;
            new Uint8Array(memory.buffer, ptr, c.bytes).fill(fill);
            live.push({ ptr, bytes: c.bytes, fill });
          } else if (live.length > 0) {
            const [victim] = live.splice(c.pick % live.length, 1);
            heap.free(victim!.ptr);
            expect(() => heap.free(victim!.ptr)).toThrow(ValueError);
          }
          // Every live block still holds what was written into it (growth copies nothing away).
          const u8 = new Uint8Array(memory.buffer);
          for (const o of live) {
            if (o.bytes > 0) {
              expect(u8[o.ptr]).toBe(o.fill);
              expect(u8[o.ptr + o.bytes - 1]).toBe(o.fill);
            }
          }
          const s = heap.stats();
          expect(s.end).toBe(memory.buffer.byteLength);
          expect(s.liveBlocks).toBe(live.length);
          expect(s.usedBytes).toBe(live.reduce((n, o) => n + Math.max(16, Math.ceil(o.bytes / 16) * 16), 0));
          expect(s.usedBytes + s.freeBytes).toBe(s.end - s.base);
          expect(s.growCount).toBe(grows);
          for (let i = 0; i < s.freeList.length; i++) {
            const [start, size] = s.freeList[i]!;
            expect(size).toBeGreaterThan(0);
            expect(start % 16).toBe(0);
            // Address-ordered and coalesced: a gap (a live block) between consecutive free blocks.
            if (i > 0) expect(start).toBeGreaterThan(s.freeList[i - 1]![0] + s.freeList[i - 1]![1]);
            for (const o of live) expect(start + size <= o.ptr || o.ptr + Math.max(o.bytes, 1) <= start).toBe(true);
          }
        }
        for (const o of live) heap.free(o.ptr);
        const s = heap.stats();
        expect(s.usedBytes).toBe(0);
        expect(s.freeList).toEqual([[64, s.end - 64]]);
      }),
      { numRuns: 150 },
    );
  });

  it("rejects bad sizes, alignments and pointers with a ValueError", () => {
    const heap = new HeapAllocator(new WebAssembly.Memory({ initial: 1, maximum: 2 }), { base: 16, maximumPages: 2 });
    for (const [bytes, align] of [
      [-1, 16],
      [1.5, 16],
      [Number.NaN, 16],
      [8, 3],
      [8, 0],
      [8, 2 * PAGE_BYTES],
    ] as const) {
      expect(() => heap.alloc(bytes, align)).toThrow(ValueError);
    }
    expect(() => heap.free(12345)).toThrow(ValueError);
    expect(() => heap.alloc(3 * PAGE_BYTES)).toThrow(RangeError);
    // A plain memory's buffer is replaced by growth (old views detached): growCount tells.
    const p = heap.alloc(PAGE_BYTES);
    expect(heap.stats().growCount).toBe(1);
    heap.free(p);
  });
});
