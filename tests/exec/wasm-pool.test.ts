// The WebAssembly kernel pool: fixed chunking independent of the thread count, every chunk run
// exactly once, many jobs in a row, traps surfacing as errors, kernels loaded after the workers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValueError } from "../../src/ir/errors.js";
import { ModuleBuilder, type FunctionBuilder } from "../../src/exec/wasm/emit.js";
import { loadKernel, parallelFor, poolStats, shutdownPool, warmUpPool, type WasmKernel } from "../../src/exec/wasm/pool.js";
import { getNumThreads, getWasmRuntime, setNumThreads, type WasmRuntime } from "../../src/exec/wasm/runtime.js";

const rt = getWasmRuntime() as WasmRuntime;

/** A kernel `run(args, begin, end)` whose body gets the locals: args, begin, end, out (args[0]), i. */
function kernel(name: string, body: (f: FunctionBuilder, l: { args: number; begin: number; end: number; out: number; i: number }) => void): WasmKernel {
  const mb = new ModuleBuilder({ memory: rt.memoryImport });
  mb.func("run", ["i32", "i32", "i32"], [], (f) => {
    const out = f.local("i32");
    const i = f.local("i32");
    f.localGet(0);
    f.i32.load();
    f.localSet(out);
    body(f, { args: 0, begin: 1, end: 2, out, i });
  });
  return loadKernel(mb.bytes(), "run", name);
}

/** Pushes the byte address of element i (4-byte elements) of `out`. */
function addr(f: FunctionBuilder, out: number, i: number): void {
  f.localGet(out);
  f.localGet(i);
  f.i32.const(2);
  f.i32.shl();
  f.i32.add();
}

/** out_f32[i] = f32(i) * 0.5 + 1 */
const fill = (): WasmKernel =>
  kernel("fill", (f, l) =>
    f.forRange(l.i, { local: l.begin }, { local: l.end }, 1, () => {
      addr(f, l.out, l.i);
      f.localGet(l.i);
      f.f32.convertI32S();
      f.f32.const(0.5);
      f.f32.mul();
      f.f32.const(1);
      f.f32.add();
      f.f32.store();
    }),
  );
/** out_i32[i] = begin: records the chunk each item was run in. */
const chunkOf = (): WasmKernel =>
  kernel("chunkOf", (f, l) =>
    f.forRange(l.i, { local: l.begin }, { local: l.end }, 1, () => {
      addr(f, l.out, l.i);
      f.localGet(l.begin);
      f.i32.store();
    }),
  );
/** out_i32[i] += 1: a chunk run twice, or not at all, shows up in the count. */
const increment = (): WasmKernel =>
  kernel("increment", (f, l) =>
    f.forRange(l.i, { local: l.begin }, { local: l.end }, 1, () => {
      addr(f, l.out, l.i);
      addr(f, l.out, l.i);
      f.i32.load();
      f.i32.const(1);
      f.i32.add();
      f.i32.store();
    }),
  );
/**
 * Chunk 0 first counts args[1] down to zero (keeping its thread busy), the chunk starting at
 * args[2] traps (`unreachable`), and every item stores 1.
 */
const trapping = (): WasmKernel =>
  kernel("trapping", (f, l) => {
    const n = f.local("i32");
    f.localGet(l.begin);
    f.i32.eqz();
    f.if();
    f.localGet(l.args);
    f.i32.load(4);
    f.localSet(n);
    f.block();
    f.loop();
    f.localGet(n);
    f.i32.eqz();
    f.brIf(1);
    f.localGet(n);
    f.i32.const(1);
    f.i32.sub();
    f.localSet(n);
    f.br(0);
    f.end();
    f.end();
    f.end();
    f.localGet(l.begin);
    f.localGet(l.args);
    f.i32.load(8);
    f.i32.eq();
    f.if();
    f.unreachable();
    f.end();
    f.forRange(l.i, { local: l.begin }, { local: l.end }, 1, () => {
      addr(f, l.out, l.i);
      f.i32.const(1);
      f.i32.store();
    });
  });

/** An argument block holding `values` (i32). */
function argBlock(...values: number[]): number {
  const p = rt.alloc(4 * Math.max(1, values.length));
  rt.i32().set(values, p >> 2);
  return p;
}

const GRAIN = 64;
const COUNTS = [0, 1, GRAIN - 1, GRAIN, GRAIN + 1, 3 * GRAIN, 100_003];
const THREADS = [1, 2, 3];

beforeAll(async () => {
  expect(rt).toBeDefined();
  expect(rt.shared).toBe(true);
  setNumThreads(2);
  await warmUpPool();
});

afterAll(() => {
  shutdownPool();
});

describe("parallelFor", () => {
  it("fills out[i] = f(i) over every count, the same for 1, 2 and 3 threads", async () => {
    const k = fill();
    const max = Math.max(...COUNTS);
    const out = rt.alloc(4 * (max + 8));
    const args = argBlock(out);
    for (const count of COUNTS) {
      const results: Float32Array[] = [];
      for (const t of THREADS) {
        setNumThreads(t);
        await warmUpPool();
        // Sentinel past the end (and in the untouched range) to catch writes outside [0, count).
        rt.f32().fill(-7, out >> 2, (out >> 2) + count + 8);
        parallelFor(k, args, count, GRAIN);
        results.push(rt.f32().slice(out >> 2, (out >> 2) + count + 8));
      }
      const expected = new Float32Array(count + 8).fill(-7);
      for (let i = 0; i < count; i++) expected[i] = Math.fround(Math.fround(i) * 0.5 + 1);
      for (const [t, r] of results.entries()) {
        let wrong = 0;
        // Object.is: bit-identical values (no tolerance: every thread runs the same instructions).
        for (let i = 0; i < expected.length; i++) if (!Object.is(r[i], expected[i])) wrong++;
        expect(wrong, `count ${count}, ${THREADS[t]} threads`).toBe(0);
      }
    }
    k.dispose();
  });

  it("cuts [0, count) into the same chunks of `grain` items at every thread count", async () => {
    const k = chunkOf();
    const count = 10_007;
    const out = rt.alloc(4 * count);
    const args = argBlock(out);
    for (const grain of [1, 7, 100, 4096, 10_007, 20_000]) {
      for (const t of THREADS) {
        setNumThreads(t);
        await warmUpPool();
        rt.i32().fill(-1, out >> 2, (out >> 2) + count);
        parallelFor(k, args, count, grain);
        const got = rt.i32().subarray(out >> 2, (out >> 2) + count);
        let bad = 0;
        for (let i = 0; i < count; i++) if (got[i] !== Math.floor(i / grain) * grain) bad++;
        expect(bad, `grain ${grain}, ${t} threads`).toBe(0);
      }
    }
  });

  it("runs 1,000 jobs in a row, each chunk exactly once, while the thread count changes", async () => {
    // Consecutive jobs differ in kernel, buffer, count and grain, and each buffer is checked right
    // after its job: a worker still running when parallelFor returns, or a late worker using one
    // job's parameters on the next job's chunks, shows up as a wrong count.
    const kernels = [increment(), increment()];
    const shapes = [
      { count: 65536 + 13, grain: 512 },
      { count: 30011, grain: 50 },
      { count: 7777, grain: 7 },
    ];
    const bufs = shapes.map(({ count }) => {
      const out = rt.alloc(4 * count);
      rt.i32().fill(0, out >> 2, (out >> 2) + count);
      return { out, args: argBlock(out), count, runs: 0 };
    });
    setNumThreads(2);
    await warmUpPool();
    let wrong = 0;
    for (let job = 0; job < 1000; job++) {
      if (job % 250 === 0) setNumThreads(1 + ((job / 250) % 3)); // 1, 2, 3, 1: the pool grows and shrinks between jobs
      const b = bufs[job % 3]!;
      parallelFor(kernels[job % 2]!, b.args, b.count, shapes[job % 3]!.grain);
      b.runs++;
      const got = rt.i32().subarray(b.out >> 2, (b.out >> 2) + b.count);
      for (let i = 0; i < b.count; i++) if (got[i] !== b.runs) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it("spreads a long job over the workers", async () => {
    setNumThreads(2);
    await warmUpPool();
    const k = increment();
    const count = 1 << 20;
    const out = rt.alloc(4 * count);
    rt.i32().fill(0, out >> 2, (out >> 2) + count);
    const args = argBlock(out);
    // Whether a worker gets a chunk of a given job is up to the scheduler, but over up to 50 jobs of
    // 1024 chunks each, a started worker takes part.
    let jobs = 0;
    let workerChunks = 0;
    while (jobs < 50 && workerChunks === 0) {
      const before = poolStats();
      parallelFor(k, args, count, 1024);
      const after = poolStats();
      workerChunks += after.chunksTotal - before.chunksTotal - (after.chunksOnCaller - before.chunksOnCaller);
      jobs++;
    }
    expect(workerChunks).toBeGreaterThan(0);
    expect(Array.from(new Set(rt.i32().subarray(out >> 2, (out >> 2) + count)))).toEqual([jobs]);
  });

  it("runs a kernel loaded after the workers started on the workers too", async () => {
    setNumThreads(2);
    await warmUpPool();
    const k = increment(); // loaded now: the module reaches the live workers by message
    const count = 1 << 20;
    const out = rt.alloc(4 * count);
    rt.i32().fill(0, out >> 2, (out >> 2) + count);
    const args = argBlock(out);
    // Let the worker's event loop receive the module.
    await new Promise((r) => setTimeout(r, 20));
    const before = poolStats();
    let jobs = 0;
    for (; jobs < 50; jobs++) {
      parallelFor(k, args, count, 1024);
      const s = poolStats();
      if (s.chunksTotal - before.chunksTotal > s.chunksOnCaller - before.chunksOnCaller) break;
    }
    expect(jobs).toBeLessThan(50);
    expect(Array.from(new Set(rt.i32().subarray(out >> 2, (out >> 2) + count)))).toEqual([jobs + 1]);
  });

  it("loads a module with several entries once, one kernel per entry, run as phases on the workers", async () => {
    setNumThreads(2);
    await warmUpPool();
    const mb = new ModuleBuilder({ memory: rt.memoryImport });
    const entry = (name: string, value: (f: FunctionBuilder, out: number, i: number) => void): void => {
      mb.func(name, ["i32", "i32", "i32"], [], (f) => {
        const out = f.local("i32");
        const i = f.local("i32");
        f.localGet(0);
        f.i32.load();
        f.localSet(out);
        f.forRange(i, { local: 1 }, { local: 2 }, 1, () => {
          addr(f, out, i);
          value(f, out, i);
          f.i32.store();
        });
      });
    };
    // Phase 1: out[i] = 3 i; phase 2: out[i] = out[i] + 1.
    entry("triple", (f, _out, i) => {
      f.localGet(i);
      f.i32.const(3);
      f.i32.mul();
    });
    entry("plusOne", (f, out, i) => {
      addr(f, out, i);
      f.i32.load();
      f.i32.const(1);
      f.i32.add();
    });
    const bytes = mb.bytes();
    const triple = loadKernel(bytes, "triple");
    const plusOne = loadKernel(bytes, "plusOne");
    expect(triple.instance).toBe(plusOne.instance);
    expect(triple.name).toBe("triple");
    expect(() => loadKernel(bytes, "missing")).toThrow(ValueError);
    const count = 1 << 18;
    const out = rt.alloc(4 * count);
    const args = argBlock(out);
    await new Promise((r) => setTimeout(r, 20));
    const expected = Int32Array.from({ length: count }, (_, i) => 3 * i + 1);
    const before = poolStats();
    let wrong = 0;
    for (let rep = 0; rep < 20; rep++) {
      parallelFor(triple, args, count, 512);
      parallelFor(plusOne, args, count, 512);
      const got = rt.i32().subarray(out >> 2, (out >> 2) + count);
      for (let i = 0; i < count; i++) if (got[i] !== expected[i]) wrong++;
    }
    expect(wrong).toBe(0);
    const after = poolStats();
    expect(after.chunksTotal - before.chunksTotal).toBeGreaterThan(after.chunksOnCaller - before.chunksOnCaller);
    // Disposing one entry leaves the other running (on the workers too).
    triple.dispose();
    rt.i32().fill(5, out >> 2, (out >> 2) + count);
    for (let rep = 0; rep < 10; rep++) parallelFor(plusOne, args, count, 512);
    expect(Array.from(new Set(rt.i32().subarray(out >> 2, (out >> 2) + count)))).toEqual([15]);
    plusOne.dispose();
  });

  it("turns a trap into an Error, on the calling thread and in a worker, and keeps working", async () => {
    const k = trapping();
    const grain = 16;
    const count = 8 * grain;
    const out = rt.alloc(4 * count);
    // Single thread: the trap is the engine's own RuntimeError.
    setNumThreads(1);
    expect(() => parallelFor(k, argBlock(out, 0, 3 * grain), count, grain)).toThrow(WebAssembly.RuntimeError);
    // Two threads: chunk 0 keeps one thread busy, so the other runs the trapping chunk 1.
    setNumThreads(2);
    await warmUpPool();
    let fromWorker = 0;
    for (let attempt = 0; attempt < 10; attempt++) {
      let caught: unknown;
      try {
        parallelFor(k, argBlock(out, 20_000_000, grain), count, grain);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(WebAssembly.RuntimeError);
      if (/worker thread/.test((caught as Error).message)) {
        expect((caught as Error).message).toMatch(/unreachable/);
        expect((caught as Error).message).toMatch(/kernel trapping/);
        fromWorker++;
      }
    }
    expect(fromWorker).toBeGreaterThan(0);
    // The pool still works: no trap this time (trapBegin = -1), every item stored.
    rt.i32().fill(0, out >> 2, (out >> 2) + count);
    parallelFor(k, argBlock(out, 1000, -1), count, grain);
    expect(Array.from(new Set(rt.i32().subarray(out >> 2, (out >> 2) + count)))).toEqual([1]);
    // An out-of-bounds access traps as well.
    const inc = increment();
    expect(() => parallelFor(inc, argBlock(rt.memory.buffer.byteLength - 64), 1024, 16)).toThrow(WebAssembly.RuntimeError);
  });

  it("validates its arguments", () => {
    const k = fill();
    const args = argBlock(rt.alloc(64));
    for (const [count, grain] of [
      [-1, 4],
      [1.5, 4],
      [Number.NaN, 4],
      [2 ** 31, 4],
      [10, 0],
      [10, 2.5],
    ] as const) {
      expect(() => parallelFor(k, args, count, grain)).toThrow(ValueError);
    }
    const empty = new ModuleBuilder({ memory: rt.memoryImport });
    empty.func("notRun", [], [], () => undefined);
    expect(() => loadKernel(empty.bytes())).toThrow(ValueError);
    expect(() => loadKernel(new Uint8Array([0, 1, 2]))).toThrow(WebAssembly.CompileError);
  });

  it("reports the pool's size", async () => {
    setNumThreads(3);
    await warmUpPool();
    expect(getNumThreads()).toBe(3);
    expect(poolStats().workers).toBe(2);
    setNumThreads(1);
    await warmUpPool();
    expect(poolStats().workers).toBe(0);
  });
});
