import { describe, expect, it } from "vitest";
import type { KernelSpec } from "../../src/exec/cpu/codegen-fused.js";
import { wasmElementwisePlan } from "../../src/exec/wasm/codegen-elementwise.js";
import { VMATH_ERROR } from "../../src/exec/wasm/vmath.js";
import { allocate, type DType, type TypedArray } from "../../src/ir/dtype.js";
import { sizeOf } from "../../src/ir/shape.js";
import type { TensorType } from "../../src/ir/types.js";
import type { Graph } from "../../src/ir/graph.js";
import type { Tensor } from "../../src/index.js";
import { firstBitDifference, makeSpec, type NodeText, permutation, runJs, runPlan, specsOf } from "../helpers/wasm-run.js";

const t = (dtype: DType, shape: readonly number[]): TensorType => ({ dtype, shape });

/** Deterministic test data with the float edge cases mixed in (NaN, infinities, ±0, tiny, huge). */
function data(d: DType, n: number, seed: number): TypedArray {
  const a = allocate(d, n);
  const p = permutation(Math.max(n, 1), seed);
  const special = [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-40, -1e-40, 3.4e38, -3.4e38, 2147483648, -2147483904, 300, -300, 254.7];
  for (let i = 0; i < n; i++) {
    const r = p[i]! / Math.max(n, 1);
    switch (d) {
      case "float32":
        a[i] = i % 7 === 3 ? special[(i * 13 + seed) % special.length]! : (r - 0.5) * 8 * ((i % 5) + 1);
        break;
      case "int32":
        a[i] = i % 9 === 4 ? [2147483647, -2147483648, 0, -1, 1][i % 5]! : Math.round((r - 0.5) * 2000);
        break;
      case "uint8":
        a[i] = (p[i]! * 37 + seed) & 255;
        break;
      default:
        a[i] = (p[i]! + seed) % 3 === 0 ? 1 : 0;
    }
  }
  return a;
}

/** Distance in float32 ulps between two floats (bit patterns ordered; NaN only matches NaN). */
function ulps(a: number, b: number): number {
  if (a !== a || b !== b) return a !== a && b !== b ? 0 : Infinity;
  const ord = (x: number): number => {
    const i = new Int32Array(new Float32Array([x]).buffer)[0]!;
    return i < 0 ? -(i & 0x7fffffff) : i;
  };
  return Math.abs(ord(a) - ord(b));
}

/** Index of the first element further than `ulp` float32 ulps from the reference, or -1. */
function firstUlpDifference(got: TypedArray, want: TypedArray, ulp: number, abs = 0): number {
  for (let i = 0; i < want.length; i++) if (!(ulps(got[i]!, want[i]!) <= ulp || Math.abs(got[i]! - want[i]!) <= abs)) return i;
  return -1;
}

function check(spec: KernelSpec, label: string, opts: { grain?: number; seed?: number; ulp?: number; abs?: number; inputs?: TypedArray[] } = {}): void {
  const plan = wasmElementwisePlan(spec, { shared: true });
  expect(plan, `${label}: a plan`).toBeDefined();
  const inputs = opts.inputs ?? spec.inputs.map((ty, k) => data(ty.dtype, sizeOf(ty.shape), k * 7 + (opts.seed ?? 1)));
  const want = runJs(spec, inputs);
  // A flat plan (grain a multiple of 4) may only be split at multiples of 4 elements.
  const grain = opts.grain !== undefined && plan!.phases[0]!.grain % 4 === 0 ? Math.ceil(opts.grain / 4) * 4 : opts.grain;
  const run = (shuffleSeed?: number): TypedArray[] => {
    try {
      return runPlan(plan!, inputs, spec.outputs, { ...(grain ? { grain } : {}), ...(shuffleSeed === undefined ? {} : { shuffleSeed }) });
    } catch (e) {
      throw new Error(`${label}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const got = run();
  const shuffled = run(99);
  want.forEach((w, o) => {
    const i = opts.ulp === undefined ? firstBitDifference(got[o]!, w) : firstUlpDifference(got[o]!, w, opts.ulp, opts.abs);
    expect(i, `${label} output ${o}: first difference at ${i}: wasm ${got[o]![i]} vs js ${w[i]} (inputs ${inputs.map((x) => x[i]).join(", ")})`).toBe(-1);
    expect(firstBitDifference(shuffled[o]!, got[o]!), `${label}: shuffled chunk order changes output ${o}`).toBe(-1);
  });
}

const SIZES = [0, 1, 3, 4, 5, 17, 33, 64, 257, 1001];

const UNARY_F32 = ["neg", "abs", "sqrt", "floor", "ceil", "round", "square", "relu", "sign", "reciprocal", "rsqrt", "isNaN", "isFinite", "logicalNot"];
const BINARY_F32 = ["add", "sub", "mul", "div", "maximum", "minimum", "equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual", "logicalAnd", "logicalOr", "logicalXor"];

describe("wasm elementwise: flat float32", () => {
  it("every exact unary op is bit-identical to the JS kernel", () => {
    for (const op of UNARY_F32) for (const n of SIZES) check(makeSpec("elementwise", [t("float32", [n])], [[op, ["i0"]]], ["n0"]), `${op}[${n}]`, { grain: 8 });
  });

  it("every exact binary op is bit-identical, also with a splatted scalar operand", () => {
    for (const op of BINARY_F32) {
      for (const n of SIZES) {
        check(makeSpec("elementwise", [t("float32", [n]), t("float32", [n])], [[op, ["i0", "i1"]]], ["n0"]), `${op}[${n}]`, { grain: 8 });
        check(makeSpec("elementwise", [t("float32", [n]), t("float32", [])], [[op, ["i0", "i1"]]], ["n0"]), `${op}([${n}], [])`, { grain: 12 });
        check(makeSpec("elementwise", [t("float32", [1]), t("float32", [n])], [[op, ["i0", "i1"]]], ["n0"]), `${op}([1], [${n}])`);
      }
    }
  });

  it("casts between float32 and int32 / uint8 / bool follow the cast template", () => {
    for (const to of ["int32", "uint8", "bool", "float32"] as const) {
      for (const n of [5, 64, 333]) check(makeSpec("elementwise", [t("float32", [n])], [["cast", ["i0"], { dtype: to }]], ["n0"]), `cast f32->${to}`);
    }
    for (const from of ["int32", "uint8", "bool"] as const) {
      for (const to of ["int32", "uint8", "bool", "float32"] as const) {
        check(makeSpec("elementwise", [t(from, [37])], [["cast", ["i0"], { dtype: to }]], ["n0"]), `cast ${from}->${to}`);
      }
    }
  });

  it("where, multiple outputs and in-body reuse", () => {
    for (const n of [1, 6, 130]) {
      const spec = makeSpec(
        "elementwise",
        [t("float32", [n]), t("float32", [n]), t("float32", [])],
        [
          ["greater", ["i0", "i1"]],
          ["mul", ["i0", "i2"]],
          ["where", ["n0", "n1", "i1"]],
          ["sub", ["n2", "i0"]],
        ],
        ["n2", "n0", "n3", "i1"],
      );
      check(spec, `where/multi [${n}]`, { grain: 4 });
    }
  });

  it("a chunked run in a shuffled order writes nothing outside the chunk (grain = plan grain)", () => {
    const n = 16384 * 3 + 5;
    check(makeSpec("elementwise", [t("float32", [n]), t("float32", [n])], [["add", ["i0", "i1"]], ["less", ["n0", "i1"]]], ["n0", "n1"]), "large add");
  });
});

describe("wasm elementwise: transcendentals through vmath", () => {
  it("each op is within vmath's documented ulp bound of the JS kernel, edge values included", () => {
    for (const [op, bound] of Object.entries(VMATH_ERROR)) {
      const arity = op === "pow" ? 2 : 1;
      const operands = arity === 2 ? ["i0", "i1"] : ["i0"];
      const spec1 = makeSpec("elementwise", Array.from({ length: arity }, () => t("float32", [4])), [[op, operands]], ["n0"]);
      // vmath.ts is written alongside this generator: a function it does not provide yet makes the plan decline.
      if (wasmElementwisePlan(spec1, { shared: true }) === undefined) {
        console.warn(`vmath has no ${op} yet: not checked`);
        continue;
      }
      for (const n of [1, 5, 203]) {
        const spec = makeSpec("elementwise", Array.from({ length: arity }, () => t("float32", [n])), [[op, operands]], ["n0"]);
        check(spec, `${op}[${n}]`, { grain: 8, ulp: bound.ulp, seed: n, ...("abs" in bound ? { abs: bound.abs } : {}) });
      }
    }
  });

  it("gelu (both forms) and the benchmark chain tanh(x*0.5+1)*x + sigmoid(x) stay within a few ulps", () => {
    // gelu is computed in float32 steps from vmath's erf/tanh; for x < -4 the JS kernel's float64
    // 1 + erf keeps a tail (|gelu| < 1e-5) that float32 rounds to 0, hence the absolute bound.
    for (const approximate of [false, true]) {
      check(makeSpec("elementwise", [t("float32", [301])], [["gelu", ["i0"], { approximate }]], ["n0"]), `gelu ${approximate}`, { ulp: 8, abs: 1e-5 });
    }
    const chain = makeSpec(
      "elementwise",
      [t("float32", [1003]), t("float32", []), t("float32", [])],
      [["mul", ["i0", "i1"]], ["add", ["n0", "i2"]], ["tanh", ["n1"]], ["mul", ["n2", "i0"]], ["sigmoid", ["i0"]], ["add", ["n3", "n4"]]],
      ["n5"],
    );
    // Where tanh(..)*x and sigmoid(x) (each within 2 ulps) cancel, the sum's error is relative to
    // the terms (magnitude ~1), not to the result: hence the absolute bound.
    const x = data("float32", 1003, 5);
    check(chain, "chain", { ulp: 8, abs: 4e-7, grain: 64, inputs: [x, new Float32Array([0.5]), new Float32Array([1])] });
  });
});

const INT_OPS: Record<string, readonly string[]> = {
  int32: ["add", "sub", "mul", "neg", "abs", "square", "relu", "sign", "maximum", "minimum", "equal", "less", "greaterEqual", "logicalAnd", "logicalNot", "isNaN", "isFinite"],
  uint8: ["add", "sub", "mul", "neg", "abs", "square", "relu", "sign", "maximum", "minimum", "notEqual", "lessEqual", "greater", "logicalOr", "logicalNot"],
  bool: ["add", "mul", "abs", "maximum", "minimum", "equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual", "logicalXor", "logicalNot", "isNaN"],
};

describe("wasm elementwise: int32, uint8 and bool operands", () => {
  it("every supported op is bit-identical to the JS kernel", () => {
    for (const [d, ops] of Object.entries(INT_OPS)) {
      for (const op of ops) {
        const arity = ["neg", "abs", "square", "relu", "sign", "logicalNot", "isNaN", "isFinite"].includes(op) ? 1 : 2;
        for (const n of [1, 7, 40, 131]) {
          const ins = Array.from({ length: arity }, () => t(d as DType, [n]));
          const nodes: NodeText[] = [[op, arity === 1 ? ["i0"] : ["i0", "i1"]]];
          check(makeSpec("elementwise", ins, nodes, ["n0"]), `${d} ${op}[${n}]`, { grain: 8 });
        }
      }
    }
  });

  it("where over int32 branches with a bool condition", () => {
    check(makeSpec("elementwise", [t("bool", [45]), t("int32", [45]), t("int32", [])], [["where", ["i0", "i1", "i2"]]], ["n0"]), "where int32");
  });
});

describe("wasm elementwise: broadcasting", () => {
  const cases: [number[], number[]][] = [
    [[4, 5], [5]], // bias row
    [[4, 5], [4, 1]], // column
    [[3, 1, 6], [1, 4, 1]], // outer product shaped
    [[2, 3, 9], [2, 1, 9]],
    [[5, 3], [5, 1]], // short rows: tail only
    [[7, 8], [8]],
    [[2, 3, 4, 5], [3, 1, 5]],
    [[0, 5], [5]],
    [[33, 1], [1, 17]], // output [33, 17]
    [[6, 1], [1, 1]],
  ];
  it("bias rows, columns and general patterns, with every chunk split", () => {
    for (const [a, b] of cases) {
      for (const op of ["add", "mul", "maximum", "greater"]) {
        const spec = makeSpec("elementwise", [t("float32", a), t("float32", b)], [[op, ["i0", "i1"]]], ["n0"]);
        for (const grain of [1, 2, 5]) check(spec, `${op}([${a}], [${b}]) grain ${grain}`, { grain });
      }
    }
  });

  it("strided inner dims (a transposed-like broadcast) gather lanes", () => {
    // [3, 4, 5] with a [3, 1, 1]-shaped operand and a [1, 4, 5]: the inner dim after collapsing is 20.
    check(makeSpec("elementwise", [t("float32", [3, 4, 5]), t("float32", [3, 1, 1]), t("float32", [1, 4, 5])], [["add", ["i0", "i1"]], ["mul", ["n0", "i2"]]], ["n0", "n1"]), "3-way");
    check(makeSpec("elementwise", [t("bool", [4, 1]), t("uint8", [1, 7]), t("uint8", [4, 7])], [["where", ["i0", "i1", "i2"]], ["equal", ["n0", "i2"]]], ["n0", "n1"]), "bytes");
  });

  it("layerNorm's normalize body: per-row values are computed once per row", () => {
    const spec = makeSpec(
      "elementwise",
      [t("float32", [6, 10]), t("float32", [6, 1]), t("float32", [6, 1]), t("float32", [])],
      [
        ["sub", ["i0", "i1"]],
        ["add", ["i2", "i3"]],
        ["sqrt", ["n1"]],
        ["div", ["n0", "n2"]],
      ],
      ["n3"],
    );
    check(spec, "layerNorm body", { grain: 4 });
  });
});

describe("wasm elementwise: bodies from real traces", () => {
  const elementwiseSpecs = (g: Graph): KernelSpec[] => specsOf(g).map((s) => s.spec).filter((s) => s.kind === "elementwise");

  it("the MLP's bias + relu and softmax's final divide take the wasm path and match the interpreter", async () => {
    // Loaded here, not at the top: the public entry pulls in the whole compiler.
    const { fn, interpret, layerNorm, relu, sigmoid, softmax, tanh, tensor } = await import("../../src/index.js");
    const f32 = (shape: number[], seed: number): Tensor => tensor(data("float32", sizeOf(shape), seed) as Float32Array).reshape(shape);
    const x = f32([8, 13], 3);
    const b = f32([13], 5);
    const graphs = [
      fn((x: Tensor, b: Tensor) => relu(x.add(b))).optimized(x, b),
      fn((x: Tensor) => softmax(x, -1)).optimized(x),
      fn((x: Tensor) => layerNorm(x)).optimized(x),
      fn((x: Tensor) => tanh(x.mul(0.5).add(1)).mul(x).add(sigmoid(x))).optimized(x),
    ];
    for (const g of graphs.slice(0, 3)) {
      const specs = elementwiseSpecs(g);
      expect(specs.length).toBeGreaterThan(0);
      for (const s of specs) check(s, `traced ${s.nodes.map((n) => n.op.name).join(",")}`, { grain: 3 });
    }
    // The whole bias+relu graph through the interpreter: the graph is one fused node.
    const g = graphs[0]!;
    const [spec] = elementwiseSpecs(g);
    const plan = wasmElementwisePlan(spec!, { shared: true })!;
    const [got] = runPlan(plan, [x.numpy().data, b.numpy().data], spec!.outputs);
    const [want] = interpret(g, [
      { data: x.numpy().data, type: t("float32", [8, 13]) },
      { data: b.numpy().data, type: t("float32", [13]) },
    ]);
    expect(firstBitDifference(got!, want!.data)).toBe(-1);
  });
});

describe("wasm elementwise: declines what it cannot reproduce", () => {
  it("returns undefined for float64, mod and (without vmath) transcendentals", () => {
    expect(wasmElementwisePlan(makeSpec("elementwise", [t("float64", [4])], [["neg", ["i0"]]], ["n0"]), { shared: true })).toBeUndefined();
    expect(wasmElementwisePlan(makeSpec("elementwise", [t("float32", [4]), t("float32", [4])], [["mod", ["i0", "i1"]]], ["n0"]), { shared: true })).toBeUndefined();
    expect(wasmElementwisePlan(makeSpec("elementwise", [t("int32", [4]), t("int32", [4])], [["floorDiv", ["i0", "i1"]]], ["n0"]), { shared: true })).toBeUndefined();
  });

  it("plans are deterministic: equal keys, equal bytes; size 0 has 0 items", () => {
    const spec = makeSpec("elementwise", [t("float32", [9]), t("float32", [9])], [["add", ["i0", "i1"]]], ["n0"]);
    const a = wasmElementwisePlan(spec, { shared: true })!;
    const b = wasmElementwisePlan(spec, { shared: true })!;
    expect(a.key).toBe(b.key);
    expect([...a.bytes]).toEqual([...b.bytes]);
    expect(wasmElementwisePlan(spec, { shared: false })!.key).not.toBe(a.key);
    const empty = wasmElementwisePlan(makeSpec("elementwise", [t("float32", [0, 3])], [["neg", ["i0"]]], ["n0"]), { shared: true })!;
    expect(empty.phases[0]!.items).toBe(0);
  });
});

describe("wasm elementwise: random shapes and bodies", () => {
  it("random broadcast patterns and op chains are bit-identical to the JS kernel", () => {
    let s = 12345;
    const rnd = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    const ops = ["add", "sub", "mul", "div", "maximum", "minimum", "neg", "abs", "relu", "square", "floor", "round", "sqrt"];
    for (let c = 0; c < 60; c++) {
      const rank = 1 + rnd(4);
      const space = Array.from({ length: rank }, () => [1, 2, 3, 4, 5, 7, 8, 9, 16, 17][rnd(10)]!);
      // Each input keeps a random subset of the trailing dims (the others broadcast).
      const inputs = Array.from({ length: 1 + rnd(3) }, () => {
        const drop = rnd(rank + 1);
        return t("float32", space.slice(drop).map((d) => (rnd(3) === 0 ? 1 : d)));
      });
      inputs.push(t("float32", space));
      const nodes: NodeText[] = [];
      const refs = inputs.map((_, k) => `i${k}`);
      for (let j = 0; j < 2 + rnd(5); j++) {
        const op = ops[rnd(ops.length)]!;
        const binaryOp = ["add", "sub", "mul", "div", "maximum", "minimum"].includes(op);
        nodes.push([op, binaryOp ? [refs[rnd(refs.length)]!, refs[rnd(refs.length)]!] : [refs[rnd(refs.length)]!]]);
        refs.push(`n${j}`);
      }
      // Yield the last node combined with the full-shape input, so the result has the space's shape.
      nodes.push(["add", [`n${nodes.length - 1}`, `i${inputs.length - 1}`]]);
      const spec = makeSpec("elementwise", inputs, nodes, [`n${nodes.length - 1}`]);
      check(spec, `random ${c}: [${space}] <- ${inputs.map((x) => `[${x.shape}]`).join(" ")}: ${nodes.map((n) => n[0]).join(",")}`, { grain: 1 + rnd(9), seed: c });
    }
  });
});
