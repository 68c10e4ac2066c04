/**
 * What a parallelFor costs by itself: an empty kernel over a few chunks, with 1 thread (inline
 * loop, no synchronization) and 2 threads (the job is published, a worker may join, the caller
 * waits for it), back to back and after an idle gap (the worker asleep in Atomics.waitAsync).
 * Also a 1M-element fill kernel, to show the pool doing real work. Prints microseconds per call.
 * Run: npx tsx bench/wasm-pool.ts
 */
import { ModuleBuilder } from "../src/exec/wasm/emit.js";
import { loadKernel, parallelFor, poolStats, shutdownPool, warmUpPool, type WasmKernel } from "../src/exec/wasm/pool.js";
import { backendInfo, getWasmRuntime, setNumThreads } from "../src/exec/wasm/runtime.js";

const rt = getWasmRuntime();
if (rt === undefined) {
  console.log("no WebAssembly runtime:", backendInfo().cpu.reason);
  process.exit(0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function build(body: boolean): WasmKernel {
  const mb = new ModuleBuilder({ memory: rt!.memoryImport });
  mb.func("run", ["i32", "i32", "i32"], [], (f) => {
    if (!body) return;
    const out = f.local("i32");
    const i = f.local("i32");
    f.localGet(0);
    f.i32.load();
    f.localSet(out);
    f.forRange(i, { local: 1 }, { local: 2 }, 1, () => {
      f.localGet(out);
      f.localGet(i);
      f.i32.const(2);
      f.i32.shl();
      f.i32.add();
      f.localGet(i);
      f.f32.convertI32S();
      f.f32.const(0.5);
      f.f32.mul();
      f.f32.store();
    });
  });
  return loadKernel(mb.bytes(), "run", body ? "fill" : "empty");
}

/** Median microseconds per call over `samples` batches of `batch` calls. */
function perCall(fn: () => void, batch: number, samples: number): number {
  for (let i = 0; i < batch; i++) fn();
  const ts: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    ts.push(((performance.now() - t0) * 1000) / batch);
  }
  return median(ts);
}

/** Median microseconds of single calls each made after `gapMs` of idling (workers go to sleep). */
async function afterIdle(fn: () => void, gapMs: number, samples: number): Promise<number> {
  const ts: number[] = [];
  for (let s = 0; s < samples; s++) {
    await new Promise((r) => setTimeout(r, gapMs));
    const t0 = performance.now();
    fn();
    ts.push((performance.now() - t0) * 1000);
  }
  return median(ts);
}

const empty = build(false);
const fill = build(true);
const N = 1 << 20;
const out = rt.alloc(4 * N);
const args = rt.alloc(16);
rt.i32()[args >> 2] = out;

const rows: [string, string][] = [];
const fmt = (us: number): string => `${us.toFixed(2)} µs`;
for (const threads of [1, 2]) {
  setNumThreads(threads);
  await warmUpPool();
  await new Promise((r) => setTimeout(r, 50)); // let the workers receive the modules
  rows.push([`${threads} thread(s): empty kernel, 1 chunk (inline path)`, fmt(perCall(() => parallelFor(empty, args, 16, 16), 20_000, 15))]);
  rows.push([`${threads} thread(s): empty kernel, 2 chunks, back to back`, fmt(perCall(() => parallelFor(empty, args, 32, 16), 5_000, 15))]);
  rows.push([`${threads} thread(s): empty kernel, 16 chunks, back to back`, fmt(perCall(() => parallelFor(empty, args, 256, 16), 5_000, 15))]);
  rows.push([`${threads} thread(s): empty kernel, 2 chunks, after 2 ms idle`, fmt(await afterIdle(() => parallelFor(empty, args, 32, 16), 2, 41))]);
  const before = poolStats();
  rows.push([`${threads} thread(s): fill 1M f32, 64 chunks`, fmt(perCall(() => parallelFor(fill, args, N, N / 64), 20, 15))]);
  const after = poolStats();
  const total = after.chunksTotal - before.chunksTotal;
  if (total > 0) rows.push([`${threads} thread(s): fill 1M f32, share of chunks run by workers`, `${(100 * (1 - (after.chunksOnCaller - before.chunksOnCaller) / total)).toFixed(0)} %`]);
}
shutdownPool();

console.log(JSON.stringify(backendInfo().cpu));
const width = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
