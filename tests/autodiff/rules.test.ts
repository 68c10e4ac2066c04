/**
 * Numerical checks of every VJP rule: a one-op graph is differentiated with a minimal reverse pass
 * over that single node (the rule called with a GradBuilder that appends to the same graph), and
 * the gradient of sum(out * r) is compared with central finite differences in float64.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DType, dtypeInfo, isFloat, type TypedArray } from "../../src/ir/dtype.js";
import { GraphBuilder, type Value } from "../../src/ir/graph.js";
import "../../src/ir/ops/index.js";
import { type Attrs, type GradBuilder, type GradValue, getOp, listOps } from "../../src/ir/registry.js";
import { sizeOf } from "../../src/ir/shape.js";
import type { TensorType } from "../../src/ir/types.js";
import { verify } from "../../src/ir/verify.js";
import { interpret } from "../../src/exec/interpret.js";
import type { HostBuffer } from "../../src/exec/backend.js";
import * as st from "../../src/index.js";

// ---- a tiny deterministic generator --------------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How a float operand's values are drawn: kinks and domain edges are kept away from. */
type Gen = "any" | "pos" | "unit" | "away" | "distinct";

interface Operand {
  shape: readonly number[];
  dtype?: DType;
  gen?: Gen;
  /** Fixed data (indices, conditions). */
  data?: number[];
}

interface Case {
  op: string;
  attrs?: Attrs;
  inputs: Operand[];
  name?: string;
}

function fill(o: Operand, rand: () => number): TypedArray {
  const dtype = o.dtype ?? "float64";
  const n = sizeOf(o.shape);
  const arr = new (dtypeInfo(dtype).array)(n);
  if (o.data) {
    arr.set(o.data);
    return arr;
  }
  for (let i = 0; i < n; i++) {
    const u = rand();
    switch (o.gen ?? "any") {
      case "any":
        arr[i] = u * 4 - 2;
        break;
      case "pos":
        arr[i] = 0.3 + u * 2;
        break;
      case "unit":
        arr[i] = u * 1.6 - 0.8;
        break;
      case "away":
        arr[i] = (0.2 + u * 1.5) * (rand() < 0.5 ? -1 : 1);
        break;
      case "distinct":
        // well separated values, so max/min and sorting-like ops have no near-ties
        arr[i] = (i * 0.37 + 0.1) * (i % 2 ? 1 : -1) + u * 0.05;
        break;
    }
  }
  return arr;
}

/** Appends gradient nodes to `gb`, typing them with each op's own rule (as the transform does). */
class TestGradBuilder implements GradBuilder {
  constructor(private readonly gb: GraphBuilder) {}
  op(op: string, operands: readonly GradValue[], attrs: Attrs = {}): GradValue[] {
    const types = getOp(op).infer(operands.map((v) => v.type), attrs);
    return this.gb.addNode(op, operands.map((v) => v.name), attrs, types);
  }
  scalar(value: number, dtype: DType): GradValue {
    const data = new (dtypeInfo(dtype).array)(1);
    data[0] = value;
    return this.gb.addConstant({ dtype, shape: [] }, data);
  }
}

interface Built {
  grads: (HostBuffer | null)[];
  /** sum(out * r) at the given operand values. */
  objective: (inputs: TypedArray[]) => number;
  operandTypes: TensorType[];
}

function build(c: Case, rand: () => number, inputs: TypedArray[]): Built {
  const attrs = c.attrs ?? {};
  const def = getOp(c.op);
  const operandTypes = c.inputs.map((o) => ({ dtype: o.dtype ?? "float64", shape: o.shape }));
  const outTypes = def.infer(operandTypes, attrs);
  const seeds = outTypes.map((t) => fill({ shape: t.shape, dtype: t.dtype }, rand));

  // forward-only graph for the objective
  const fb = new GraphBuilder("fwd");
  const fParams = operandTypes.map((t, i) => fb.addParam(`%x${i}`, t));
  const fOuts = fb.addNode(c.op, fParams.map((p) => p.name), attrs, outTypes);
  const fwd = fb.build(fOuts.map((v) => v.name));
  verify(fwd);
  const objective = (xs: TypedArray[]): number => {
    const outs = interpret(fwd, xs.map((data, i) => ({ data, type: operandTypes[i]! })));
    let s = 0;
    outs.forEach((o, k) => {
      if (!isFloat(o.type.dtype)) return;
      for (let i = 0; i < o.data.length; i++) s += o.data[i]! * seeds[k]![i]!;
    });
    return s;
  };

  // forward + backward graph
  const gb = new GraphBuilder("bwd");
  const params = operandTypes.map((t, i) => gb.addParam(`%x${i}`, t));
  const rParams = outTypes.map((t, k) => gb.addParam(`%r${k}`, t));
  const outs = gb.addNode(c.op, params.map((p) => p.name), attrs, outTypes);
  const cts = rParams.map((r) => (isFloat(r.type.dtype) ? r : null));
  const rule = def.vjp;
  if (!rule) throw new Error(`${c.op} has no vjp rule`);
  const res = rule(new TestGradBuilder(gb), cts, params, outs, attrs);
  expect(res.length).toBe(params.length);
  const present = res.filter((r): r is Value => r !== null);
  const graph = gb.build(present.map((v) => v.name));
  verify(graph);
  res.forEach((r, i) => {
    if (r) expect(r.type).toEqual(operandTypes[i]);
  });
  const args: HostBuffer[] = [
    ...inputs.map((data, i) => ({ data, type: operandTypes[i]! })),
    ...seeds.map((data, k) => ({ data, type: outTypes[k]! })),
  ];
  const computed = interpret(graph, args);
  let j = 0;
  const grads = res.map((r) => (r ? computed[j++]! : null));
  return { grads, objective, operandTypes };
}

/** Central differences of the objective against each float operand, compared with the rule's gradient. */
function check(c: Case, seed = 1): (HostBuffer | null)[] {
  const rand = rng(seed);
  const inputs = c.inputs.map((o) => fill(o, rand));
  const { grads, objective, operandTypes } = build(c, rand, inputs);
  // float32 values round at ~1e-7, so their (linear) cases use a coarse step and tolerance.
  const single = [...operandTypes, ...getOp(c.op).infer(operandTypes, c.attrs ?? {})].some((t) => t.dtype === "float32");
  const eps = single ? 1e-2 : 1e-6;
  const rtol = single ? 1e-3 : 1e-5;
  operandTypes.forEach((t, i) => {
    if (!isFloat(t.dtype)) expect(grads[i], `${c.op}: operand ${i} (${t.dtype}) gets no gradient`).toBeNull();
  });
  operandTypes.forEach((t, i) => {
    if (!isFloat(t.dtype)) return;
    const g = grads[i];
    const x = inputs[i]!;
    for (let e = 0; e < x.length; e++) {
      const orig = x[e]!;
      x[e] = orig + eps;
      const up = objective(inputs);
      x[e] = orig - eps;
      const down = objective(inputs);
      x[e] = orig;
      const fd = (up - down) / (2 * eps);
      const got = g ? g.data[e]! : 0;
      const tol = rtol * Math.max(1, Math.abs(fd));
      if (!(Math.abs(got - fd) <= tol)) {
        throw new Error(`${c.name ?? c.op}: d/d operand ${i}[${e}] is ${got}, finite differences give ${fd}`);
      }
    }
  });
  return grads;
}

const f = (shape: readonly number[], gen: Gen = "any"): Operand => ({ shape, gen });

// ---- cases ---------------------------------------------------------------------------------------

const UNARY: [string, Gen][] = [
  ["neg", "any"], ["abs", "away"], ["square", "any"], ["relu", "away"], ["exp", "any"], ["expm1", "any"],
  ["log", "pos"], ["log1p", "pos"], ["sqrt", "pos"], ["rsqrt", "pos"], ["reciprocal", "away"],
  ["sin", "any"], ["cos", "any"], ["tan", "unit"], ["asin", "unit"], ["acos", "unit"], ["atan", "any"],
  ["sinh", "any"], ["cosh", "any"], ["tanh", "any"], ["sigmoid", "any"], ["erf", "any"],
];

const cases: Case[] = [];
for (const [op, gen] of UNARY) {
  for (const shape of [[2, 3], [], [0, 2]]) cases.push({ op, inputs: [f(shape, gen)], name: `${op} [${shape}]` });
}
cases.push({ op: "gelu", inputs: [f([7])], name: "gelu erf" });
cases.push({ op: "gelu", attrs: { approximate: true }, inputs: [f([7])], name: "gelu tanh" });
cases.push({ op: "gelu", attrs: { approximate: false }, inputs: [f([])], name: "gelu 0-d" });
cases.push({ op: "cast", attrs: { dtype: "float32" }, inputs: [f([4])], name: "cast f64->f32" });
cases.push({ op: "debugPrint", attrs: { label: "x" }, inputs: [f([2, 2])] });

const BINARY: [string, Gen, Gen][] = [
  ["add", "any", "any"], ["sub", "any", "any"], ["mul", "any", "any"], ["div", "any", "away"],
  ["pow", "pos", "any"], ["maximum", "distinct", "any"], ["minimum", "distinct", "any"], ["atan2", "away", "away"],
  ["mod", "pos", "pos"],
];
const BROADCASTS: [number[], number[]][] = [[[2, 3], [2, 3]], [[2, 3], [3]], [[4, 1, 3], [2, 1]], [[], [2, 2]], [[2, 1], []], [[0, 3], [1, 3]]];
for (const [op, ga, gb] of BINARY) {
  for (const [sa, sb] of BROADCASTS) cases.push({ op, inputs: [f(sa, ga), f(sb, gb)], name: `${op} [${sa}] [${sb}]` });
}
cases.push({ op: "where", inputs: [{ shape: [2, 3], dtype: "bool", data: [1, 0, 1, 1, 0, 0] }, f([3]), f([2, 1])], name: "where broadcast" });

// reductions
for (const op of ["reduceSum", "reduceMean", "reduceProd", "logSumExp", "reduceMax", "reduceMin"]) {
  const gen: Gen = op === "reduceMax" || op === "reduceMin" ? "distinct" : "any";
  for (const [shape, axes, keepDims] of [[[2, 3, 4], [1], false], [[2, 3, 4], [0, 2], true], [[3], [0], false], [[], [], false], [[2, 3], [], true], [[2, 3], [0, 1], false]] as [number[], number[], boolean][]) {
    cases.push({ op, attrs: { axes, keepDims }, inputs: [f(shape, gen)], name: `${op} [${shape}] axes ${axes} keepDims ${keepDims}` });
  }
}
for (const op of ["reduceSum", "reduceMean", "reduceProd"]) cases.push({ op, attrs: { axes: [1], keepDims: false }, inputs: [f([0, 3])], name: `${op} size-0` });
cases.push({ op: "reduceProd", attrs: { axes: [1], keepDims: false }, inputs: [{ shape: [2, 3], data: [0, 2, 3, 0, 0, 5] }], name: "reduceProd with zeros" });
for (const op of ["cumsum", "cumprod"]) {
  for (const [axis, exclusive, reverse] of [[1, false, false], [0, true, false], [1, false, true], [1, true, true], [null, false, false]] as [number | null, boolean, boolean][]) {
    cases.push({ op, attrs: { axis, exclusive, reverse }, inputs: [f([2, 3], op === "cumprod" ? "away" : "any")], name: `${op} axis ${axis} excl ${exclusive} rev ${reverse}` });
  }
}

// shape ops
cases.push({ op: "reshape", attrs: { shape: [3, 2] }, inputs: [f([2, 3])] });
cases.push({ op: "transpose", attrs: { perm: [2, 0, 1] }, inputs: [f([2, 3, 4])] });
cases.push({ op: "broadcastTo", attrs: { shape: [2, 4, 3] }, inputs: [f([4, 1])] });
cases.push({ op: "broadcastTo", attrs: { shape: [2, 3] }, inputs: [f([])], name: "broadcastTo 0-d" });
for (const [begin, end, strides] of [
  [[0, 1], [2, 4], [1, 1]], [[0, 0], [5, 6], [2, 3]], [[4, 5], [-1, -1], [-2, -1]], [[1, 2], [1, 2], [1, 1]], [[3, 5], [0, 0], [-1, -4]],
] as [number[], number[], number[]][]) {
  cases.push({ op: "slice", attrs: { begin, end, strides }, inputs: [f([5, 6])], name: `slice ${JSON.stringify([begin, end, strides])}` });
}
cases.push({ op: "flip", attrs: { axes: [0, 2] }, inputs: [f([2, 3, 2])] });
cases.push({ op: "concat", attrs: { axis: 1 }, inputs: [f([2, 1]), f([2, 0]), f([2, 3])] });
cases.push({ op: "split", attrs: { axis: 0, sizes: [1, 0, 2] }, inputs: [f([3, 2])] });
cases.push({ op: "gather", attrs: { axis: 1 }, inputs: [f([2, 4, 3]), { shape: [2, 3], dtype: "int32", data: [0, 3, -1, 1, 1, 0] }] });
cases.push({ op: "gather", attrs: { axis: 0 }, inputs: [f([3]), { shape: [], dtype: "int32", data: [2] }], name: "gather 0-d index" });
cases.push({ op: "pad", attrs: { paddings: [[1, 0], [2, 1]] }, inputs: [f([2, 3]), f([])] });
cases.push({ op: "oneHot", attrs: { depth: 4, axis: 1 }, inputs: [{ shape: [3], dtype: "int32", data: [0, 3, 7] }, f([]), f([])] });

// linalg
for (const [sa, sb] of [[[2, 3], [3, 4]], [[3], [3, 2]], [[2, 3], [3]], [[3], [3]], [[2, 1, 2, 3], [4, 3, 2]], [[5, 2, 3], [3, 1]], [[0, 3], [3, 2]]] as [number[], number[]][]) {
  cases.push({ op: "matmul", inputs: [f(sa), f(sb)], name: `matmul [${sa}] [${sb}]` });
}
for (const [sa, sb] of [[[2, 3], [3, 4]], [[3], [3]], [[2, 2, 3], [4, 3, 2]], [[3], [2, 3, 1]], [[2, 3], [3]]] as [number[], number[]][]) {
  cases.push({ op: "dot", inputs: [f(sa), f(sb)], name: `dot [${sa}] [${sb}]` });
}
for (const [xs, fs, strides, dilations, padding] of [
  [[2, 5, 5, 2], [3, 3, 2, 3], [1, 1], [1, 1], "valid"],
  [[1, 5, 6, 2], [3, 2, 2, 2], [1, 1], [1, 1], "same"],
  [[1, 7, 6, 1], [3, 3, 1, 2], [2, 2], [1, 1], "same"],
  [[1, 7, 8, 2], [2, 3, 2, 1], [2, 3], [1, 1], "valid"],
  [[1, 7, 7, 1], [2, 2, 1, 2], [1, 2], [2, 2], [[1, 2], [0, 3]]],
  [[5, 4, 2], [2, 2, 2, 2], [1, 1], [1, 1], [[2, 2], [2, 2]]],
] as [number[], number[], number[], number[], unknown][]) {
  cases.push({ op: "conv2d", attrs: { strides, dilations, padding } as Attrs, inputs: [f(xs), f(fs)], name: `conv2d x[${xs}] f[${fs}] s${strides} d${dilations} ${JSON.stringify(padding)}` });
}
for (const op of ["maxPool2d", "avgPool2d"]) {
  for (const [xs, windowShape, strides, padding] of [
    [[1, 4, 4, 2], [2, 2], [2, 2], "valid"], [[2, 5, 5, 1], [3, 3], [2, 2], "same"], [[4, 5, 1], [2, 3], [1, 2], "valid"], [[1, 3, 3, 1], [2, 2], [1, 1], "same"],
  ] as [number[], number[], number[], string][]) {
    cases.push({ op, attrs: { windowShape, strides, padding }, inputs: [f(xs, "distinct")], name: `${op} [${xs}] w${windowShape} s${strides} ${padding}` });
  }
}

describe("vjp rules match finite differences (float64)", () => {
  for (const c of cases) {
    it(c.name ?? c.op, () => {
      check(c);
    });
  }
  it("on random inputs: fast-check draws a rule case and the seed of its inputs", () => {
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (c, seed) => {
        check(c, seed);
      }),
      { numRuns: 300 },
    );
  });
});

describe("rules without gradients", () => {
  it("piecewise-constant and bool-valued ops give null", () => {
    for (const op of ["sign", "floor", "ceil", "round"]) expect(check({ op, inputs: [f([3], "away")] })).toEqual([null]);
    for (const op of ["floorDiv", "equal", "less", "greaterEqual", "logicalAnd"]) expect(check({ op, inputs: [f([3], "pos"), f([3], "pos")] })).toEqual([null, null]);
    for (const op of ["isNaN", "isFinite", "logicalNot"]) expect(check({ op, inputs: [f([3])] })).toEqual([null]);
    for (const op of ["argmax", "argmin"]) expect(check({ op, attrs: { axis: 0, keepDims: false }, inputs: [f([3], "distinct")] })).toEqual([null]);
    for (const op of ["reduceAny", "reduceAll"]) expect(check({ op, attrs: { axes: [0], keepDims: false }, inputs: [f([3])] })).toEqual([null]);
  });

  it("integer and bool operands never get a cotangent", () => {
    expect(check({ op: "mul", inputs: [{ shape: [3], dtype: "int32", data: [1, 2, 3] }, { shape: [3], dtype: "int32", data: [1, 2, 3] }] })).toEqual([null, null]);
    expect(check({ op: "reduceSum", attrs: { axes: [0], keepDims: false }, inputs: [{ shape: [3], dtype: "int32", data: [1, 2, 3] }] })).toEqual([null]);
    expect(check({ op: "cast", attrs: { dtype: "float64" }, inputs: [{ shape: [3], dtype: "int32", data: [1, 2, 3] }] })).toEqual([null]);
    expect(check({ op: "cast", attrs: { dtype: "int32" }, inputs: [f([3])] })).toEqual([null]);
  });

  it("float32 gradients keep float32", () => {
    const g = check({ op: "mul", inputs: [{ shape: [2, 3], dtype: "float32", data: [1, 2, 3, 4, 5, 6] }, { shape: [3], dtype: "float32", data: [1, 1, 1] }] });
    expect(g[1]?.type).toEqual({ dtype: "float32", shape: [3] });
  });

  it("every differentiable-looking op has a rule (fused is inlined by the transform)", () => {
    const missing = listOps().filter((d) => !d.vjp).map((d) => d.name);
    expect(missing).toEqual(["fused"]);
  });
});

describe("documented conventions", () => {
  const run = (c: Case, values: number[][]): (HostBuffer | null)[] => {
    const rand = rng(3);
    const inputs = c.inputs.map((o, i) => {
      const arr = fill(o, rand);
      arr.set(values[i]!);
      return arr;
    });
    return build(c, rand, inputs).grads;
  };

  it("maximum splits a tie equally (as JAX)", () => {
    const c: Case = { op: "maximum", inputs: [f([2]), f([2])] };
    const rand = rng(5);
    const inputs = [new Float64Array([1, 2]), new Float64Array([1, 3])];
    const { grads } = build(c, rand, inputs);
    const gx = grads[0]!.data;
    const gy = grads[1]!.data;
    expect(gx[0]).toBeCloseTo(gy[0]!, 12); // tie: equal shares
    expect(gx[1]).toBe(0);
  });

  it("reduceMax shares the cotangent among tied maxima", () => {
    const [g] = run({ op: "reduceMax", attrs: { axes: [0], keepDims: false }, inputs: [f([3])] }, [[2, 5, 5]]);
    expect(Math.abs(g!.data[0]!)).toBe(0);
    expect(g!.data[1]).toBeCloseTo(g!.data[2]!, 12);
  });

  it("maxPool2d sends a tied window's cotangent to its first maximum", () => {
    const [g] = run({ op: "maxPool2d", attrs: { windowShape: [2, 2], strides: [2, 2], padding: "valid" }, inputs: [f([2, 2, 1])] }, [[1, 3, 3, 0]]);
    expect(g!.data[1]).not.toBe(0);
    expect(g!.data[2]).toBe(0);
  });

  it("pow's exponent gradient is 0 where the base is 0", () => {
    const [, gy] = run({ op: "pow", inputs: [f([2]), f([2])] }, [[0, 2], [2, 3]]);
    expect(gy!.data[0]).toBe(0);
  });
});

// ---- end to end, through the transform and the public grad ---------------------------------------

describe("grad end to end", () => {
  /** Central differences of a scalar eager function of one float64 array. */
  function numericGrad(fn: (x: Float64Array) => number, x: Float64Array, eps = 1e-6): Float64Array {
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const orig = x[i]!;
      x[i] = orig + eps;
      const up = fn(x);
      x[i] = orig - eps;
      const down = fn(x);
      x[i] = orig;
      out[i] = (up - down) / (2 * eps);
    }
    return out;
  }

  function expectGradMatches(loss: (t: st.Tensor) => st.Tensor, shape: number[], seed: number): void {
    const x = fill({ shape, gen: "away" }, rng(seed)) as Float64Array;
    const asTensor = (d: Float64Array): st.Tensor => st.reshape(st.tensor(Array.from(d), { dtype: "float64" }), shape);
    const g = (st.grad(loss)(asTensor(x)) as st.Tensor).numpy();
    expect(g.shape).toEqual(shape);
    const fd = numericGrad((d) => Number(loss(asTensor(d)).numpy().data[0]), x);
    for (let i = 0; i < fd.length; i++) expect(Math.abs(g.data[i]! - fd[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(fd[i]!)));
  }

  it("softmax cross-entropy through matmul, broadcasting and gather", () => {
    const w = st.tensor([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]], { dtype: "float64" });
    const labels = st.tensor([2, 0, 1, 1], { dtype: "int32" });
    const loss = (x: st.Tensor): st.Tensor => {
      const logits = st.add(st.matmul(st.tanh(x), w), st.tensor([0.1, 0.2, 0.3], { dtype: "float64" }));
      const lse = st.logSumExp(logits, -1, true);
      const logp = st.sub(logits, lse);
      const picked = st.gather(st.reshape(logp, [12]), st.add(st.mul(st.tensor([0, 1, 2, 3], { dtype: "int32" }), 3), labels));
      return st.neg(st.reduceMean(picked));
    };
    expectGradMatches(loss, [4, 2], 11);
  });

  it("conv2d, maxPool2d and relu", () => {
    const filter = st.reshape(st.tensor(Array.from(fill({ shape: [18] }, rng(4))), { dtype: "float64" }), [3, 3, 1, 2]);
    const loss = (x: st.Tensor): st.Tensor => st.reduceSum(st.square(st.maxPool2d(st.relu(st.conv2d(x, filter, { padding: "same" })), { windowShape: [2, 2] })));
    expectGradMatches(loss, [1, 4, 4, 1], 12);
  });

  it("second derivative: grad of grad of sin is -sin", () => {
    const d2 = st.grad((x: st.Tensor) => st.reduceSum(st.grad((y: st.Tensor) => st.reduceSum(st.sin(y)))(x) as st.Tensor));
    const x = [0.3, 1.1, -2];
    const got = (d2(st.tensor(x, { dtype: "float64" })) as st.Tensor).numpy().data;
    x.forEach((v, i) => expect(got[i]).toBeCloseTo(-Math.sin(v), 12));
  });

  it("the gradient of a reduceProd with a zero is the product of the others", () => {
    const g = (st.grad((x: st.Tensor) => st.reduceProd(x))(st.tensor([2, 0, 3], { dtype: "float64" })) as st.Tensor).numpy();
    expect(Array.from(g.data)).toEqual([0, 6, 0]);
  });
});
