/**
 * The WebAssembly SIMD matmul (src/exec/wasm/gemm.ts) against independent references:
 * - a float32 loop in the kernel's own order (s = fround(s + fround(a * b)), p ascending from +0):
 *   the kernel must match it bit for bit, whatever its tiling, K slicing and chunk order;
 * - a float64 loop, with the stated bound |c - ref| <= (k + 2) * 2^-24 * sum_p |a_ip b_pj| (the
 *   recursive float32 summation bound), which is what is promised against the JS kernel (which
 *   accumulates in float64);
 * - for epilogues, the JS code generator running the epilogue body on the reference matmul value.
 */
import { describe, expect, it } from "vitest";
import "../../src/ir/ops/index.js";
import type { KernelSpec, Ref, SpecNode } from "../../src/exec/cpu/codegen-fused.js";
import { wasmMatmulPlan } from "../../src/exec/wasm/gemm.js";
import type { Graph } from "../../src/ir/graph.js";
import { matmulPlan } from "../../src/ir/ops/linalg.js";
import { type Attrs, getOp } from "../../src/ir/registry.js";
import { sizeOf } from "../../src/ir/shape.js";
import type { TensorType } from "../../src/ir/types.js";
import type { Tensor } from "../../src/index.js";
import { firstBitDifference, runJs, runPlan } from "../helpers/wasm-run.js";

const f32 = (shape: readonly number[]): TensorType => ({ dtype: "float32", shape });

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomArray(n: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * r() - 1;
  return a;
}

function matmulSpec(a: TensorType, b: TensorType): KernelSpec {
  const out = f32(matmulPlan(a, b).outShape);
  return { kind: "matmul", inputs: [a, b], nodes: [{ op: getOp("matmul"), operands: [{ input: 0 }, { input: 1 }], attrs: {}, type: out }], yields: [{ node: 0 }], outputs: [out] };
}

/** Reference matmul over the batch: `acc` is the summation (float32 in kernel order, or float64). */
function reference(a: TensorType, b: TensorType, A: Float32Array, B: Float32Array, mode: "f32" | "f64" | "abs"): Float64Array {
  const { m, n, k, batch, aBatchStrides, bBatchStrides } = matmulPlan(a, b);
  const count = sizeOf(batch);
  const out = new Float64Array(count * m * n);
  for (let t = 0; t < count; t++) {
    let rem = t;
    let aOff = 0;
    let bOff = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      const idx = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
      aOff += idx * aBatchStrides[d]!;
      bOff += idx * bBatchStrides[d]!;
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = A[aOff + i * k + p]!;
          const y = B[bOff + p * n + j]!;
          if (mode === "f32") s = Math.fround(s + Math.fround(x * y));
          else if (mode === "f64") s += x * y;
          else s += Math.abs(x * y);
        }
        out[t * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

function run(spec: KernelSpec, inputs: Float32Array[], shuffleSeed?: number, grain?: number): Float32Array {
  const plan = wasmMatmulPlan(spec, { shared: true });
  if (!plan) throw new Error("no plan");
  return runPlan(plan, inputs, spec.outputs, { ...(shuffleSeed === undefined ? {} : { shuffleSeed }), ...(grain === undefined ? {} : { grain }) })[0] as Float32Array;
}

/** Checks one matmul against both references; returns a failure message or "". */
function checkMatmul(aShape: number[], bShape: number[], seed: number): string {
  const a = f32(aShape);
  const b = f32(bShape);
  const r = rng(seed);
  const A = randomArray(sizeOf(aShape), r);
  const B = randomArray(sizeOf(bShape), r);
  const spec = matmulSpec(a, b);
  const got = run(spec, [A, B]);
  const want32 = Float32Array.from(reference(a, b, A, B, "f32"));
  const label = `[${aShape}] x [${bShape}]`;
  if (got.length !== want32.length) return `${label}: length ${got.length} != ${want32.length}`;
  const d = firstBitDifference(got, want32);
  if (d >= 0) return `${label}: element ${d} is ${got[d]}, float32-order reference ${want32[d]}`;
  const want64 = reference(a, b, A, B, "f64");
  const mag = reference(a, b, A, B, "abs");
  const k = matmulPlan(a, b).k;
  for (let i = 0; i < got.length; i++) {
    const tol = (k + 2) * 2 ** -24 * mag[i]!;
    if (Math.abs(got[i]! - want64[i]!) > tol) return `${label}: element ${i} is ${got[i]}, float64 reference ${want64[i]} (tolerance ${tol})`;
  }
  // Chunk order and chunk size change nothing.
  const shuffled = run(spec, [A, B], seed + 1);
  if (firstBitDifference(shuffled, got) >= 0) return `${label}: shuffled chunks changed the result`;
  const grain1 = run(spec, [A, B], seed + 2, 1);
  if (firstBitDifference(grain1, got) >= 0) return `${label}: grain 1 changed the result`;
  return "";
}

describe("wasm gemm: plain matmul", () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 5, 7], [17, 33, 65], [130, 1, 7], [1, 9, 1], [6, 8, 4], [12, 16, 256], [7, 9, 257],
    [13, 24, 600], [5, 3, 0], [0, 4, 3], [4, 0, 3], [64, 10, 512], [2, 100, 3], [31, 17, 513],
  ];
  it.each(shapes)("m=%i n=%i k=%i equals the float32-order reference bitwise and the float64 one within the bound", (m, n, k) => {
    expect(checkMatmul([m, k], [k, n], m * 1000 + n * 10 + k)).toBe("");
  });

  it("handles NaN and infinities like the float32 loop (0 * inf is NaN, not skipped)", () => {
    const a = f32([5, 9]);
    const b = f32([9, 11]);
    const r = rng(7);
    const A = randomArray(45, r);
    const B = randomArray(99, r);
    A[3] = Infinity;
    A[10] = 0;
    B[10 * 11 / 10] = Infinity;
    B[20] = NaN;
    A[44] = -Infinity;
    const spec = matmulSpec(a, b);
    const got = run(spec, [A, B]);
    const want = Float32Array.from(reference(a, b, A, B, "f32"));
    expect(firstBitDifference(got, want)).toBe(-1);
    expect(got.some((x) => Number.isNaN(x))).toBe(true);
  });

  it("random shapes", () => {
    const r = rng(99);
    const failures: string[] = [];
    for (let trial = 0; trial < 25; trial++) {
      const m = Math.floor(r() * 40);
      const n = Math.floor(r() * 40);
      const k = Math.floor(r() * 300);
      const msg = checkMatmul([m, k], [k, n], trial);
      if (msg) failures.push(msg);
    }
    expect(failures).toEqual([]);
  });
});

describe("wasm gemm: batched, broadcast and 1-D operands", () => {
  const cases: [number[], number[]][] = [
    [[3, 5, 7], [3, 7, 4]],
    [[2, 3, 5, 7], [7, 9]],
    [[5, 7], [4, 7, 9]],
    [[2, 1, 6, 5], [1, 3, 5, 10]],
    [[4, 1, 3, 2], [5, 2, 17]],
    [[7], [7]],
    [[7], [7, 5]],
    [[5, 7], [7]],
    [[2, 3, 7], [7]],
    [[7], [3, 7, 9]],
    [[2, 0, 3], [3, 4]],
    [[0, 3, 4], [0, 4, 2]],
    [[3, 1, 1], [3, 1, 1]],
    [[3, 13, 40], [40, 19]],
  ];
  it.each(cases)("%j x %j", (a, b) => {
    expect(checkMatmul(a, b, sizeOf(a) + 3 * sizeOf(b))).toBe("");
  });
});

// ---- epilogues ----------------------------------------------------------------------------------

/** The KernelSpec of a graph's single fused matmul node, built as src/exec/cpu/compile.ts does. */
function fusedSpec(g: Graph): KernelSpec {
  const node = g.nodes.find((n) => n.op === "fused" && n.attrs["kind"] === "matmul");
  if (!node) throw new Error("no fused matmul node");
  const types = new Map<string, TensorType>(g.params.map((p) => [p.name, p.type]));
  for (const n of g.nodes) for (const r of n.results) types.set(r.name, r.type);
  const region = node.regions![0]!;
  const refs = new Map<string, Ref>();
  region.params.forEach((p, k) => refs.set(p.name, { input: k }));
  const inputs = node.operands.map((o) => types.get(o)!);
  const nodes: SpecNode[] = region.nodes.map((n, j) => {
    const s: SpecNode = { op: getOp(n.op), operands: n.operands.map((o) => refs.get(o)!), attrs: n.attrs, type: n.results[0]!.type };
    refs.set(n.results[0]!.name, { node: j });
    return s;
  });
  return { kind: "matmul", inputs, nodes, yields: region.results.map((r) => refs.get(r)!), outputs: node.results.map((r) => r.type) };
}

/** Runs the spec's epilogue with the JS generator on a given matmul value (an extra input). */
function jsEpilogue(spec: KernelSpec, inputs: Float32Array[], mm: Float32Array): Float32Array {
  const extra = spec.inputs.length;
  const remap = (r: Ref): Ref => ("node" in r ? (r.node === 0 ? { input: extra } : { node: r.node - 1 }) : r);
  const ew: KernelSpec = {
    kind: "elementwise",
    inputs: [...spec.inputs, spec.nodes[0]!.type],
    nodes: spec.nodes.slice(1).map((n) => ({ ...n, operands: n.operands.map(remap) })),
    yields: spec.yields.map(remap),
    outputs: spec.outputs,
  };
  return runJs(ew, [...inputs, mm])[0] as Float32Array;
}

function checkEpilogue(spec: KernelSpec, seed: number): void {
  const r = rng(seed);
  const inputs = spec.inputs.map((t) => randomArray(sizeOf(t.shape), r));
  // Some negative and exactly-zero matmul values for relu.
  const mmNode = spec.nodes[0]!;
  const [ia, ib] = mmNode.operands.map((o) => (o as { input: number }).input) as [number, number];
  const mm = Float32Array.from(reference(spec.inputs[ia]!, spec.inputs[ib]!, inputs[ia]!, inputs[ib]!, "f32"));
  const want = jsEpilogue(spec, inputs, mm);
  const got = run(spec, inputs);
  expect(firstBitDifference(got, want)).toBe(-1);
  expect(firstBitDifference(run(spec, inputs, seed, 1), want)).toBe(-1);
}

describe("wasm gemm: epilogues", () => {
  const shapes: [number, number, number][] = [[6, 5, 4], [1, 1, 1], [17, 33, 65], [64, 10, 300], [3, 8, 0], [13, 9, 20]];
  it.each(shapes)("relu(matmul(x, w) + b) from a real trace, m=%i n=%i k=%i", async (m, n, k) => {
    const { fn, matmul, relu, zeros } = await import("../../src/index.js");
    const f = fn((x: Tensor, w: Tensor, b: Tensor) => relu(matmul(x, w).add(b)));
    const g = f.optimized(zeros([m, k]), zeros([k, n]), zeros([n]));
    const spec = fusedSpec(g);
    expect(spec.nodes.map((nd) => nd.op.name)).toEqual(["matmul", "add", "relu"]);
    checkEpilogue(spec, m + n + k);
  });

  it("bias broadcast over a batch, per-row scale, and chains of exact ops", async () => {
    const { fn, matmul, zeros } = await import("../../src/index.js");
    const f = fn((x: Tensor, w: Tensor, b: Tensor, s: Tensor) => matmul(x, w).mul(s).sub(b).maximum(b.neg()).div(s.abs().add(1)).sqrt());
    const g = f.optimized(zeros([2, 3, 7, 11]), zeros([11, 13]), zeros([3, 1, 13]), zeros([7, 1]));
    const spec = fusedSpec(g);
    expect(spec.nodes[0]!.op.name).toBe("matmul");
    expect(spec.nodes.length).toBeGreaterThan(4);
    checkEpilogue(spec, 5);
  });

  it("transcendental epilogues (vmath) stay within vmath's documented ulp bound of the JS kernel", async () => {
    const { fn, matmul, zeros } = await import("../../src/index.js");
    const f = fn((x: Tensor, w: Tensor, b: Tensor) => matmul(x, w).add(b).tanh().mul(b).sigmoid());
    const spec = fusedSpec(f.optimized(zeros([13, 7]), zeros([7, 19]), zeros([19])));
    expect(spec.nodes.map((nd) => nd.op.name)).toEqual(["matmul", "add", "tanh", "mul", "sigmoid"]);
    const r = rng(3);
    const inputs = spec.inputs.map((t) => randomArray(sizeOf(t.shape), r).map((v) => 4 * v));
    const mm = Float32Array.from(reference(spec.inputs[0]!, spec.inputs[1]!, inputs[0]!, inputs[1]!, "f32"));
    const want = jsEpilogue(spec, inputs, mm);
    const got = run(spec, inputs);
    // tanh's error (2 ulp) passes through mul (exact-ish) into sigmoid, whose slope is <= 1/4: a few ulps in all.
    const ulps = (a: number, b: number): number => {
      const i32 = new Int32Array(Float32Array.of(a, b).buffer);
      const key = (v: number): number => (v < 0 ? -2147483648 - v : v);
      return Math.abs(key(i32[0]!) - key(i32[1]!));
    };
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, ulps(got[i]!, want[i]!));
    expect(worst).toBeLessThanOrEqual(4);
  });

  it("an epilogue with a scalar constant and a full-shape operand", () => {
    const spec = handSpec([f32([9, 6]), f32([6, 10]), f32([]), f32([9, 10])], [9, 10], [
      ["mul", [{ node: 0 }, { input: 2 }]],
      ["add", [{ node: 1 }, { input: 3 }]],
      ["minimum", [{ node: 2 }, { input: 2 }]],
      ["square", [{ node: 3 }]],
    ]);
    checkEpilogue(spec, 11);
  });

  it("returns undefined for what it does not compile", () => {
    const mm = (a: number[], b: number[], dtype: "float32" | "float64" | "int32"): KernelSpec => {
      const s = matmulSpec({ dtype, shape: a }, { dtype, shape: b });
      return { ...s, inputs: s.inputs.map((t) => ({ ...t, dtype })), nodes: s.nodes.map((nd) => ({ ...nd, type: { ...nd.type, dtype } })), outputs: s.outputs.map((t) => ({ ...t, dtype })) };
    };
    expect(wasmMatmulPlan(mm([2, 3], [3, 4], "float64"), { shared: true })).toBeUndefined();
    expect(wasmMatmulPlan(mm([2, 3], [3, 4], "int32"), { shared: true })).toBeUndefined();
    expect(wasmMatmulPlan(mm([2, 3], [3, 4], "float32"), { shared: false })).toBeDefined();
    // pow has no exact f32x4 form here.
    const spec = handSpec([f32([4, 3]), f32([3, 5]), f32([5])], [4, 5], [["pow", [{ node: 0 }, { input: 2 }]]]);
    expect(wasmMatmulPlan(spec, { shared: true })).toBeUndefined();
  });
});

function handSpec(inputs: TensorType[], out: number[], body: [string, Ref[], Attrs?][]): KernelSpec {
  const nodes: SpecNode[] = [{ op: getOp("matmul"), operands: [{ input: 0 }, { input: 1 }], attrs: {}, type: f32(out) }];
  const typeOf = (r: Ref): TensorType => ("input" in r ? inputs[r.input]! : nodes[r.node]!.type);
  for (const [op, operands, attrs] of body) {
    const def = getOp(op);
    const type = def.infer(operands.map(typeOf), attrs ?? {})[0]!;
    nodes.push({ op: def, operands, attrs: attrs ?? {}, type });
  }
  return { kind: "matmul", inputs, nodes, yields: [{ node: nodes.length - 1 }], outputs: [nodes[nodes.length - 1]!.type] };
}
