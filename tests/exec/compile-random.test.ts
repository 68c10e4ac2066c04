/**
 * Random-graph differential testing of the CPU compiler: every compiled graph, with and without
 * the fuse pass, must give the interpreter's results on the ORIGINAL graph bit for bit, on two runs
 * with different inputs (so a planned buffer reused across runs cannot go unnoticed), and the
 * first run's results must survive the second run.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostBuffer } from "../../src/exec/backend.js";
import { compile, type CompileOptions } from "../../src/exec/cpu/compile.js";
import { setDebugSink } from "../../src/exec/cpu/kernels/debug.js";
import { interpret } from "../../src/exec/interpret.js";
import { type DType, DTYPES, dtypeInfo, isFloat, type TypedArray } from "../../src/ir/dtype.js";
import type { Graph, Node, Value } from "../../src/ir/graph.js";
import "../../src/ir/ops/index.js";
import { fuse } from "../../src/ir/passes/fuse.js";
import { print } from "../../src/ir/print.js";
import { type Attrs, getOp } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";
import { getWasmRuntime } from "../../src/exec/wasm/runtime.js";
import { randomGraph, Tape } from "../helpers/random-graph.js";

let restore: () => void;
beforeAll(() => {
  const prev = setDebugSink(() => {});
  restore = () => void setDebugSink(prev);
});
afterAll(() => restore());

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const F32_SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.5, 3.4028234663852886e38, 1.401298464324817e-45, 16777217];
const F64_SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.5, 1.7976931348623157e308, 5e-324, 2 ** 53 + 2];

/** Data from a seed: wide-range and special floats, full-range and small integers. */
function randomData(dtype: DType, n: number, seed: number): TypedArray {
  const a = new (dtypeInfo(dtype).array)(n);
  let s = (seed * 2654435761 + 12345) >>> 0;
  const next = (): number => {
    s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < n; i++) {
    const u = next();
    const v = next();
    switch (dtype) {
      case "bool":
        a[i] = u < 0.5 ? 0 : 1;
        break;
      case "uint8":
        a[i] = Math.floor(u * 256);
        break;
      case "int32":
        a[i] = v < 0.3 ? Math.floor((u - 0.5) * 2 ** 32) : Math.floor((u - 0.5) * 16);
        break;
      default: {
        const specials = dtype === "float32" ? F32_SPECIAL : F64_SPECIAL;
        a[i] = v < 0.2 ? specials[Math.floor(u * specials.length)]! : v < 0.3 ? (u - 0.5) * 1e6 : (u - 0.5) * 8;
      }
    }
  }
  return a;
}

const inputsFor = (g: Graph, seed: number): HostBuffer[] =>
  g.params.map((p, i) => ({ type: p.type, data: randomData(p.type.dtype, sizeOf(p.type.shape), seed * 97 + i) }));

/** The first difference between two result lists, or undefined (NaN equals NaN; -0 differs from 0). */
function difference(got: readonly HostBuffer[], want: readonly HostBuffer[]): string | undefined {
  if (got.length !== want.length) return `${got.length} results, expected ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (g.type.dtype !== w.type.dtype || g.type.shape.join() !== w.type.shape.join()) return `result ${i} has type ${JSON.stringify(g.type)}, expected ${JSON.stringify(w.type)}`;
    if (g.data.constructor !== w.data.constructor || g.data.length !== w.data.length) return `result ${i} is a ${g.data.constructor.name}(${g.data.length}), expected ${w.data.constructor.name}(${w.data.length})`;
    for (let k = 0; k < g.data.length; k++) {
      const a = g.data[k]!;
      const b = w.data[k]!;
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) return `result ${i}[${k}]: compiled ${a}, interpreted ${b}`;
    }
  }
  return undefined;
}

const copyOf = (bs: readonly HostBuffer[]): HostBuffer[] => bs.map((b) => ({ type: b.type, data: b.data.slice() }));

/** Compiles each variant of `g` and compares two runs with the interpreter on the original graph. */
function check(g: Graph, seed: number, options: CompileOptions = {}, compare = difference, data = inputsFor): { fused: Graph } {
  const a = data(g, seed);
  const b = data(g, seed + 1);
  const wantA = interpret(g, a);
  const wantB = interpret(g, b);
  const fused = fuse(g);
  const variants: [string, Graph][] = [["original", g], ["fused", fused]];
  for (const [label, variant] of variants) {
    const fail = (why: string): never => {
      throw new Error(`${label} graph, compiled with ${JSON.stringify(options)}: ${why}\n--- original ---\n${print(g)}\n--- ${label} ---\n${print(variant)}`);
    };
    const ex = compile(variant, options);
    const outA = ex.run(a);
    const keptA = copyOf(outA);
    const outB = ex.run(b);
    const d = compare(outA, wantA) ?? compare(outB, wantB) ?? difference(outA, keptA);
    if (d !== undefined) fail(d);
  }
  return { fused };
}

describe("compile: random graphs agree with the interpreter", () => {
  it("random registry graphs (1-40 ops), with and without the fuse pass", () => {
    fc.assert(
      fc.property(randomGraph(fc, { maxNodes: 40 }), fc.nat(), (g, seed) => {
        check(g, seed);
      }),
      { numRuns: 300 },
    );
  });

  it("without buffer reuse and without in-place writes", () => {
    fc.assert(
      fc.property(randomGraph(fc, { maxNodes: 20 }), fc.nat(), fc.constantFrom<CompileOptions>({ reuse: false }, { inPlace: false }), (g, seed, options) => {
        check(g, seed, options);
      }),
      { numRuns: 40 },
    );
  });

  it("fusion-heavy graphs: elementwise DAGs with broadcasting, matmul heads and reduction tails", () => {
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 200, size: "max" }), fc.nat(), (tape, seed) => {
        const g = fusionGraph(new Tape(tape));
        const { fused } = check(g, seed);
        for (const n of fused.nodes) {
          if (n.op !== "fused") continue;
          // "reduce+": a reduce kernel with extra (elementwise) results.
          const kind = `${String(n.attrs["kind"])}${n.attrs["kind"] === "reduce" && n.results.length > 1 ? "+" : ""}`;
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        }
      }),
      { numRuns: 300 },
    );
    // The generator must actually reach every kind of fused kernel.
    expect(kinds.get("elementwise") ?? 0).toBeGreaterThan(10);
    expect(kinds.get("reduce") ?? 0).toBeGreaterThan(5);
    expect(kinds.get("matmul") ?? 0).toBeGreaterThan(5);
    expect(kinds.get("reduce+") ?? 0).toBeGreaterThan(5);
  });
});

describe.skipIf(getWasmRuntime() === undefined)("compile: WebAssembly kernels agree with the interpreter", () => {
  // Sums and matmuls accumulate in another order than the JavaScript kernels, so floats compare
  // within 1e-4 relative (inputs are small quarter-integers, which most sums carry exactly); every
  // other result must match bit for bit.
  const wasmOptions: CompileOptions = { wasm: "always" };
  it("fusion-heavy graphs with exact ops, every supported kernel in WebAssembly", () => {
    let wasmKernels = 0;
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 200, size: "max" }), fc.nat(), (tape, seed) => {
        const g = fusionGraph(new Tape(tape), true);
        const { fused } = check(g, seed, wasmOptions, closeDifference, mildInputsFor);
        wasmKernels += compile(fused, wasmOptions).kernels.filter((k) => k.backend === "wasm").length;
      }),
      { numRuns: 200 },
    );
    expect(wasmKernels).toBeGreaterThan(100);
  });

  it("random registry graphs (1-40 ops): results match with the WebAssembly path on", () => {
    fc.assert(
      fc.property(randomGraph(fc, { maxNodes: 30 }), fc.nat(), (g, seed) => {
        if (g.nodes.some((n) => APPROXIMATED_ANY.has(n.op))) return;
        check(g, seed, wasmOptions, closeDifference, mildInputsFor);
      }),
      { numRuns: 150 },
    );
  });
});

/** Every op whose WebAssembly kernel may differ from JavaScript in the last bits (transcendentals). */
const APPROXIMATED_ANY = new Set(["exp", "expm1", "log", "log1p", "tanh", "sigmoid", "erf", "gelu", "sin", "cos", "tan", "atan", "asin", "acos", "sinh", "cosh", "pow", "atan2", "softmax", "logSoftmax", "logSumExp"]);

/** Quarter-integers in [-8, 8] with some specials: float sums are mostly exact in any order. */
function mildData(dtype: DType, n: number, seed: number): TypedArray {
  const a = randomData(dtype, n, seed);
  if (!isFloat(dtype)) return a;
  let s = (seed * 2246822519 + 7) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 13), 3266489917) + 0x7f4a7c15) >>> 0;
    const u = s / 2 ** 32;
    a[i] = u < 0.05 ? [NaN, Infinity, -Infinity, -0, 0][i % 5]! : Math.round((u - 0.5) * 64) / 4;
  }
  return a;
}

const mildInputsFor = (g: Graph, seed: number): HostBuffer[] =>
  g.params.map((p, i) => ({ type: p.type, data: mildData(p.type.dtype, sizeOf(p.type.shape), seed * 97 + i) }));

/** Like `difference`, but floats may differ by 1e-4 relative (or both be beyond 1e30 with one sign). */
function closeDifference(got: readonly HostBuffer[], want: readonly HostBuffer[]): string | undefined {
  const exact = difference(got, want);
  if (exact === undefined) return undefined;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!isFloat(w.type.dtype)) {
      const d = difference([g], [w]);
      if (d !== undefined) return `result ${i}: ${d}`;
      continue;
    }
    if (g.data.length !== w.data.length) return exact;
    for (let k = 0; k < g.data.length; k++) {
      const a = g.data[k]!;
      const b = w.data[k]!;
      if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
      if (Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a), Math.abs(b))) continue;
      if (Math.abs(a) > 1e30 && Math.abs(b) > 1e30 && Math.sign(a) === Math.sign(b)) continue;
      return `result ${i}[${k}]: compiled ${a}, interpreted ${b}`;
    }
  }
  return undefined;
}

// ---- graphs the fuse pass has work on -----------------------------------------------------------------

const UNARY: Record<string, readonly DType[]> = {
  neg: ["uint8", "int32", "float32", "float64"],
  abs: DTYPES,
  square: ["uint8", "int32", "float32", "float64"],
  relu: ["uint8", "int32", "float32", "float64"],
  exp: ["float32", "float64"],
  tanh: ["float32", "float64"],
  sqrt: ["float32", "float64"],
  sigmoid: ["float32", "float64"],
  floor: ["float32", "float64"],
  isNaN: DTYPES,
  logicalNot: DTYPES,
};
const BINARY: Record<string, readonly DType[]> = {
  add: DTYPES,
  sub: ["uint8", "int32", "float32", "float64"],
  mul: DTYPES,
  div: ["float32", "float64"],
  maximum: DTYPES,
  minimum: DTYPES,
  mod: ["uint8", "int32", "float32", "float64"],
  floorDiv: ["uint8", "int32", "float32", "float64"],
  pow: ["int32", "float32", "float64"],
  less: DTYPES,
  equal: DTYPES,
};
const REDUCTIONS = ["reduceSum", "reduceMean", "reduceMax", "reduceMin", "reduceProd"];
/** Ops whose WebAssembly kernels are approximations (checked by their own ulp tests instead). */
const APPROXIMATED = new Set(["exp", "tanh", "sigmoid", "pow"]);

/** `shape` with some leading dims dropped and some dims set to 1: a shape that broadcasts to it. */
function subShape(t: Tape, shape: readonly number[]): number[] {
  const drop = t.int(shape.length + 1);
  return shape.slice(drop).map((d) => (t.chance(30) ? 1 : d));
}

/**
 * A graph of parameters broadcasting to one space, an elementwise DAG over them (optionally after
 * a matmul), and optionally a reduction at the end; some intermediates are returned too.
 */
function fusionGraph(t: Tape, exact = false): Graph {
  // `exact`: only ops whose WebAssembly kernels promise the JavaScript kernels' bits (no
  // transcendental approximations), float32 mostly, and sizes that leave vector tails.
  const dtype = t.pick<DType>(exact ? ["float32", "float32", "float32", "int32", "bool"] : ["float32", "float32", "float64", "int32", "uint8", "bool"]);
  const unaryOps = Object.keys(UNARY).filter((op) => !exact || !APPROXIMATED.has(op));
  const binaryOps = Object.keys(BINARY).filter((op) => !exact || !APPROXIMATED.has(op));
  const dims = exact ? [1, 3, 4, 5, 17, 33] : [1, 2, 3, 4, 5];
  const params: Value[] = [];
  const nodes: Node[] = [];
  let next = 0;
  const param = (type: TensorType): Value => {
    const v = { name: `%arg${params.length}`, type };
    params.push(v);
    return v;
  };
  const node = (op: string, operands: readonly Value[], attrs: Attrs = {}): Value | undefined => {
    let types: TensorType[];
    try {
      types = getOp(op).infer(operands.map((v) => v.type), attrs);
    } catch {
      return undefined;
    }
    const results = types.map((type) => ({ name: `%${next++}`, type }));
    nodes.push({ op, operands: operands.map((v) => v.name), results, attrs });
    return results[0];
  };
  let space = Array.from({ length: 1 + t.int(3) }, () => t.pick(dims));
  const pool: Value[] = [];
  if (dtype !== "bool" && t.chance(40)) {
    const [m, k, n] = [1 + t.int(5), 1 + t.int(6), 1 + t.int(5)];
    const batch = t.chance(30) ? [1 + t.int(3)] : [];
    const mm = node("matmul", [param({ dtype, shape: [...batch, m, k] }), param({ dtype, shape: [k, n] })]);
    if (mm) {
      // One epilogue consumer (bias add, scale or activation), so the fuse pass has a chain to take.
      space = [...mm.type.shape];
      const bias = param({ dtype, shape: subShape(t, space) });
      const ops = binaryOps.filter((op) => BINARY[op]!.includes(dtype) && op !== "less" && op !== "equal");
      const epilogue = t.chance(70) ? node(t.pick(ops), [mm, bias]) : node("relu", [mm]);
      pool.push(epilogue ?? mm);
    }
  }
  for (let i = 1 + t.int(3); i > 0; i--) pool.push(param({ dtype, shape: subShape(t, space) }));
  if (t.chance(30)) pool.push(param({ dtype: "bool", shape: subShape(t, space) }));
  for (let i = 1 + t.int(12); i > 0; i--) {
    const x = t.pick(pool);
    const same = pool.filter((v) => v.type.dtype === x.type.dtype);
    let v: Value | undefined;
    switch (t.int(6)) {
      case 0:
      case 1: {
        const ops = unaryOps.filter((op) => UNARY[op]!.includes(x.type.dtype));
        v = ops.length ? node(t.pick(ops), [x]) : undefined;
        break;
      }
      case 2:
      case 3: {
        const ops = binaryOps.filter((op) => BINARY[op]!.includes(x.type.dtype));
        v = ops.length ? node(t.pick(ops), [x, t.pick(same)]) : undefined;
        break;
      }
      case 4:
        v = node("cast", [x], { dtype: t.pick(DTYPES) });
        break;
      default: {
        const conds = pool.filter((c) => c.type.dtype === "bool");
        v = conds.length ? node("where", [t.pick(conds), x, t.pick(same)]) : undefined;
      }
    }
    if (v) pool.push(v);
  }
  const computed = nodes.flatMap((n) => n.results);
  let last = computed[computed.length - 1] ?? pool[0]!;
  if (t.chance(25) && isFloat(last.type.dtype)) {
    // The softmax shape: an expensive value, reduced with keepDims and combined with its reduction
    // (the fuse pass writes the value from the reduce kernel), sometimes through a cheap op.
    const rank = last.type.shape.length;
    const e = node(t.pick(exact ? ["square", "abs", "relu"] : ["exp", "tanh", "sigmoid"]), [last]);
    const into = e && t.chance(50) ? node("mul", [e, t.pick(pool)]) : e;
    const axes = Array.from({ length: rank }, (_, d) => d).filter(() => t.chance(50));
    const r = into && node(t.pick(REDUCTIONS), [into], { axes, keepDims: true });
    const back = e && r ? node(t.pick(["div", "sub", "mul"]), [e, r]) : undefined;
    if (back) last = back;
  }
  if (t.chance(50)) {
    const rank = last.type.shape.length;
    const axes = Array.from({ length: rank }, (_, d) => d).filter(() => t.chance(50));
    const r = node(t.pick(REDUCTIONS), [last], { axes, keepDims: t.chance(50) });
    if (r) last = r;
  }
  const results = [last.name];
  if (t.chance(40) && computed.length > 1) {
    const extra = t.pick(computed).name;
    if (!results.includes(extra)) results.push(extra);
  }
  return { name: "fusible", params, constants: [], nodes, results };
}
