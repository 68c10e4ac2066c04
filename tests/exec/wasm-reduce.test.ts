import { describe, expect, it } from "vitest";
import type { KernelSpec } from "../../src/exec/cpu/codegen-fused.js";
import { wasmElementwisePlan } from "../../src/exec/wasm/codegen-elementwise.js";
import { wasmReducePlan } from "../../src/exec/wasm/codegen-reduce.js";
import { allocate, type DType, type TypedArray } from "../../src/ir/dtype.js";
import type { Graph } from "../../src/ir/graph.js";
import { sizeOf } from "../../src/ir/shape.js";
import type { TensorType } from "../../src/ir/types.js";
import type { Tensor } from "../../src/index.js";
import { firstBitDifference, makeSpec, type NodeText, permutation, runJs, runPlan, specsOf } from "../helpers/wasm-run.js";

const t = (dtype: DType, shape: readonly number[]): TensorType => ({ dtype, shape });

/** Moderate-range data (so float64 partial sums cannot cancel huge terms) with NaN/inf/±0 sprinkled in when `edges`. */
function data(d: DType, n: number, seed: number, edges = false): TypedArray {
  const a = allocate(d, n);
  const p = permutation(Math.max(n, 1), seed);
  for (let i = 0; i < n; i++) {
    const r = p[i]! / Math.max(n, 1);
    if (d === "bool") a[i] = (p[i]! + seed) % 3 === 0 ? 1 : 0;
    else if (d === "uint8") a[i] = (p[i]! * 31 + seed) & 255;
    else if (d === "int32") a[i] = i % 11 === 5 ? [2147483647, -2147483648][i % 2]! : Math.round((r - 0.5) * 1e6);
    else a[i] = edges && i % 97 === 13 ? [NaN, Infinity, -Infinity, -0][(i + seed) % 4]! : (r - 0.5) * 10 * ((i % 3) + 1);
  }
  return a;
}

function ulps(a: number, b: number): number {
  if (a !== a || b !== b) return a !== a && b !== b ? 0 : Infinity;
  const ord = (x: number): number => {
    const i = new Int32Array(new Float32Array([x]).buffer)[0]!;
    return i < 0 ? -(i & 0x7fffffff) : i;
  };
  return Math.abs(ord(a) - ord(b));
}

/**
 * Runs `spec` as a wasm plan (in order and in a shuffled chunk order, with the plan's grain and a
 * small one) and compares with the JS kernel: the reduction's result within `ulp` (0: bit-identical),
 * extra yields bit-identical.
 */
function check(spec: KernelSpec, label: string, opts: { ulp?: number; inputs?: TypedArray[]; edges?: boolean; grains?: readonly (number | undefined)[] } = {}): void {
  const plan = wasmReducePlan(spec, { shared: true });
  expect(plan, `${label}: a plan`).toBeDefined();
  const inputs = opts.inputs ?? spec.inputs.map((ty, k) => data(ty.dtype, sizeOf(ty.shape), 3 + k * 5, opts.edges ?? false));
  const want = runJs(spec, inputs);
  const last = spec.outputs.length - 1;
  let first: TypedArray[] | undefined;
  for (const grain of opts.grains ?? [undefined, 1, 3]) {
    for (const shuffleSeed of [undefined, 7]) {
      let got: TypedArray[];
      try {
        got = runPlan(plan!, inputs, spec.outputs, { ...(grain === undefined ? {} : { grain }), ...(shuffleSeed === undefined ? {} : { shuffleSeed }) });
      } catch (e) {
        throw new Error(`${label}: ${e instanceof Error ? e.message : String(e)}`);
      }
      want.forEach((w, o) => {
        const g = got[o]!;
        if (o === last && (opts.ulp ?? 0) > 0) {
          const bad = Array.from(w).findIndex((x, i) => !(ulps(g[i]!, x) <= opts.ulp!));
          expect(bad, `${label} result: at ${bad} wasm ${g[bad]} vs js ${w[bad]}`).toBe(-1);
        } else {
          const i = firstBitDifference(g, w);
          expect(i, `${label} output ${o}: at ${i} wasm ${g[i]} vs js ${w[i]}`).toBe(-1);
        }
      });
      // Whatever the split or order: the same bits.
      if (first) got.forEach((g, o) => expect(firstBitDifference(g, first![o]!), `${label}: chunking changed output ${o}`).toBe(-1));
      first ??= got;
    }
  }
}

const red = (op: string, shape: number[], axes: number[], keepDims = false, d: DType = "float32"): KernelSpec =>
  makeSpec("reduce", [t(d, shape)], [[op, ["i0"], { axes, keepDims }]], ["n0"]);

const SHAPES: [number[], number[]][] = [
  [[1], [0]],
  [[3], [0]],
  [[5], [0]],
  [[17], [0]],
  [[4, 9], [1]],
  [[6, 8], [1]],
  [[5, 1027], [1]],
  [[3, 1], [1]],
  [[7, 5], [0]], // column
  [[9, 37], [0]], // column, several groups and a partial one
  [[2, 6, 5], [1]], // middle axis: column mode over the last dim
  [[3, 4, 5], [0, 2]], // two reduced dims around a kept one: row mode with an outer reduced dim
  [[4, 3, 2], [0, 1, 2]],
  [[3, 4, 5], [0, 1]], // column mode, the reduced dims merged
  [[2, 3, 4, 5], [0, 2]], // column mode, reduced dims separated by a kept one
  [[2, 3, 4, 6], [1, 3]], // row mode, kept dims interleaved
  [[3, 2, 9], [0, 2]],
  [[2, 3], []], // reduces nothing
  [[0, 4], [1]],
];

describe("wasm reductions: single ops", () => {
  it("max and min are bit-identical (NaN, infinities and which zero wins included)", () => {
    for (const op of ["reduceMax", "reduceMin"]) {
      for (const [shape, axes] of SHAPES) {
        if (shape.includes(0)) continue;
        check(red(op, shape, axes, shape.length % 2 === 0), `${op}[${shape}] axes ${axes}`, { edges: true });
        check(red(op, shape, axes, true, "int32"), `${op} int32 [${shape}] axes ${axes}`);
      }
    }
  });

  it("the first zero of a row wins over a later zero of the other sign, as in the JS loop", () => {
    for (const n of [5, 8, 13]) {
      for (const op of ["reduceMax", "reduceMin"]) {
        for (let first = 0; first < n; first++) {
          // Negative (max) / positive (min) filler, zeros of alternating sign from `first` on.
          const x = new Float32Array(n).map((_, i) => (i < first ? (op === "reduceMax" ? -1 : 1) : i % 2 === first % 2 ? -0 : 0));
          check(red(op, [1, n], [1]), `${op} zeros from ${first} of ${n}`, { inputs: [x], grains: [undefined] });
          const y = x.map((v) => (Object.is(v, -0) ? 0 : Object.is(v, 0) ? -0 : v));
          check(red(op, [1, n], [1]), `${op} zeros (flipped) from ${first} of ${n}`, { inputs: [y], grains: [undefined] });
        }
      }
    }
  });

  it("rows whose result is a zero rerun with positions; other rows (and NaN rows) keep the fast result", () => {
    // Row mode runs float max/min without positions first and reruns a row only when its result
    // is a zero: mix rows of every kind in one call, with outer reduced dims and odd lengths.
    for (const [rows, inner] of [[6, 7], [4, 16], [3, 1]] as const) {
      for (const op of ["reduceMax", "reduceMin"]) {
        const s = op === "reduceMax" ? 1 : -1;
        const x = new Float32Array(rows * 2 * inner).map((_, i) => {
          const r = Math.floor(i / (2 * inner));
          const j = i % (2 * inner);
          if (r % 3 === 0) return j % 3 === 1 ? (j % 2 === 0 ? 0 : -0) : -s * (j + 1); // zeros win
          if (r % 3 === 1) return j === inner ? NaN : j % 2 === 0 ? -0 : 0; // NaN among zeros
          return s * ((j * 7) % 5) - s; // ties of a non-zero value
        });
        check(red(op, [rows, 2, inner], [1, 2]), `${op} mixed rows [${rows},2,${inner}]`, { inputs: [x] });
      }
    }
  });

  it("sums and means: column mode bit-identical, row mode within 1 ulp of the sequential float64 sum", () => {
    for (const op of ["reduceSum", "reduceMean"]) {
      for (const [shape, axes] of SHAPES) {
        if (shape.includes(0)) continue; // covered below
        const spec = red(op, shape, axes, false);
        // Column mode (last axis kept) accumulates each output in the JS order.
        const column = axes.length === 0 || !axes.includes(shape.length - 1) || shape[shape.length - 1] === 1;
        check(spec, `${op}[${shape}] axes ${axes}`, { ulp: column ? 0 : 1, edges: true });
      }
    }
    for (const [shape, axes] of SHAPES.slice(0, 12)) {
      for (const d of ["int32", "uint8", "bool"] as const) check(red("reduceSum", shape, axes, false, d), `${d} sum [${shape}] axes ${axes}`);
    }
  });

  it("any/all of every dtype and means of integers are bit-identical", () => {
    for (const [shape, axes] of SHAPES) {
      if (shape.includes(0)) continue;
      for (const d of ["float32", "int32", "uint8", "bool"] as const) {
        for (const op of ["reduceAny", "reduceAll"]) check(red(op, shape, axes, false, d), `${op} ${d} [${shape}] axes ${axes}`, { edges: true });
        // Integer means: the float64 sum of integers is exact, so the order does not matter.
        if (d !== "float32") check(red("reduceMean", shape, axes, true, d), `mean ${d} [${shape}] axes ${axes}`);
      }
    }
    // Sparse truth: rows where only the last element (in the tail) decides.
    for (const n of [5, 8, 11]) {
      const x = new Uint8Array(3 * n);
      x[n - 1] = 1;
      x[2 * n] = 1;
      check(red("reduceAny", [3, n], [1], false, "bool"), `any sparse ${n}`, { inputs: [x] });
      const y = new Float32Array(3 * n).fill(2);
      y[n - 1] = 0;
      y[2 * n + 1] = -0;
      check(red("reduceAll", [3, n], [1], false), `all sparse ${n}`, { inputs: [y] });
    }
  });

  it("an empty result has 0 items; an empty reduced extent declines (the JS kernel fills or throws)", () => {
    expect(wasmReducePlan(red("reduceSum", [0, 4], [1]), { shared: true })!.phases[0]!.items).toBe(0);
    expect(wasmReducePlan(red("reduceSum", [4, 0], [1]), { shared: true })).toBeUndefined();
    expect(wasmReducePlan(red("reduceProd", [4, 3], [1]), { shared: true })).toBeUndefined();
    expect(wasmReducePlan(red("reduceSum", [4, 3], [1], false, "float64"), { shared: true })).toBeUndefined();
  });
});

describe("wasm reductions: fused bodies", () => {
  const body = (shape: number[], rowShape: number[], axes: number[], nodes: NodeText[], yields: string[]): KernelSpec =>
    makeSpec("reduce", [t("float32", shape), t("float32", rowShape)], nodes, yields);

  it("softmax's exp(x - max) with its sum, the extra yield stored by the same loop", () => {
    for (const [rows, cols] of [[3, 5], [4, 16], [2, 1027], [1, 1], [7, 3]] as const) {
      const spec = body([rows, cols], [rows, 1], [1], [["sub", ["i0", "i1"]], ["exp", ["n0"]], ["reduceSum", ["n1"], { axes: [1], keepDims: true }]], ["n1", "n2"]);
      // exp comes from vmath (within 2 ulp of the JS kernel's Math.exp), so the stored exp values and
      // their sum are compared within 2 ulp (or 1e-6 relative for the sum), not bitwise.
      const plan = wasmReducePlan(spec, { shared: true });
      expect(plan).toBeDefined();
      const inputs = [data("float32", rows * cols, 1), new Float32Array(rows).fill(2)];
      const want = runJs(spec, inputs);
      const got = runPlan(plan!, inputs, spec.outputs, { grain: 1, shuffleSeed: 3 });
      const again = runPlan(plan!, inputs, spec.outputs);
      for (let o = 0; o < 2; o++) {
        const bad = Array.from(want[o]!).findIndex((x, i) => !(ulps(got[o]![i]!, x) <= 2 || Math.abs(got[o]![i]! - x) <= 1e-6 * Math.abs(x)));
        expect(bad, `softmax body [${rows},${cols}] output ${o}: at ${bad} ${got[o]![bad]} vs ${want[o]![bad]}`).toBe(-1);
        expect(firstBitDifference(got[o]!, again[o]!)).toBe(-1);
      }
    }
  });

  it("layerNorm's variance (sub, square, mean) and column bodies with a broadcast operand", () => {
    for (const [rows, cols] of [[3, 10], [5, 4], [2, 33]] as const) {
      check(body([rows, cols], [rows, 1], [1], [["sub", ["i0", "i1"]], ["mul", ["n0", "n0"]], ["reduceMean", ["n1"], { axes: [1], keepDims: true }]], ["n2"]), `variance [${rows},${cols}]`, { ulp: 1 });
      // Reducing the rows of x * bias-row: column mode, where max(relu(..)) is exact.
      const col = makeSpec("reduce", [t("float32", [rows, cols]), t("float32", [cols])], [["mul", ["i0", "i1"]], ["relu", ["n0"]], ["reduceMax", ["n1"], { axes: [0] }]], ["n0", "n2"]);
      check(col, `column body [${rows},${cols}]`);
      // Counting: sum(x > row) over each row (a bool body value summed into int32).
      check(body([rows, cols], [rows, 1], [1], [["greater", ["i0", "i1"]], ["reduceSum", ["n0"], { axes: [1] }]], ["n1"]), `count [${rows},${cols}]`);
      const colSum = makeSpec("reduce", [t("float32", [rows, cols]), t("float32", [])], [["mul", ["i0", "i1"]], ["reduceSum", ["n0"], { axes: [0] }]], ["n1"]);
      check(colSum, `column sum [${rows},${cols}]`);
    }
  });
});

describe("wasm reductions: real traces", () => {
  const fromGraph = (g: Graph): KernelSpec[] => specsOf(g).map((s) => s.spec);

  it("softmax run kernel by kernel through the wasm plans matches the interpreter within vmath's bound", async () => {
    const { fn, interpret, softmax, tensor } = await import("../../src/index.js");
    const [rows, cols] = [9, 131];
    const xd = data("float32", rows * cols, 4, true) as Float32Array;
    const g = fn((x: Tensor) => softmax(x, -1)).optimized(tensor(xd).reshape([rows, cols]));
    const env = new Map<string, TypedArray>([[g.params[0]!.name, xd]]);
    for (const c of g.constants) env.set(c.name, c.data);
    expect(specsOf(g).length, "every node is a generated kernel").toBe(g.nodes.length);
    for (const [k, { spec, inputs }] of specsOf(g).entries()) {
      const plan = spec.kind === "reduce" ? wasmReducePlan(spec, { shared: true }) : wasmElementwisePlan(spec, { shared: true });
      expect(plan).toBeDefined();
      const outs = runPlan(plan!, inputs.map((n) => env.get(n)!), spec.outputs, { shuffleSeed: k });
      g.nodes[k]!.results.forEach((r, o) => env.set(r.name, outs[o]!));
    }
    const got = env.get(g.results[0]!)!;
    const [want] = interpret(g, [{ data: xd, type: t("float32", [rows, cols]) }]);
    const bad = Array.from(want!.data).findIndex((w, i) => !(ulps(got[i]!, w) <= 4));
    expect(bad, `softmax at ${bad}: ${got[bad]} vs ${want!.data[bad]}`).toBe(-1);
  });

  it("every kernel of softmax and layerNorm takes the wasm path", async () => {
    const { fn, layerNorm, softmax, tensor } = await import("../../src/index.js");
    const x = tensor(data("float32", 6 * 37, 2) as Float32Array).reshape([6, 37]);
    for (const [name, g] of [
      ["softmax", fn((x: Tensor) => softmax(x, -1)).optimized(x)],
      ["layerNorm", fn((x: Tensor) => layerNorm(x)).optimized(x)],
    ] as const) {
      const specs = fromGraph(g);
      expect(specs.length, name).toBeGreaterThanOrEqual(3);
      for (const s of specs) {
        const plan = s.kind === "reduce" ? wasmReducePlan(s, { shared: true }) : wasmElementwisePlan(s, { shared: true });
        expect(plan, `${name}: ${s.kind} ${s.nodes.map((n) => n.op.name).join(",")}`).toBeDefined();
      }
    }
  });
});

describe("wasm reductions: random shapes", () => {
  it("random shapes, axes and a broadcast operand: max/min bit-identical, sums within 1 ulp", () => {
    let s = 777;
    const rnd = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    for (let c = 0; c < 40; c++) {
      const rank = 1 + rnd(4);
      const space = Array.from({ length: rank }, () => [1, 2, 3, 4, 5, 7, 9, 13, 33][rnd(9)]!);
      const axes = space.map((_, d) => d).filter(() => rnd(2) === 0);
      const op = ["reduceSum", "reduceMean", "reduceMax", "reduceMin"][rnd(4)]!;
      const bias = t("float32", space.map((d) => (rnd(2) === 0 ? 1 : d)));
      const spec = makeSpec("reduce", [t("float32", space), bias], [["mul", ["i0", "i1"]], ["sub", ["n0", "i1"]], [op, ["n1"], { axes, keepDims: rnd(2) === 0 }]], ["n1", "n2"]);
      check(spec, `random ${c}: ${op} [${space}] axes [${axes}] bias [${bias.shape}]`, { ulp: op === "reduceSum" || op === "reduceMean" ? 1 : 0, edges: rnd(2) === 0 });
    }
  });
});
