/**
 * The WebAssembly SIMD elementwise and reduction kernels alone, on one thread, against the
 * JavaScript kernels generated for the same KernelSpecs (compileKernel): the elementwise chain
 * tanh(x*0.5+1)*x + sigmoid(x) over 1M float32, and softmax over [512,1024] rows (its three
 * kernels after fusion: the row max, exp(x - max) with its row sum, the divide).
 *
 * Inputs sit in the WebAssembly memory already (the executor keeps tensors there); the copy in
 * and out is timed separately for reference. Run: npx tsx bench/wasm-kernels.ts
 */
import { compileKernel, type KernelSpec, type Ref, type SpecNode } from "../src/exec/cpu/codegen-fused.js";
import { WASM_MAX_PAGES, type WasmKernelPlan } from "../src/exec/wasm/abi.js";
import { wasmElementwisePlan } from "../src/exec/wasm/codegen-elementwise.js";
import { wasmReducePlan } from "../src/exec/wasm/codegen-reduce.js";
import { allocate, type TypedArray } from "../src/ir/dtype.js";
import "../src/ir/ops/index.js";
import { type Attrs, getOp } from "../src/ir/registry.js";
import { sizeOf } from "../src/ir/shape.js";
import type { TensorType } from "../src/ir/types.js";

function spec(kind: KernelSpec["kind"], inputs: TensorType[], nodes: [string, string[], Attrs?][], yields: string[]): KernelSpec {
  const built: SpecNode[] = [];
  const ref = (s: string): Ref => (s[0] === "i" ? { input: Number(s.slice(1)) } : { node: Number(s.slice(1)) });
  const typeOf = (r: Ref): TensorType => ("input" in r ? inputs[r.input]! : built[r.node]!.type);
  for (const [op, operands, attrs = {}] of nodes) {
    const refs = operands.map(ref);
    built.push({ op: getOp(op), operands: refs, attrs, type: getOp(op).infer(refs.map(typeOf), attrs)[0]! });
  }
  const ys = yields.map(ref);
  return { kind, inputs, nodes: built, yields: ys, outputs: ys.map(typeOf) };
}

const memory = new WebAssembly.Memory({ initial: 4096, maximum: WASM_MAX_PAGES, shared: true });
let top = 1024;
const alloc = (bytes: number): number => {
  const at = top;
  top += Math.ceil(bytes / 16) * 16 + 16;
  return at;
};

/** A plan bound to fixed buffers: returns a function running every phase over its chunks in order. */
function bind(plan: WasmKernelPlan, addrs: number[]): () => void {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(plan.bytes), { env: { memory } });
  const args = alloc(4 * addrs.length);
  new Int32Array(memory.buffer).set(addrs, args / 4);
  const phases = plan.phases.map((p) => ({ run: inst.exports[p.entry] as (a: number, b: number, e: number) => void, items: p.items, grain: p.grain }));
  return () => {
    for (const p of phases) for (let b = 0; b < p.items; b += p.grain) p.run(args, b, Math.min(p.items, b + p.grain));
  };
}

function median(fn: () => void, reps: number): number {
  for (let i = 0; i < 3; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 8;
  }
  return a;
}

interface Case {
  readonly name: string;
  readonly specs: KernelSpec[];
  /** Per spec, where each input comes from: a host array or a previous spec's output [spec, output]. */
  readonly feeds: (TypedArray | [number, number])[][];
}

function run(c: Case, reps: number): void {
  // wasm: every buffer in the memory, kernels chained through it.
  const outAddrs: number[][] = [];
  const jsOuts: TypedArray[][] = [];
  const wasmRuns: (() => void)[] = [];
  const jsRuns: (() => void)[] = [];
  const hostIn: [TypedArray, number][] = [];
  c.specs.forEach((s, k) => {
    const plan = s.kind === "reduce" ? wasmReducePlan(s, { shared: true }) : wasmElementwisePlan(s, { shared: true });
    if (!plan) throw new Error(`${c.name}: spec ${k} has no wasm plan`);
    const inAddrs = c.feeds[k]!.map((src) => {
      if (Array.isArray(src)) return outAddrs[src[0]]![src[1]]!;
      const a = alloc(src.byteLength);
      new Uint8Array(memory.buffer).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), a);
      hostIn.push([src, a]);
      return a;
    });
    outAddrs.push(s.outputs.map((t) => alloc(sizeOf(t.shape) * 4)));
    wasmRuns.push(bind(plan, [...inAddrs, ...outAddrs[k]!]));
    const kernel = compileKernel(s, c.name);
    const outs = s.outputs.map((t) => allocate(t.dtype, sizeOf(t.shape)));
    jsOuts.push(outs);
    const env = [...c.feeds[k]!.map((src) => (Array.isArray(src) ? jsOuts[src[0]]![src[1]]! : src)), ...outs];
    const slots = Int32Array.from(env, (_, i) => i);
    jsRuns.push(() => kernel.fn(env, slots));
  });
  const wasmMs = median(() => wasmRuns.forEach((r) => r()), reps);
  const jsMs = median(() => jsRuns.forEach((r) => r()), reps);
  // Copy in (host inputs) and out (the last kernel's outputs), as an executor without resident tensors would pay.
  const last = c.specs.length - 1;
  const copyMs = median(() => {
    const u8 = new Uint8Array(memory.buffer);
    for (const [src, a] of hostIn) u8.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), a);
    c.specs[last]!.outputs.forEach((t, o) => new Float32Array(memory.buffer, outAddrs[last]![o]!, sizeOf(t.shape)).slice());
  }, reps);
  // Agreement: max relative difference of the final outputs.
  let maxRel = 0;
  c.specs[last]!.outputs.forEach((t, o) => {
    const w = new Float32Array(memory.buffer, outAddrs[last]![o]!, sizeOf(t.shape));
    const j = jsOuts[last]![o]!;
    for (let i = 0; i < w.length; i++) maxRel = Math.max(maxRel, Math.abs(w[i]! - j[i]!) / Math.max(1e-30, Math.abs(j[i]!)));
  });
  console.log(
    `${c.name.padEnd(34)} wasm ${wasmMs.toFixed(3).padStart(7)} ms   js ${jsMs.toFixed(3).padStart(7)} ms   speedup ${(jsMs / wasmMs).toFixed(1).padStart(5)}x   copy in/out ${copyMs.toFixed(3)} ms   max rel diff ${maxRel.toExponential(1)}`,
  );
}

const f32 = (shape: number[]): TensorType => ({ dtype: "float32", shape });
const N = 1 << 20;
const x = random(N, 1);
const chain = spec(
  "elementwise",
  [f32([N]), f32([]), f32([])],
  [["mul", ["i0", "i1"]], ["add", ["n0", "i2"]], ["tanh", ["n1"]], ["mul", ["n2", "i0"]], ["sigmoid", ["i0"]], ["add", ["n3", "n4"]]],
  ["n5"],
);
const [R, C] = [512, 1024];
const xs = random(R * C, 2);
const smMax = spec("reduce", [f32([R, C])], [["reduceMax", ["i0"], { axes: [1], keepDims: true }]], ["n0"]);
const smExp = spec("reduce", [f32([R, C]), f32([R, 1])], [["sub", ["i0", "i1"]], ["exp", ["n0"]], ["reduceSum", ["n1"], { axes: [1], keepDims: true }]], ["n1", "n2"]);
const smDiv = spec("elementwise", [f32([R, C]), f32([R, 1])], [["div", ["i0", "i1"]]], ["n0"]);
const colSum = spec("reduce", [f32([R, C])], [["reduceSum", ["i0"], { axes: [0] }]], ["n0"]);
const addN = spec("elementwise", [f32([N]), f32([N])], [["add", ["i0", "i1"]]], ["n0"]);
const biasRelu = spec("elementwise", [f32([64, 512]), f32([512])], [["add", ["i0", "i1"]], ["relu", ["n0"]]], ["n1"]);

const reps = Number(process.env["REPS"] ?? 30);
console.log(`one thread, median of ${reps} (after 3 warm-up calls); inputs resident in wasm memory`);
run({ name: "chain tanh(x*0.5+1)*x+sigmoid(x) 1M", specs: [chain], feeds: [[x, new Float32Array([0.5]), new Float32Array([1])]] }, reps);
run({ name: "softmax [512,1024] (3 kernels)", specs: [smMax, smExp, smDiv], feeds: [[xs], [xs, [0, 0]], [[1, 0], [1, 1]]] }, reps);
run({ name: "  softmax: row max", specs: [smMax], feeds: [[xs]] }, reps);
run({ name: "  softmax: exp(x - max) + row sum", specs: [smMax, smExp], feeds: [[xs], [xs, [0, 0]]] }, reps);
run({ name: "column sum [512,1024] axis 0", specs: [colSum], feeds: [[xs]] }, reps);
run({ name: "add 1M", specs: [addN], feeds: [[x, random(N, 3)]] }, reps);
run({ name: "bias + relu [64,512]", specs: [biasRelu], feeds: [[random(64 * 512, 4), random(512, 5)]] }, reps);

if (process.env["PARTS"]) {
  const un = (op: string): KernelSpec => spec("elementwise", [f32([N])], [[op, ["i0"]]], ["n0"]);
  for (const op of ["exp", "tanh", "sigmoid", "neg"]) run({ name: `  ${op} 1M`, specs: [un(op)], feeds: [[x]] }, reps);
  run({ name: "  softmax: divide", specs: [smDiv], feeds: [[xs, random(R, 9)]] }, reps);
  const expRow = spec("reduce", [f32([R, C])], [["exp", ["i0"]], ["reduceSum", ["n0"], { axes: [1] }]], ["n0", "n1"]);
  const sumRow = spec("reduce", [f32([R, C])], [["reduceSum", ["i0"], { axes: [1] }]], ["n0"]);
  run({ name: "  row sum", specs: [sumRow], feeds: [[xs]] }, reps);
  run({ name: "  exp + row sum", specs: [expRow], feeds: [[xs]] }, reps);
}
