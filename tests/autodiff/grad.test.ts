/** grad / valueAndGrad / vjp / stopGradient and the vjpGraph transform, against central finite differences. */
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { type Tensor } from "../../src/index.js";
import { defineOp, hasOp } from "../../src/ir/registry.js";
import { vjpGraph } from "../../src/ir/autodiff/transform.js";
import { parse } from "../../src/ir/parse.js";
import { verify } from "../../src/ir/verify.js";


const f64 = (data: st.NestedArray): Tensor => st.tensor(data, { dtype: "float64" });
const num = (t: Tensor): number => t.item() as number;

/** Deterministic pseudo-random float64 values in [-1, 1). */
function rand(shape: number[], seed: number): Tensor {
  return st.randomUniform(st.randomKey(seed), shape, { dtype: "float64", minval: -1, maxval: 1 });
}

/** Central finite differences of scalar f at x (float64), one element at a time. */
function numericGrad(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-6): Float64Array {
  const base = Float64Array.from(x.numpy().data as Float64Array);
  const out = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const plus = Float64Array.from(base);
    const minus = Float64Array.from(base);
    plus[i]! += h;
    minus[i]! -= h;
    const fp = num(f(st.tensor(new st.NDArray(plus, x.shape as number[]) as never)));
    const fm = num(f(st.tensor(new st.NDArray(minus, x.shape as number[]) as never)));
    out[i] = (fp - fm) / (2 * h);
  }
  return out;
}

function expectClose(actual: Tensor, expected: ArrayLike<number>, tol = 1e-6): void {
  const a = actual.numpy().data as ArrayLike<number>;
  expect(a.length).toBe(expected.length);
  for (let i = 0; i < a.length; i++) {
    const e = expected[i]!;
    expect(Math.abs(a[i]! - e), `element ${i}: ${a[i]} vs ${e}`).toBeLessThanOrEqual(tol * (1 + Math.abs(e)));
  }
}

/** Checks grad(f) at x against finite differences. */
function checkGrad(f: (x: Tensor) => Tensor, x: Tensor, tol = 1e-6): void {
  const g = st.grad(f)(x) as Tensor;
  expect(g.dtype).toBe(x.dtype);
  expect([...g.shape]).toEqual([...x.shape]);
  expectClose(g, numericGrad(f, x), tol);
}

function mlp(params: { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }, x: Tensor): Tensor {
  const h = st.tanh(st.add(st.matmul(x, params.w1), params.b1));
  return st.add(st.matmul(h, params.w2), params.b2);
}

function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const logp = st.logSoftmax(logits, -1);
  return st.neg(st.reduceMean(st.reduceSum(st.mul(logp, labels), -1)));
}

describe("grad against finite differences (float64)", () => {
  it("elementwise compositions and broadcasting", () => {
    const x = rand([3, 4], 1);
    const b = rand([4], 2);
    checkGrad((t) => st.reduceSum(st.mul(st.sin(t), st.exp(st.div(t, 3)))), x);
    checkGrad((t) => st.reduceSum(st.square(st.sub(t, b))), x);
    checkGrad((t) => st.reduceSum(st.mul(b, st.tanh(t))), x);
    // The differentiated argument is the broadcast one: its gradient sums over the broadcast axes.
    checkGrad((t) => st.reduceSum(st.mul(st.sigmoid(st.add(x, t)), x)), b);
    checkGrad((t) => st.reduceMean(st.pow(st.add(st.abs(t), 1), 2.5)), x);
  });

  it("reductions, with keepDims and negative axes", () => {
    const x = rand([2, 3, 4], 3);
    checkGrad((t) => st.reduceSum(st.square(st.reduceMean(t, -1, true))), x);
    checkGrad((t) => st.reduceSum(st.reduceMax(t, [0, 2])), x);
    checkGrad((t) => st.reduceSum(st.logSumExp(t, -1)), x);
  });

  it("softmax cross-entropy", () => {
    const logits = rand([5, 3], 4);
    const labels = st.oneHot(st.tensor([0, 2, 1, 1, 0], { dtype: "int32" }), 3, { dtype: "float64" });
    checkGrad((t) => crossEntropy(t, labels), logits);
    checkGrad((t) => st.reduceSum(st.mul(st.softmax(t, -1), labels)), logits);
  });

  it("layerNorm", () => {
    const x = rand([3, 5], 5);
    const scale = rand([5], 6);
    checkGrad((t) => st.reduceSum(st.mul(st.layerNorm(t, { scale }), scale)), x, 1e-5);
  });

  it("an MLP loss, with respect to a pytree of parameters", () => {
    const params = { w1: rand([2, 6], 7), b1: rand([6], 8), w2: rand([6, 3], 9), b2: rand([3], 10) };
    const x = rand([4, 2], 11);
    const labels = st.oneHot(st.tensor([0, 1, 2, 1], { dtype: "int32" }), 3, { dtype: "float64" });
    const loss = (p: typeof params): Tensor => crossEntropy(mlp(p, x), labels);
    const g = st.grad(loss)(params) as typeof params;
    expect(Object.keys(g).sort()).toEqual(["b1", "b2", "w1", "w2"]);
    for (const k of ["w1", "b1", "w2", "b2"] as const) {
      expectClose(g[k], numericGrad((t) => loss({ ...params, [k]: t }), params[k]));
    }
  });
});

describe("the grad API", () => {
  it("valueAndGrad returns the value and the gradient", () => {
    const [v, g] = st.valueAndGrad((x: Tensor) => st.reduceSum(st.square(x)))(f64([1, 2, 3]));
    expect(num(v)).toBeCloseTo(14, 12);
    expectClose(g as Tensor, [2, 4, 6]);
  });

  it("argnums: a number gives one gradient, an array gives an array", () => {
    const f = (x: Tensor, y: Tensor, s: number): Tensor => st.reduceSum(st.mul(st.mul(x, y), s));
    const x = f64([1, 2]);
    const y = f64([3, 5]);
    expectClose(st.grad(f, { argnums: 1 })(x, y, 2) as Tensor, [2, 4]);
    const [gx, gy] = st.grad(f, { argnums: [0, 1] })(x, y, 2) as Tensor[];
    expectClose(gx!, [6, 10]);
    expectClose(gy!, [2, 4]);
    expect(() => st.grad(f, { argnums: 3 })(x, y, 2)).toThrow(st.ValueError);
    expect(() => st.grad(f, { argnums: -1 })).toThrow(st.ValueError);
  });

  it("int and bool leaves and static leaves get null; float leaves beside them get gradients", () => {
    const f = (p: { w: Tensor; n: Tensor; mask: Tensor; k: number }): Tensor =>
      st.reduceSum(st.mul(st.mul(p.w, st.cast(p.n, "float64")), st.where(p.mask, 1, 0)));
    const g = st.grad(f)({ w: f64([1, 2]), n: st.tensor([3, 4], { dtype: "int32" }), mask: st.tensor([true, false]), k: 7 }) as Record<string, unknown>;
    expect(g["n"]).toBeNull();
    expect(g["mask"]).toBeNull();
    expect(g["k"]).toBeNull();
    expectClose(g["w"] as Tensor, [3, 0]);
  });

  it("a parameter the output does not depend on gets zeros", () => {
    const [gx, gy] = st.grad((x: Tensor, _y: Tensor) => st.reduceSum(x), { argnums: [0, 1] })(f64([1, 2]), f64([[1], [2]])) as Tensor[];
    expectClose(gx!, [1, 1]);
    expect([...gy!.shape]).toEqual([2, 1]);
    expectClose(gy!, [0, 0]);
  });

  it("f must return a scalar float tensor", () => {
    expect(() => st.grad((x: Tensor) => st.square(x))(f64([1, 2]))).toThrow(/f64\[2\]/);
    expect(() => st.grad((x: Tensor) => st.square(x))(f64([1, 2]))).toThrow(st.ValueError);
    expect(() => st.grad((x: Tensor) => st.argmax(x))(f64([1, 2]))).toThrow(st.ValueError);
    expect(() => st.grad((_x: Tensor) => 3)(f64([1]))).toThrow(st.ValueError);
  });

  it("stopGradient blocks the gradient but keeps the value", () => {
    const f = (x: Tensor): Tensor => st.reduceSum(st.mul(x, st.stopGradient(x)));
    const [v, g] = st.valueAndGrad(f)(f64([2, 3]));
    expect(num(v)).toBe(13);
    expectClose(g as Tensor, [2, 3]);
    expect(st.stopGradient([1, 2]).numpy().data).toEqual(new Float32Array([1, 2]));
  });

  it("does not retrace for the same signature", () => {
    const g = st.grad((x: Tensor) => st.reduceSum(st.exp(x)));
    g(f64([1, 2]));
    g(f64([3, 4]));
    expect(g.traceCount).toBe(1);
    g(f64([1, 2, 3]));
    expect(g.traceCount).toBe(2);
  });

  it("grad(grad(f)) for x^3 and sin", () => {
    const cube = (x: Tensor): Tensor => st.mul(st.mul(x, x), x);
    const d2 = st.grad(st.grad(cube) as (x: Tensor) => Tensor);
    expect(num(d2(f64(2)) as Tensor)).toBeCloseTo(12, 10);
    const d3 = st.grad(st.grad(st.grad(cube) as (x: Tensor) => Tensor) as (x: Tensor) => Tensor);
    expect(num(d3(f64(5)) as Tensor)).toBeCloseTo(6, 10);
    const sin2 = st.grad(st.grad((x: Tensor) => st.sin(x)) as (x: Tensor) => Tensor);
    expect(num(sin2(f64(0.7)) as Tensor)).toBeCloseTo(-Math.sin(0.7), 10);
    // Through a reduction: d/dx sum(x^3) = 3x^2; grad of sum of that = 6x.
    const h = st.grad((x: Tensor) => st.reduceSum(st.grad((y: Tensor) => st.reduceSum(cube(y)))(x) as Tensor));
    expectClose(h(f64([1, -2])) as Tensor, [6, -12]);
  });

  it("vjp returns outputs and a function of output cotangents", () => {
    const f = (x: Tensor, y: Tensor): Tensor[] => [st.mul(x, y), st.sin(x)];
    const x = f64([1, 2]);
    const y = f64([3, 4]);
    const [out, back] = st.vjp(f, x, y);
    expectClose((out as Tensor[])[0]!, [3, 8]);
    const [gx, gy] = back([f64([1, 1]), f64([2, 0])]) as Tensor[];
    expectClose(gx!, [3 + 2 * Math.cos(1), 4]);
    expectClose(gy!, [1, 2]);
    expect(() => back([f64([1, 1])])).toThrow(st.ValueError);
    expect(() => back([f64([1, 1, 1]), f64([1, 1])])).toThrow(st.ShapeError);
    expect(() => back([st.tensor([1, 1]), f64([1, 1])])).toThrow(st.DTypeError);
  });
});

describe("composition with fn", () => {
  it("fn(valueAndGrad(loss)) traces once, and its optimized IR has fused kernels", () => {
    const w = rand([3, 4], 20);
    const x = rand([5, 3], 21);
    const loss = (p: Tensor, xs: Tensor): Tensor => st.reduceMean(st.square(st.tanh(st.matmul(xs, p))));
    const step = st.fn(st.valueAndGrad(loss));
    const [v, g] = step(w, x);
    const [v2, g2] = st.valueAndGrad(loss)(w, x);
    expect(num(v)).toBeCloseTo(num(v2), 12);
    expectClose(g as Tensor, (g2 as Tensor).numpy().data as Float64Array, 1e-12);
    step(rand([3, 4], 22), x);
    expect(step.traceCount).toBe(1);
    const ir = step.ir(w, x);
    expect(ir).toContain("fused");
    expect(ir).toContain("matmul");
  });

  it("grad of a fused/optimized graph equals the unoptimized one", () => {
    const f = (t: Tensor): Tensor => st.reduceSum(st.mul(st.exp(t), st.cos(t)));
    const x = rand([4], 23);
    const traced = st.fn((t: Tensor) => st.grad(f)(t) as Tensor);
    expectClose(traced(x), (st.grad(f)(x) as Tensor).numpy().data as Float64Array, 1e-12);
  });
});

describe("vjpGraph", () => {
  const text = [
    "func @f(%a: f64[3], %n: i32[3]) -> (f64[], i32[3]) {",
    "  %0 = cast(%n) {dtype = \"float64\"} : f64[3]",
    "  %1 = mul(%a, %0) : f64[3]",
    "  %2 = sin(%1) : f64[3]",
    "  %3 = reduceSum(%2) {axes = [0], keepDims = false} : f64[]",
    "  return %3, %n",
    "}",
  ].join("\n");

  it("adds cotangent parameters and gradient results; int params get none", () => {
    const g = parse(text);
    const r = vjpGraph(g, { wrt: [0, 1] });
    verify(r.graph);
    expect(r.cotangentParams).toEqual([2, null]);
    expect(r.gradResults).toEqual([2, null]);
    expect(r.graph.params.map((p) => p.name)).toEqual(["%a", "%n", "%ct0"]);
    expect(r.graph.results.length).toBe(3);
  });

  it("inlines fused regions before differentiating", () => {
    const f = st.fn((t: Tensor) => st.reduceSum(st.sin(st.mul(t, t))));
    const x = f64([0.5, 1.5]);
    const optimized = f.optimized(x);
    expect(optimized.nodes.some((n) => n.op === "fused")).toBe(true);
    const r = vjpGraph(optimized, { wrt: [0] });
    verify(r.graph);
    expect(r.graph.nodes.some((n) => n.op === "fused")).toBe(false);
    const [, gr] = st.callGraph(r.graph, [x, f64(1)]);
    expectClose(gr!, [0.5, 1.5].map((v) => 2 * v * Math.cos(v * v)));
  });

  it("prunes dead cotangents: nothing is built for values that do not reach a wrt parameter", () => {
    const g = parse(text);
    const r = vjpGraph(g, { wrt: [1] });
    expect(r.graph.nodes.length).toBe(g.nodes.length);
    expect(r.gradResults).toEqual([null]);
  });

  it("an op without a rule on the path gives ST008 naming the op", () => {
    if (!hasOp("test.opaque")) defineOp({ name: "test.opaque", kind: "shape", arity: 1, doc: "identity without a vjp rule", attributes: {}, infer: (inputs) => [inputs[0]!] });
    const g = parse("func @f(%a: f32[2]) -> (f32[2]) {\n  %0 = test.opaque(%a) : f32[2]\n  return %0\n}\n");
    let err: unknown;
    try {
      vjpGraph(g, { wrt: [0] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(st.NonDifferentiableError);
    expect((err as st.NonDifferentiableError).code).toBe("ST008");
    expect((err as Error).message).toContain("test.opaque");
    // Off the differentiated path, the same op is fine.
    expect(() => vjpGraph(g, { wrt: [] })).not.toThrow();
    expect(() => vjpGraph(g, { wrt: [1] })).toThrow(st.ValueError);
  });
});
