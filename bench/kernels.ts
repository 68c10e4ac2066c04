/**
 * Generated CPU kernels against hand-written JavaScript and the reference interpreter, on a few
 * kernel shapes: fused elementwise chains with broadcasting (one branch-free, one with relu), a row
 * reduction with an elementwise prologue, a column reduction (accumulator rows), and a matmul with
 * a bias + relu epilogue.
 *
 * Per workload: the compiled fused graph (the fuse pass, then compile), the compiled unfused graph
 * (one generated kernel per op, planned buffers), the interpreter, and a hand-written loop over the
 * same typed arrays. The hand-written loops compute in float64 and round once at the store, as a
 * person would write them; the compiled kernels round every float32 intermediate to match the
 * interpreter bit for bit, so small differences in results are expected and reported (maxAbsDiff).
 *
 * Writes bench/results/kernels.json. Run: npx tsx bench/kernels.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import type { HostBuffer } from "../src/exec/backend.js";
import { compile } from "../src/exec/cpu/compile.js";
import { gemm } from "../src/exec/cpu/kernels/matmul.js";
import { interpret } from "../src/exec/interpret.js";
import type { Graph } from "../src/ir/graph.js";
import { parse } from "../src/ir/parse.js";
import { fuse } from "../src/ir/passes/fuse.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Median ms per variant over `reps` rounds, after two warm-up calls each. Variants run round-robin
 * within each round, so a burst of load on a shared machine slows them all alike.
 */
function timeAll<K extends string>(variants: Record<K, () => void>, reps: number): Record<K, number> {
  const keys = Object.keys(variants) as K[];
  for (const k of keys) {
    variants[k]();
    variants[k]();
  }
  const ts = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let i = 0; i < reps; i++) {
    for (const k of keys) {
      const t0 = performance.now();
      variants[k]();
      ts[k].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, median(ts[k])])) as Record<K, number>;
}

function data(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 4;
  }
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

interface Workload {
  readonly id: string;
  readonly title: string;
  readonly text: string;
  readonly reps: number;
  /** The hand-written version: reads the same inputs, returns its output. */
  readonly hand: (inputs: readonly Float32Array[]) => Float32Array;
}

const N = 512;
const K = 256;

const WORKLOADS: Workload[] = [
  {
    id: "elementwise-norm",
    title: `(x - mean) * rstd * gamma + beta over f32[${N},${N}] with row and column broadcasts`,
    reps: 30,
    text: `func @f(%x: f32[${N},${N}], %m: f32[${N},1], %r: f32[${N},1], %g: f32[${N}], %b: f32[${N}]) -> (f32[${N},${N}]) {
  %0 = sub(%x, %m) : f32[${N},${N}]
  %1 = mul(%0, %r) : f32[${N},${N}]
  %2 = mul(%1, %g) : f32[${N},${N}]
  %3 = add(%2, %b) : f32[${N},${N}]
  return %3
}`,
    hand: ([x, m, r, g, b]) => {
      const out = new Float32Array(N * N);
      for (let i = 0; i < N; i++) {
        const mi = m![i]!;
        const ri = r![i]!;
        for (let j = 0, p = i * N; j < N; j++, p++) out[p] = (x![p]! - mi) * ri * g![j]! + b![j]!;
      }
      return out;
    },
  },
  {
    id: "elementwise-relu",
    title: `relu((x - m) * s + b) * 0.5 over f32[${N},${N}]: relu's data-dependent branch mispredicts on random signs`,
    reps: 30,
    text: `func @f(%x: f32[${N},${N}], %m: f32[${N},1], %s: f32[${N}], %b: f32[${N}]) -> (f32[${N},${N}]) {
  const %c0: f32[] = dense<0.5>
  %0 = sub(%x, %m) : f32[${N},${N}]
  %1 = mul(%0, %s) : f32[${N},${N}]
  %2 = add(%1, %b) : f32[${N},${N}]
  %3 = relu(%2) : f32[${N},${N}]
  %4 = mul(%3, %c0) : f32[${N},${N}]
  return %4
}`,
    hand: ([x, m, s, b]) => {
      const out = new Float32Array(N * N);
      for (let i = 0; i < N; i++) {
        const mi = m![i]!;
        for (let j = 0, p = i * N; j < N; j++, p++) {
          const v = (x![p]! - mi) * s![j]! + b![j]!;
          out[p] = (v > 0 ? v : 0) * 0.5;
        }
      }
      return out;
    },
  },
  {
    id: "reduce-rows",
    title: `sum(exp(x - m), axis 1) over f32[${N},${N}] (softmax denominator)`,
    reps: 30,
    text: `func @f(%x: f32[${N},${N}], %m: f32[${N},1]) -> (f32[${N}]) {
  %0 = sub(%x, %m) : f32[${N},${N}]
  %1 = exp(%0) : f32[${N},${N}]
  %2 = reduceSum(%1) {axes = [1], keepDims = false} : f32[${N}]
  return %2
}`,
    hand: ([x, m]) => {
      const out = new Float32Array(N);
      for (let i = 0; i < N; i++) {
        const mi = m![i]!;
        let acc = 0;
        for (let j = 0, p = i * N; j < N; j++, p++) acc += Math.exp(x![p]! - mi);
        out[i] = acc;
      }
      return out;
    },
  },
  {
    id: "reduce-columns",
    title: `mean(x * x, axis 0) over f32[${N},${N}] (accumulator rows)`,
    reps: 30,
    text: `func @f(%x: f32[${N},${N}]) -> (f32[${N}]) {
  %0 = mul(%x, %x) : f32[${N},${N}]
  %1 = reduceMean(%0) {axes = [0], keepDims = false} : f32[${N}]
  return %1
}`,
    hand: ([x]) => {
      const acc = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        for (let j = 0, p = i * N; j < N; j++, p++) {
          const v = x![p]!;
          acc[j]! += v * v;
        }
      }
      const out = new Float32Array(N);
      for (let j = 0; j < N; j++) out[j] = acc[j]! / N;
      return out;
    },
  },
  {
    id: "matmul-epilogue",
    title: `relu(x @ w + b) with x f32[${N},${K}], w f32[${K},${K}]`,
    reps: 10,
    text: `func @f(%x: f32[${N},${K}], %w: f32[${K},${K}], %b: f32[${K}]) -> (f32[${N},${K}]) {
  %0 = matmul(%x, %w) : f32[${N},${K}]
  %1 = add(%0, %b) : f32[${N},${K}]
  %2 = relu(%1) : f32[${N},${K}]
  return %2
}`,
    hand: ([x, w, b]) => {
      const out = new Float32Array(N * K);
      gemm("float32", x!, 0, K, w!, 0, K, out, 0, K, N, K, K);
      for (let i = 0, p = 0; i < N; i++) {
        for (let j = 0; j < K; j++, p++) {
          const v = out[p]! + b![j]!;
          out[p] = v > 0 ? v : 0;
        }
      }
      return out;
    },
  },
];

interface Row {
  readonly id: string;
  readonly title: string;
  readonly fusedKernels: string[];
  readonly ms: { compiledFused: number; compiledUnfused: number; interpret: number; handWritten: number };
  readonly speedupOverInterpret: number;
  readonly ratioToHandWritten: number;
  readonly maxAbsDiffToHandWritten: number;
  readonly plan: { fused: { peakBytes: number; buffers: number }; unfused: { peakBytes: number; buffers: number } };
}

function run(w: Workload): Row {
  const g: Graph = parse(w.text);
  const fg = fuse(g);
  const inputs: HostBuffer[] = g.params.map((p, i) => ({ type: p.type, data: data(p.type.shape.reduce((a, b) => a * b, 1), i + 1) }));
  const arrays = inputs.map((b) => b.data as Float32Array);
  const fused = compile(fg);
  const unfused = compile(g);
  const want = interpret(g, inputs)[0]!.data;
  const got = fused.run(inputs)[0]!.data;
  if (maxAbsDiff(got, want) !== 0) throw new Error(`${w.id}: the compiled result differs from the interpreter`);
  const hand = w.hand(arrays);
  const ms = timeAll(
    {
      compiledFused: () => void fused.run(inputs),
      compiledUnfused: () => void unfused.run(inputs),
      interpret: () => void interpret(g, inputs),
      handWritten: () => void w.hand(arrays),
    },
    w.reps,
  );
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    id: w.id,
    title: w.title,
    fusedKernels: fg.nodes.map((n) => (n.op === "fused" ? `fused:${String(n.attrs["kind"])}` : n.op)),
    ms: { compiledFused: round(ms.compiledFused), compiledUnfused: round(ms.compiledUnfused), interpret: round(ms.interpret), handWritten: round(ms.handWritten) },
    speedupOverInterpret: round(ms.interpret / ms.compiledFused),
    ratioToHandWritten: round(ms.compiledFused / ms.handWritten),
    maxAbsDiffToHandWritten: maxAbsDiff(got, hand),
    plan: {
      fused: { peakBytes: fused.plan.peakBytes, buffers: fused.plan.buffers },
      unfused: { peakBytes: unfused.plan.peakBytes, buffers: unfused.plan.buffers },
    },
  };
}

const rows = WORKLOADS.map(run);
for (const r of rows) {
  console.log(
    `${r.id.padEnd(18)} fused ${r.ms.compiledFused.toFixed(2)} ms | unfused ${r.ms.compiledUnfused.toFixed(2)} | interpret ${r.ms.interpret.toFixed(2)} | hand ${r.ms.handWritten.toFixed(2)} | x${r.speedupOverInterpret} vs interpret, ${r.ratioToHandWritten} of hand`,
  );
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/kernels.json", import.meta.url),
  JSON.stringify({ node: process.version, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString(), workloads: rows }, null, 2) + "\n",
);
