import { describe, expect, it } from "vitest";
import type { HostBuffer } from "../../src/exec/backend.js";
import { interpret } from "../../src/exec/interpret.js";
import { dtypeInfo, type TypedArray } from "../../src/ir/dtype.js";
import type { Graph } from "../../src/ir/graph.js";
import { parse } from "../../src/ir/parse.js";
import { fuse } from "../../src/ir/passes/fuse.js";
import { verify } from "../../src/ir/verify.js";
import { type Tensor, fn, gelu, layerNorm, logSoftmax, matmul, reduceMean, relu, softmax, tensor, add, mul, sigmoid, argmax, exp, sub } from "../../src/index.js";

/** Deterministic test data with a few specials mixed in (floats), wrapping values (ints). */
function data(dtype: HostBuffer["type"]["dtype"], n: number, seed: number): TypedArray {
  const a = new (dtypeInfo(dtype).array)(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    if (dtype === "bool") a[i] = u < 0.5 ? 0 : 1;
    else if (dtype === "uint8") a[i] = Math.floor(u * 256);
    else if (dtype === "int32") a[i] = Math.floor((u - 0.5) * 2 ** 32);
    else a[i] = i % 11 === 7 ? [NaN, Infinity, -Infinity, -0][i % 4]! : (u - 0.5) * 8;
  }
  return a;
}

function inputsFor(g: Graph, seed = 1): HostBuffer[] {
  return g.params.map((p, i) => ({ type: p.type, data: data(p.type.dtype, p.type.shape.reduce((a, b) => a * b, 1), seed * 31 + i) }));
}

/** Same dtype, shape and every element (NaN equal to NaN; -0 distinct from 0). */
function expectSameBuffers(got: readonly HostBuffer[], want: readonly HostBuffer[]): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(g.type).toEqual(w.type);
    expect(g.data.constructor).toBe(w.data.constructor);
    expect(g.data.length).toBe(w.data.length);
    for (let k = 0; k < g.data.length; k++) {
      const a = g.data[k]!;
      const b = w.data[k]!;
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) expect.fail(`result ${i}[${k}]: ${a} != ${b}`);
    }
  });
}

/** Fuses `g`, checks that something fused and that the result verifies and runs bit-identically. */
function expectFusedSame(g: Graph, seed = 1): Graph {
  const f = fuse(g);
  verify(f);
  expect(f.nodes.some((n) => n.op === "fused")).toBe(true);
  const inputs = inputsFor(g, seed);
  expectSameBuffers(interpret(f, inputs), interpret(g, inputs));
  return f;
}

const kernels = (g: Graph): string[] => g.nodes.map((n) => (n.op === "fused" ? `fused:${String(n.attrs["kind"])}` : n.op));

describe("interpret: fused nodes run their region body", () => {
  it("an elementwise fusion with broadcasting and two results", () => {
    const text = `
func @f(%x: f32[2,3], %b: f32[3]) -> (f32[2,3], f32[2,3]) {
  %0, %1 = fused(%x, %b) {kind = "elementwise"} : f32[2,3], f32[2,3] {
    ^(%a0: f32[2,3], %a1: f32[3]):
      %t0 = add(%a0, %a1) : f32[2,3]
      %t1 = exp(%t0) : f32[2,3]
      yield %t0, %t1
  }
  return %1, %0
}`;
    const g = parse(text);
    verify(g);
    const x = { type: g.params[0]!.type, data: new Float32Array([0, 1, 2, -1, -2, 0.5]) };
    const b = { type: g.params[1]!.type, data: new Float32Array([1, 0, -1]) };
    const [e, s] = interpret(g, [x, b]) as [HostBuffer, HostBuffer];
    expect(Array.from(s.data)).toEqual([1, 1, 1, 0, -2, -0.5]);
    expect(Array.from(e.data)).toEqual(Array.from(new Float32Array([1, 1, 1, 0, -2, -0.5].map(Math.exp))));
    expect(s.type).toEqual({ dtype: "float32", shape: [2, 3] });
  });

  it("reduce and matmul fusions, and a fused result read by later nodes and returned twice", () => {
    const text = `
func @f(%x: f64[2,3], %w: f64[3,2], %b: f64[2]) -> (f64[2,1], f64[2,2], f64[2,2]) {
  %0 = fused(%x) {kind = "reduce"} : f64[2,1] {
    ^(%a0: f64[2,3]):
      %t0 = square(%a0) : f64[2,3]
      %t1 = reduceSum(%t0) {axes = [1], keepDims = true} : f64[2,1]
      yield %t1
  }
  %1 = fused(%x, %w, %b) {kind = "matmul"} : f64[2,2] {
    ^(%a0: f64[2,3], %a1: f64[3,2], %a2: f64[2]):
      %t0 = matmul(%a0, %a1) : f64[2,2]
      %t1 = add(%t0, %a2) : f64[2,2]
      yield %t1
  }
  %2 = mul(%1, %0) : f64[2,2]
  return %0, %2, %2
}`;
    const g = parse(text);
    verify(g);
    const x = { type: g.params[0]!.type, data: new Float64Array([1, 2, 3, 4, 5, 6]) };
    const w = { type: g.params[1]!.type, data: new Float64Array([1, 0, 0, 1, 1, 1]) };
    const b = { type: g.params[2]!.type, data: new Float64Array([10, 20]) };
    const [s, p, q] = interpret(g, [x, w, b]) as [HostBuffer, HostBuffer, HostBuffer];
    expect(Array.from(s.data)).toEqual([14, 77]);
    // matmul rows: [1+3, 2+3] = [4, 5] and [4+6, 5+6] = [10, 11]; + b; * row sums
    expect(Array.from(p.data)).toEqual([14 * 14, 25 * 14, 20 * 77, 31 * 77]);
    expect(q).toBe(p);
  });

  it("region names may repeat the graph's names and the operands are the region's parameters", () => {
    const text = `
func @f(%x: i32[3]) -> (i32[3]) {
  %0 = neg(%x) : i32[3]
  %1 = fused(%0, %x) {kind = "elementwise"} : i32[3] {
    ^(%x: i32[3], %0: i32[3]):
      %1 = sub(%x, %0) : i32[3]
      yield %1
  }
  return %1
}`;
    const g = parse(text);
    verify(g);
    const [r] = interpret(g, [{ type: g.params[0]!.type, data: new Int32Array([1, -2, 2147483647]) }]);
    // (-x) - x, wrapping: -2, 4, -2147483647 - 2147483647 wraps to 2
    expect(Array.from(r!.data)).toEqual([-2, 4, 2]);
  });

  it("size-0 and 0-d operands", () => {
    const text = `
func @f(%x: f32[0,3], %s: f32[]) -> (f32[0,3], f32[3], f32[]) {
  %0 = fused(%x, %s) {kind = "elementwise"} : f32[0,3] {
    ^(%a0: f32[0,3], %a1: f32[]):
      %t0 = mul(%a0, %a1) : f32[0,3]
      yield %t0
  }
  %1 = fused(%x) {kind = "reduce"} : f32[3] {
    ^(%a0: f32[0,3]):
      %t0 = exp(%a0) : f32[0,3]
      %t1 = reduceSum(%t0) {axes = [0], keepDims = false} : f32[3]
      yield %t1
  }
  %2 = fused(%s) {kind = "elementwise"} : f32[] {
    ^(%a0: f32[]):
      %t0 = neg(%a0) : f32[]
      %t1 = exp(%t0) : f32[]
      yield %t1
  }
  return %0, %1, %2
}`;
    const g = parse(text);
    verify(g);
    const [a, b, c] = interpret(g, [
      { type: g.params[0]!.type, data: new Float32Array(0) },
      { type: g.params[1]!.type, data: new Float32Array([0]) },
    ]);
    expect(a!.data).toHaveLength(0);
    expect(Array.from(b!.data)).toEqual([0, 0, 0]);
    expect(Array.from(c!.data)).toEqual([1]);
  });
});

describe("interpret: fused graphs give the unfused graph's bits", () => {
  it("every dtype through elementwise and reduce fusions", () => {
    for (const [t, acc] of [["f32", "f32"], ["f64", "f64"], ["i32", "i32"], ["u8", "i32"]] as const) {
      const g = parse(`
func @f(%x: ${t}[3,4], %y: ${t}[4]) -> (${t}[3,4], ${acc}[3], bool[3,4]) {
  %0 = mul(%x, %y) : ${t}[3,4]
  %1 = add(%0, %x) : ${t}[3,4]
  %2 = maximum(%1, %y) : ${t}[3,4]
  %3 = reduceSum(%1) {axes = [1], keepDims = false} : ${acc}[3]
  %4 = less(%2, %x) : bool[3,4]
  %5 = logicalNot(%4) : bool[3,4]
  return %2, %3, %5
}`);
      verify(g);
      const f = expectFusedSame(g, 7);
      expect(kernels(f)).toEqual(["fused:reduce", "fused:elementwise"]);
    }
  });

  it("traced softmax: three kernels, the same bits", () => {
    const x = tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i) * 5), { dtype: "float32" }).reshape([4, 6]);
    const g = fn((t: Tensor) => softmax(t, -1)).lower(x);
    const f = expectFusedSame(g);
    expect(kernels(f)).toEqual(["reduceMax", "fused:reduce", "div"]);
    const [out] = interpret(f, [{ type: x.type, data: x.numpy().data }]);
    expect(Array.from(out!.data)).toEqual(Array.from(softmax(x, -1).numpy().data));
  });

  it("traced MLP: matmul epilogues, then softmax and argmax", () => {
    const x = tensor(Array.from({ length: 12 }, (_, i) => (i % 5) - 2), { dtype: "float32" }).reshape([4, 3]);
    const w1 = tensor(Array.from({ length: 15 }, (_, i) => Math.cos(i)), { dtype: "float32" }).reshape([3, 5]);
    const b1 = tensor([0.1, -0.2, 0.3, 0, 1], { dtype: "float32" });
    const w2 = tensor(Array.from({ length: 10 }, (_, i) => Math.sin(i)), { dtype: "float32" }).reshape([5, 2]);
    const predict = fn((a: Tensor, p: { w1: Tensor; b1: Tensor; w2: Tensor }) => {
      const h = relu(add(matmul(a, p.w1), p.b1));
      const logits = mul(matmul(h, p.w2), 0.5);
      return [argmax(logits, -1), softmax(logits, -1)];
    });
    const g = predict.lower(x, { w1, b1, w2 });
    const f = expectFusedSame(g, 3);
    expect(kernels(f).filter((k) => k === "fused:matmul")).toHaveLength(2);
  });

  it("traced layerNorm, logSoftmax, gelu and sigmoid", () => {
    const x = tensor(Array.from({ length: 30 }, (_, i) => Math.tan(i * 0.3)), { dtype: "float64" }).reshape([5, 6]);
    const cases: ((t: Tensor) => Tensor)[] = [
      (t) => layerNorm(t, { scale: tensor([1, 2, 3, 4, 5, 6], { dtype: "float64" }), offset: 0.5 }),
      (t) => logSoftmax(t, 0),
      (t) => gelu(mul(t, 2)),
      (t) => sigmoid(sub(exp(t), reduceMean(t, -1, true))),
    ];
    for (const c of cases) {
      const g = fn(c).lower(x);
      const f = expectFusedSame(g, 5);
      const [out] = interpret(f, [{ type: x.type, data: x.numpy().data }]);
      const want = c(x).numpy().data;
      expect(out!.data.length).toBe(want.length);
      out!.data.forEach((v, k) => expect(Object.is(v, want[k]) || (Number.isNaN(v) && Number.isNaN(want[k]!))).toBe(true));
    }
  });
});
