import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostBuffer } from "../../src/exec/backend.js";
import { clearKernelCache, compile, type Executable, kernelCacheStats } from "../../src/exec/cpu/compile.js";
import { registerCpuKernel } from "../../src/exec/cpu/backend.js";
import { interpret } from "../../src/exec/interpret.js";
import { type DType, dtypeInfo } from "../../src/ir/dtype.js";
import { DTypeError, ShapeError, SymtensorError, ValueError } from "../../src/ir/errors.js";
import type { Graph } from "../../src/ir/graph.js";
import { verify } from "../../src/ir/verify.js";
import { parse } from "../../src/ir/parse.js";
import { fuse } from "../../src/ir/passes/fuse.js";
import { print } from "../../src/ir/print.js";
import { defineOp, listOps } from "../../src/ir/registry.js";
import * as st from "../../src/index.js";
import { NDArray, type Tensor } from "../../src/index.js";
import { setDebugSink } from "../../src/exec/cpu/kernels/debug.js";
import type { TypedArray } from "../../src/ir/dtype.js";

/** Installs a debugPrint sink; returns a function that restores the previous one. */
function setCpuDebugSink(sink: Parameters<typeof setDebugSink>[0]): () => void {
  const prev = setDebugSink(sink);
  return () => void setDebugSink(prev);
}

/** Deterministic data: floats with NaN, infinities and signed zeros mixed in, full-range integers. */
function randomData(dtype: DType, n: number, seed: number): TypedArray {
  const a = new (dtypeInfo(dtype).array)(n);
  let s = (seed * 2654435761) >>> 0;
  const specials = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.5];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    if (dtype === "bool") a[i] = u < 0.5 ? 0 : 1;
    else if (dtype === "uint8") a[i] = Math.floor(u * 256);
    else if (dtype === "int32") a[i] = i % 3 === 0 ? Math.floor((u - 0.5) * 2 ** 32) : Math.floor((u - 0.5) * 20);
    else a[i] = i % 7 === 5 ? specials[Math.floor(u * specials.length)]! : (u - 0.5) * 6;
  }
  return a;
}

function inputsFor(g: Graph, seed = 1): HostBuffer[] {
  return g.params.map((p, i) => ({ type: p.type, data: randomData(p.type.dtype, p.type.shape.reduce((a, b) => a * b, 1), seed * 31 + i) }));
}

/** Same dtype, shape, storage class and every element (NaN equal to NaN; -0 distinct from 0). */
function expectSameBuffers(got: readonly HostBuffer[], want: readonly HostBuffer[], context = ""): void {
  expect(got.length, context).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(g.type, context).toEqual(w.type);
    expect(g.data.constructor, context).toBe(w.data.constructor);
    expect(g.data.length, context).toBe(w.data.length);
    for (let k = 0; k < g.data.length; k++) {
      const a = g.data[k]!;
      const b = w.data[k]!;
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) expect.fail(`result ${i}[${k}]: compiled ${a} != interpreted ${b}\n${context}`);
    }
  });
}

let restoreSink: () => void;
beforeAll(() => {
  restoreSink = setCpuDebugSink(() => {});
});
afterAll(() => restoreSink());

/** Compiles `g` and checks two runs (different inputs) against the interpreter, bit for bit. */
function expectCompiledSame(g: Graph, seed = 1, reference: Graph = g): Executable {
  const ex = compile(g);
  const a = inputsFor(g, seed);
  const b = inputsFor(g, seed + 1000);
  const outA = ex.run(a);
  const outB = ex.run(b);
  expectSameBuffers(outA, interpret(reference, a), print(g));
  expectSameBuffers(outB, interpret(reference, b), print(g));
  return ex;
}

// ---- every op, traced through fn().lower() -------------------------------------------------------

/** A tensor of deterministic values (specials mixed into floats). */
function T(shape: number[], dtype: DType = "float32", seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return st.tensor(new NDArray(randomData(dtype, n, seed), shape, dtype));
}

interface OpCase {
  readonly label: string;
  readonly args: Tensor[];
  readonly call: (xs: Tensor[]) => Tensor | Tensor[];
}

const UNARY = ["neg", "abs", "sign", "square", "relu", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf", "floor", "ceil", "round", "logicalNot", "isNaN", "isFinite", "gelu"] as const;
const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "mod", "floorDiv", "atan2", "equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual", "logicalAnd", "logicalOr", "logicalXor"] as const;
const REDUCE = ["reduceSum", "reduceProd", "reduceMean", "reduceMax", "reduceMin", "reduceAny", "reduceAll", "logSumExp"] as const;
const DTYPES: DType[] = ["bool", "uint8", "int32", "float32", "float64"];
const NON_BOOL: DType[] = ["uint8", "int32", "float32", "float64"];

/** Whether a public op takes this dtype (float-only ops cast ints; bool is refused by arithmetic). */
function accepts(op: string, d: DType): boolean {
  if (d !== "bool") return true;
  return !["neg", "sign", "square", "relu", "sub", "pow", "mod", "floorDiv", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf", "floor", "ceil", "round", "gelu", "div", "atan2"].includes(op);
}

function opCases(): OpCase[] {
  const cases: OpCase[] = [];
  const add = (label: string, args: Tensor[], call: OpCase["call"]) => cases.push({ label, args, call });
  const fns = st as unknown as Record<string, (...a: unknown[]) => Tensor>;
  for (const op of UNARY) {
    for (const d of DTYPES) {
      if (!accepts(op, d)) continue;
      add(`${op} ${d}[2,3]`, [T([2, 3], d, 3)], ([x]) => fns[op]!(x));
    }
    add(`${op} f32[] and f32[0,2]`, [T([], "float32", 5), T([0, 2])], ([x, y]) => [fns[op]!(x), fns[op]!(y)]);
  }
  add("gelu tanh", [T([7], "float64")], ([x]) => st.gelu(x!, { approximate: "tanh" }));
  for (const op of BINARY) {
    for (const d of DTYPES) {
      if (!accepts(op, d)) continue;
      add(`${op} ${d}[2,3] x ${d}[3]`, [T([2, 3], d, 1), T([3], d, 2)], ([x, y]) => fns[op]!(x, y));
    }
    add(`${op} f32[4,1] x f32[1,5]`, [T([4, 1], "float32", 4), T([1, 5], "float32", 6)], ([x, y]) => fns[op]!(x, y));
    add(`${op} i32[] x i32[0]`, [T([], "int32", 4), T([0], "int32", 6)], ([x, y]) => fns[op]!(x, y));
  }
  for (const d of DTYPES) {
    add(`where ${d}`, [T([2, 1, 3], "bool", 1), T([4, 1], d, 2), T([3], d, 3)], ([c, x, y]) => st.where(c!, x!, y!));
    for (const to of DTYPES) add(`cast ${d} -> ${to}`, [T([9], d, 7)], ([x]) => st.cast(x!, to));
  }
  add("clip", [T([3, 4], "float32", 2)], ([x]) => st.clip(x!, -1, 2));
  add("mixed dtypes promote", [T([3], "int32", 1), T([2, 3], "float32", 2)], ([x, y]) => st.add(x!, y!));

  for (const op of REDUCE) {
    for (const d of DTYPES) {
      const x = T([2, 3, 4], d, 8);
      add(`${op} ${d} all axes`, [x], ([v]) => fns[op]!(v));
      add(`${op} ${d} axis -1 keepDims`, [x], ([v]) => fns[op]!(v, -1, true));
      add(`${op} ${d} axis 0`, [x], ([v]) => fns[op]!(v, 0));
      add(`${op} ${d} axes [0,2]`, [x], ([v]) => fns[op]!(v, [0, 2]));
      add(`${op} ${d} axis 1 (middle)`, [x], ([v]) => fns[op]!(v, 1, true));
    }
    add(`${op} 0-d`, [T([], "float32", 3)], ([v]) => fns[op]!(v));
    add(`${op} over a length-1 axis`, [T([3, 1], "float32", 3)], ([v]) => fns[op]!(v, 1));
    add(`${op} of an empty kept axis`, [T([0, 3], "float32", 3)], ([v]) => fns[op]!(v, 1));
    if (op !== "reduceMax" && op !== "reduceMin") add(`${op} over an empty axis`, [T([2, 0, 3], "int32", 3)], ([v]) => fns[op]!(v, [1, 2]));
  }
  for (const op of ["argmax", "argmin"] as const) {
    add(`${op}`, [T([3, 4], "float32", 9)], ([x]) => [st[op](x!), st[op](x!, 0), st[op](x!, -1, true)]);
  }
  for (const op of ["cumsum", "cumprod"] as const) {
    add(`${op}`, [T([3, 4], "int32", 9), T([5], "float32", 2)], ([x, y]) => [st[op](x!, 1), st[op](y!, 0, { exclusive: true, reverse: true })]);
  }

  const x = T([2, 3, 4], "float32", 11);
  add("reshape", [x], ([v]) => st.reshape(v!, [4, 6]));
  add("transpose", [x], ([v]) => st.transpose(v!, [2, 0, 1]));
  add("expandDims and squeeze", [x], ([v]) => st.squeeze(st.expandDims(v!, 1)));
  add("broadcastTo", [T([3, 1], "uint8")], ([v]) => st.broadcastTo(v!, [2, 3, 4]));
  add("concat and stack", [x, x], ([a, b]) => [st.concat([a!, b!], 1), st.stack([a!, b!], -1)]);
  add("split and unstack", [x], ([v]) => [...st.split(v!, [1, 2], 1), ...st.unstack(v!, 2)]);
  add("slice", [x], ([v]) => st.slice(v!, [0, 1, 1], [2, 2, 2]));
  add("gather", [x, st.tensor([2, 0, -1], { dtype: "int32" })], ([v, i]) => st.gather(v!, i!, 1));
  add("pad", [T([2, 3], "int32")], ([v]) => st.pad(v!, [[1, 0], [2, 1]], 7));
  add("tile", [T([2, 3], "bool")], ([v]) => st.tile(v!, [2, 1]));
  add("flip", [x], ([v]) => st.flip(v!, [0, 2]));
  add("oneHot", [st.tensor([0, 2, 5, -1], { dtype: "int32" })], ([v]) => st.oneHot(v!, 4));

  for (const d of NON_BOOL) add(`matmul ${d} 2-D`, [T([5, 7], d, 1), T([7, 3], d, 2)], ([a, b]) => st.matmul(a!, b!));
  add("matmul bool", [T([5, 7], "bool", 1), T([7, 3], "bool", 2)], ([a, b]) => st.matmul(a!, b!));
  add("matmul batched, b shared", [T([2, 4, 3]), T([3, 5])], ([a, b]) => st.matmul(a!, b!));
  add("matmul broadcast batch", [T([2, 1, 4, 3], "float64"), T([3, 3, 2], "float64")], ([a, b]) => st.matmul(a!, b!));
  add("matmul 1-D operands", [T([3]), T([3, 4]), T([4])], ([v, m, w]) => [st.matmul(v!, m!), st.matmul(m!, w!), st.matmul(v!, v!)]);
  add("matmul empty", [T([0, 3]), T([3, 2]), T([2, 0]), T([0, 4])], ([a, b, c, d]) => [st.matmul(a!, b!), st.matmul(c!, d!)]);
  add("dot", [T([2, 3]), T([4, 3, 2])], ([a, b]) => st.dot(a!, b!));
  add("conv2d", [T([1, 5, 5, 2]), T([3, 3, 2, 4])], ([a, f]) => st.conv2d(a!, f!, { padding: "same" }));
  add("pools", [T([1, 4, 4, 3])], ([a]) => [st.maxPool2d(a!, { windowShape: [2, 2] }), st.avgPool2d(a!, { windowShape: [2, 2], strides: [1, 1] })]);
  add("softmax, logSoftmax, layerNorm", [T([3, 5])], ([a]) => [st.softmax(a!), st.logSoftmax(a!, 0), st.layerNorm(a!)]);
  add("random", [st.randomKey(42)], ([k]) => {
    const [k1, k2] = st.splitKey(k!, 2) as [Tensor, Tensor];
    return [st.randomBits(k1, [3]), st.randomUniform(k2, [2, 2]), st.randomNormal(k1, [3], { dtype: "float64" }), st.randomBernoulli(k2, 0.3, [4]), st.randomInt(k1, [5], 0, 10)];
  });
  add("debugPrint", [T([3])], ([a]) => st.debugPrint("e", st.exp(a!)));
  add("stopGradient", [T([3]), T([2, 3])], ([a, b]) => st.stopGradient(st.exp(a!)).mul(b!));
  add("control flow", [T([2]), T([3, 2])], ([x, xs]) => {
    const c = st.cond(st.greater(st.reduceSum(x!), 0), () => st.exp(x!), () => x!);
    const w = st.whileLoop((v: st.Tensor) => st.less(st.reduceSum(v), 50), (v: st.Tensor) => st.add(v, 1), c);
    const f = st.forLoop(0, 3, (i: st.Tensor, v: st.Tensor) => st.add(v, i), w);
    return st.scan((a: st.Tensor, r: st.Tensor) => [st.add(a, r), a], f, xs!)[1] as st.Tensor;
  });
  return cases;
}

describe("compile: every op agrees with the interpreter bit for bit", () => {
  const cases = opCases();
  const seen = new Set<string>();
  const lowered = cases.map((c) => {
    const f = st.fn((xs: Tensor[]) => c.call(xs), { name: "case" });
    const g = f.lower(c.args);
    for (const n of g.nodes) seen.add(n.op);
    return { c, g };
  });

  it("covers every registry op", () => {
    const missing = listOps().filter((op) => op.kind !== "fused" && !op.name.startsWith("test") && !seen.has(op.name)).map((op) => op.name);
    expect(missing).toEqual([]);
  });

  it.each(lowered.map(({ c, g }) => [c.label, g, c.args] as const))("%s", (_label, g, args) => {
    const inputs = args.map((t) => ({ type: t.type, data: t.numpy().data }));
    const ex = compile(g);
    expectSameBuffers(ex.run(inputs), interpret(g, inputs), print(g));
    // The same graph after the fuse pass runs generated fused kernels: still bit-identical.
    const fused = fuse(g);
    expectSameBuffers(compile(fused).run(inputs), interpret(g, inputs), print(fused));
  });
});

// ---- fused graphs written as IR text --------------------------------------------------------------

const FUSED: Record<string, string> = {
  "multi-output reduce: softmax's exp written in the accumulating loop": `
func @f(%x: f32[4,6]) -> (f32[4,6]) {
  %0 = reduceMax(%x) {axes = [1], keepDims = true} : f32[4,1]
  %2, %3 = fused(%x, %0) {kind = "reduce"} : f32[4,6], f32[4,1] {
    ^(%a0: f32[4,6], %a1: f32[4,1]):
      %t0 = sub(%a0, %a1) : f32[4,6]
      %t1 = exp(%t0) : f32[4,6]
      %t2 = reduceSum(%t1) {axes = [1], keepDims = true} : f32[4,1]
      yield %t1, %t2
  }
  %4 = div(%2, %3) : f32[4,6]
  return %4
}`,
  "multi-output reduce over a leading axis (accumulator row), extra yields of other dtypes": `
func @f(%x: f32[5,3,4], %b: f32[4]) -> (f64[5,3,4], u8[5,3,4], f64[3,4]) {
  %0, %1, %2 = fused(%x, %b) {kind = "reduce"} : f64[5,3,4], u8[5,3,4], f64[3,4] {
    ^(%a0: f32[5,3,4], %a1: f32[4]):
      %t0 = add(%a0, %a1) : f32[5,3,4]
      %t1 = tanh(%t0) : f32[5,3,4]
      %t2 = cast(%t1) {dtype = "float64"} : f64[5,3,4]
      %t3 = greater(%t0, %a1) : bool[5,3,4]
      %t4 = cast(%t3) {dtype = "uint8"} : u8[5,3,4]
      %t5 = reduceMean(%t2) {axes = [0], keepDims = false} : f64[3,4]
      yield %t2, %t4, %t5
  }
  return %0, %1, %2
}`,
  "multi-output reduce over a middle axis, integers, and over no axis at all": `
func @f(%x: i32[3,4,5], %y: f32[2,3]) -> (i32[3,4,5], i32[3,1,5], f32[2,3], f32[2,3]) {
  %0, %1 = fused(%x) {kind = "reduce"} : i32[3,4,5], i32[3,1,5] {
    ^(%a0: i32[3,4,5]):
      %t0 = pow(%a0, %a0) : i32[3,4,5]
      %t1 = reduceProd(%t0) {axes = [1], keepDims = true} : i32[3,1,5]
      yield %t0, %t1
  }
  %2, %3 = fused(%y) {kind = "reduce"} : f32[2,3], f32[2,3] {
    ^(%a0: f32[2,3]):
      %t0 = exp(%a0) : f32[2,3]
      %t1 = reduceMax(%t0) {axes = [], keepDims = false} : f32[2,3]
      yield %t0, %t1
  }
  return %0, %1, %2, %3
}`,
  "multi-output reduce over all axes and over an empty space": `
func @f(%x: f64[3,4], %z: f32[0,3]) -> (f64[3,4], f64[], f32[0,3], f32[3]) {
  %0, %1 = fused(%x) {kind = "reduce"} : f64[3,4], f64[] {
    ^(%a0: f64[3,4]):
      %t0 = log(%a0) : f64[3,4]
      %t1 = reduceSum(%t0) {axes = [0, 1], keepDims = false} : f64[]
      yield %t0, %t1
  }
  %2, %3 = fused(%z) {kind = "reduce"} : f32[0,3], f32[3] {
    ^(%a0: f32[0,3]):
      %t0 = sigmoid(%a0) : f32[0,3]
      %t1 = reduceSum(%t0) {axes = [0], keepDims = false} : f32[3]
      yield %t0, %t1
  }
  return %0, %1, %2, %3
}`,
  "elementwise with broadcasting, a smaller body value and two yields": `
func @f(%x: f32[4,5], %m: f32[4,1], %b: f32[5]) -> (f32[4,5], f32[4,5]) {
  %0, %1 = fused(%x, %m, %b) {kind = "elementwise"} : f32[4,5], f32[4,5] {
    ^(%a0: f32[4,5], %a1: f32[4,1], %a2: f32[5]):
      %t0 = sub(%a0, %a1) : f32[4,5]
      %t1 = exp(%t0) : f32[4,5]
      %t2 = neg(%a2) : f32[5]
      %t3 = add(%t1, %t2) : f32[4,5]
      yield %t1, %t3
  }
  return %0, %1
}`,
  "float32 rounding between ops (a float64 sum would differ)": `
func @f(%x: f32[64], %y: f32[64]) -> (f32[64]) {
  %0 = fused(%x, %y) {kind = "elementwise"} : f32[64] {
    ^(%a0: f32[64], %a1: f32[64]):
      %t0 = mul(%a0, %a1) : f32[64]
      %t1 = add(%t0, %a0) : f32[64]
      %t2 = div(%t1, %a1) : f32[64]
      %t3 = sqrt(%t2) : f32[64]
      yield %t3
  }
  return %0
}`,
  "casts between every kind of dtype": `
func @f(%x: f64[3,4], %k: i32[4]) -> (u8[3,4], bool[3,4], f32[3,4]) {
  %0, %1, %2 = fused(%x, %k) {kind = "elementwise"} : u8[3,4], bool[3,4], f32[3,4] {
    ^(%a0: f64[3,4], %a1: i32[4]):
      %t0 = cast(%a0) {dtype = "float32"} : f32[3,4]
      %t1 = cast(%t0) {dtype = "int32"} : i32[3,4]
      %t2 = mul(%t1, %a1) : i32[3,4]
      %t3 = cast(%t2) {dtype = "uint8"} : u8[3,4]
      %t4 = add(%t3, %t3) : u8[3,4]
      %t5 = greater(%t4, %t3) : bool[3,4]
      %t6 = logicalNot(%t5) : bool[3,4]
      %t7 = cast(%t4) {dtype = "float64"} : f64[3,4]
      %t8 = add(%t7, %a0) : f64[3,4]
      %t9 = cast(%t8) {dtype = "float32"} : f32[3,4]
      yield %t4, %t6, %t9
  }
  return %0, %1, %2
}`,
  "where, comparisons and integer wrapping": `
func @f(%c: bool[2,1,3], %x: i32[4,1], %y: i32[3]) -> (i32[2,4,3]) {
  %0 = fused(%c, %x, %y) {kind = "elementwise"} : i32[2,4,3] {
    ^(%a0: bool[2,1,3], %a1: i32[4,1], %a2: i32[3]):
      %t0 = square(%a1) : i32[4,1]
      %t1 = where(%a0, %t0, %a2) : i32[2,4,3]
      %t2 = floorDiv(%t1, %a2) : i32[2,4,3]
      %t3 = mod(%t2, %a1) : i32[2,4,3]
      yield %t3
  }
  return %0
}`,
  "0-d and empty elementwise kernels": `
func @f(%x: f32[], %e: f32[0,3]) -> (f32[], f32[0,3]) {
  %0 = fused(%x) {kind = "elementwise"} : f32[] {
    ^(%a0: f32[]):
      %t0 = tanh(%a0) : f32[]
      %t1 = mul(%t0, %a0) : f32[]
      yield %t1
  }
  %1 = fused(%e, %x) {kind = "elementwise"} : f32[0,3] {
    ^(%a0: f32[0,3], %a1: f32[]):
      %t0 = add(%a0, %a1) : f32[0,3]
      %t1 = relu(%t0) : f32[0,3]
      yield %t1
  }
  return %0, %1
}`,
  "reduce over the last axis (softmax denominator)": `
func @f(%x: f32[6,7], %m: f32[6,1]) -> (f32[6]) {
  %0 = fused(%x, %m) {kind = "reduce"} : f32[6] {
    ^(%a0: f32[6,7], %a1: f32[6,1]):
      %t0 = sub(%a0, %a1) : f32[6,7]
      %t1 = exp(%t0) : f32[6,7]
      %t2 = reduceSum(%t1) {axes = [1], keepDims = false} : f32[6]
      yield %t2
  }
  return %0
}`,
  "reduce over a leading axis (accumulator rows)": `
func @f(%x: f32[5,4,3], %s: f32[3]) -> (f32[1,4,3]) {
  %0 = fused(%x, %s) {kind = "reduce"} : f32[1,4,3] {
    ^(%a0: f32[5,4,3], %a1: f32[3]):
      %t0 = mul(%a0, %a1) : f32[5,4,3]
      %t1 = reduceMean(%t0) {axes = [0], keepDims = true} : f32[1,4,3]
      yield %t1
  }
  return %0
}`,
  "reduce over outer and inner axes with a kept middle axis": `
func @f(%x: f64[3,4,5]) -> (f64[4]) {
  %0 = fused(%x) {kind = "reduce"} : f64[4] {
    ^(%a0: f64[3,4,5]):
      %t0 = square(%a0) : f64[3,4,5]
      %t1 = reduceMax(%t0) {axes = [0, 2], keepDims = false} : f64[4]
      yield %t1
  }
  return %0
}`,
  "integer reductions wrap; bool sums count": `
func @f(%x: i32[4,6], %b: bool[4,6]) -> (i32[4], i32[6], i32[]) {
  %0 = fused(%x) {kind = "reduce"} : i32[4] {
    ^(%a0: i32[4,6]):
      %t0 = mul(%a0, %a0) : i32[4,6]
      %t1 = reduceProd(%t0) {axes = [1], keepDims = false} : i32[4]
      yield %t1
  }
  %1 = fused(%x) {kind = "reduce"} : i32[6] {
    ^(%a0: i32[4,6]):
      %t0 = neg(%a0) : i32[4,6]
      %t1 = reduceSum(%t0) {axes = [0], keepDims = false} : i32[6]
      yield %t1
  }
  %2 = fused(%b) {kind = "reduce"} : i32[] {
    ^(%a0: bool[4,6]):
      %t0 = logicalNot(%a0) : bool[4,6]
      %t1 = reduceSum(%t0) {axes = [0, 1], keepDims = false} : i32[]
      yield %t1
  }
  return %0, %1, %2
}`,
  "reductions over empty axes give the identity": `
func @f(%x: f32[3,0], %y: u8[0,2]) -> (f32[3], f32[3,1], i32[2], f32[2]) {
  %0 = fused(%x) {kind = "reduce"} : f32[3] {
    ^(%a0: f32[3,0]):
      %t0 = exp(%a0) : f32[3,0]
      %t1 = reduceSum(%t0) {axes = [1], keepDims = false} : f32[3]
      yield %t1
  }
  %1 = fused(%x) {kind = "reduce"} : f32[3,1] {
    ^(%a0: f32[3,0]):
      %t0 = neg(%a0) : f32[3,0]
      %t1 = reduceMean(%t0) {axes = [1], keepDims = true} : f32[3,1]
      yield %t1
  }
  %2 = fused(%y) {kind = "reduce"} : i32[2] {
    ^(%a0: u8[0,2]):
      %t0 = add(%a0, %a0) : u8[0,2]
      %t1 = reduceProd(%t0) {axes = [0], keepDims = false} : i32[2]
      yield %t1
  }
  %3 = fused(%y) {kind = "reduce"} : f32[2] {
    ^(%a0: u8[0,2]):
      %t0 = cast(%a0) {dtype = "float32"} : f32[0,2]
      %t1 = reduceMean(%t0) {axes = [0], keepDims = false} : f32[2]
      yield %t1
  }
  return %0, %1, %2, %3
}`,
  "reduceMin with NaN and signed zeros": `
func @f(%x: f32[8,3]) -> (f32[3], f32[8]) {
  %0 = fused(%x) {kind = "reduce"} : f32[3] {
    ^(%a0: f32[8,3]):
      %t0 = neg(%a0) : f32[8,3]
      %t1 = reduceMin(%t0) {axes = [0], keepDims = false} : f32[3]
      yield %t1
  }
  %1 = fused(%x) {kind = "reduce"} : f32[8] {
    ^(%a0: f32[8,3]):
      %t0 = floor(%a0) : f32[8,3]
      %t1 = reduceMax(%t0) {axes = [1], keepDims = false} : f32[8]
      yield %t1
  }
  return %0, %1
}`,
  "matmul with bias and relu, written straight into the result": `
func @f(%x: f32[9,6], %w: f32[6,4], %b: f32[4]) -> (f32[9,4]) {
  %0 = fused(%x, %w, %b) {kind = "matmul"} : f32[9,4] {
    ^(%a0: f32[9,6], %a1: f32[6,4], %a2: f32[4]):
      %t0 = matmul(%a0, %a1) : f32[9,4]
      %t1 = add(%t0, %a2) : f32[9,4]
      %t2 = relu(%t1) : f32[9,4]
      yield %t2
  }
  return %0
}`,
  "batched matmul with a per-row scale and a cast epilogue (scratch result)": `
func @f(%x: f64[2,3,5], %w: f64[5,4], %s: f64[3,1]) -> (f32[2,3,4]) {
  %0 = fused(%x, %w, %s) {kind = "matmul"} : f32[2,3,4] {
    ^(%a0: f64[2,3,5], %a1: f64[5,4], %a2: f64[3,1]):
      %t0 = matmul(%a0, %a1) : f64[2,3,4]
      %t1 = mul(%t0, %a2) : f64[2,3,4]
      %t2 = cast(%t1) {dtype = "float32"} : f32[2,3,4]
      yield %t2
  }
  return %0
}`,
  "integer matmul with a wrapping epilogue and broadcast batches": `
func @f(%x: i32[2,1,3,4], %w: i32[3,4,2]) -> (i32[2,3,3,2]) {
  %0 = fused(%x, %w) {kind = "matmul"} : i32[2,3,3,2] {
    ^(%a0: i32[2,1,3,4], %a1: i32[3,4,2]):
      %t0 = matmul(%a0, %a1) : i32[2,3,3,2]
      %t1 = mul(%t0, %t0) : i32[2,3,3,2]
      yield %t1
  }
  return %0
}`,
  "a body that reads a graph constant directly": `
func @f(%x: f32[2,3]) -> (f32[2,3], f32[2]) {
  const %c0: f32[3] = dense<[0.5, -1, 3]>
  %0 = fused(%x) {kind = "elementwise"} : f32[2,3] {
    ^(%a0: f32[2,3]):
      %t0 = mul(%a0, %c0) : f32[2,3]
      yield %t0
  }
  %1 = fused(%x) {kind = "reduce"} : f32[2] {
    ^(%a0: f32[2,3]):
      %t0 = add(%a0, %c0) : f32[2,3]
      %t1 = reduceSum(%t0) {axes = [1], keepDims = false} : f32[2]
      yield %t1
  }
  return %0, %1
}`,
};

/** The same graph with every fused node replaced by its body (renamed apart), for the reference run. */
function inlineFused(g: Graph): Graph {
  const nodes: Graph["nodes"][number][] = [];
  g.nodes.forEach((n, i) => {
    const body = n.regions?.[0];
    if (n.op !== "fused" || !body) {
      nodes.push(n);
      return;
    }
    const rename = new Map<string, string>();
    body.params.forEach((p, k) => rename.set(p.name, n.operands[k]!));
    const r = (name: string) => rename.get(name) ?? name;
    for (const b of body.nodes) {
      const results = b.results.map((v) => ({ ...v, name: `%inl${i}.${v.name.slice(1)}` }));
      b.results.forEach((v, k) => rename.set(v.name, results[k]!.name));
      nodes.push({ ...b, operands: b.operands.map(r), results });
    }
    // The node's results become copies (reshape to the same shape) of the yielded values.
    body.results.forEach((y, k) => {
      const res = n.results[k]!;
      nodes.push({ op: "reshape", operands: [r(y)], attrs: { shape: [...res.type.shape] }, results: [res] });
    });
  });
  return { ...g, nodes };
}

describe("compile: fused kernels from IR text", () => {
  for (const [label, text] of Object.entries(FUSED)) {
    it(label, () => {
      const g = parse(text);
      // The compiler also accepts bodies that read graph constants directly; the verifier does not.
      if (!label.includes("graph constant")) verify(g);
      for (const seed of [1, 2, 3]) expectCompiledSame(g, seed, inlineFused(g));
      const ex = compile(g);
      const fused = ex.kernels.filter((k) => k.op === "fused");
      expect(fused.length).toBe(g.nodes.filter((n) => n.op === "fused").length);
      for (const k of fused) {
        expect(k.source).toMatch(/return function (elementwise|reduce|matmul)_[0-9a-f]+\(env, s\)/);
        expect(k.hash).toMatch(/^[0-9a-f]{14}$/);
      }
    });
  }

  it("specializes loops to static shapes and rounds float32 intermediates", () => {
    const ex = compile(parse(FUSED["elementwise with broadcasting, a smaller body value and two yields"]!));
    const src = ex.kernels[0]!.source!;
    expect(src).toContain("i0 < 4");
    expect(src).toContain("i1 < 5");
    expect(src).toContain("Math.fround(Math.exp(");
    // One loop nest and no per-element calls other than math.
    expect(src.match(/for \(/g)).toHaveLength(2);
    expect(src).not.toMatch(/=>|function\s*\(/);
  });

  it("a multi-output reduce stores its extra yields in the loop that accumulates", () => {
    const ex = compile(parse(FUSED["multi-output reduce: softmax's exp written in the accumulating loop"]!));
    const src = ex.kernels[1]!.source!;
    expect(src).toMatch(/o0\[p0_1\] = v1;\n\s*acc \+= v1;/);
    expect(src).toContain("o1[i0] = acc;");
    expect(src.match(/Math\.exp/g)).toHaveLength(1);
    expect(ex.kernels.map((k) => k.source ?? "").join("").match(/Math\.exp/g)).toHaveLength(1);
    const row = compile(parse(FUSED["multi-output reduce over a leading axis (accumulator row), extra yields of other dtypes"]!)).kernels[0]!.source!;
    expect(row).toContain("ACC.fill(0)");
    expect(row.match(/Math\.tanh/g)).toHaveLength(1);
  });

  it("traced softmax compiles to three kernels with one exp, bit-identical to the unfused graph", () => {
    const f = st.fn((x: Tensor) => st.softmax(x, -1));
    const g = f.lower(T([6, 7], "float32", 3));
    const fg = fuse(g);
    const ex = expectCompiledSame(fg, 5, g);
    expect(ex.kernels).toHaveLength(3);
    expect(ex.kernels.map((k) => k.source ?? "").join("").match(/Math\.exp/g)).toHaveLength(1);
  });

  it("shares one index between operands laid out like the output", () => {
    const ex = compile(parse(FUSED["float32 rounding between ops (a float64 sum would differ)"]!));
    const src = ex.kernels[0]!.source!;
    expect(src).toContain("const x0 = a0[i0];");
    expect(src).toContain("const x1 = a1[i0];");
    expect(src).toContain("o0[i0] = v3;");
  });

  it("runs the fuse pass's output on a small MLP bit-identically", () => {
    const w1 = T([6, 8], "float32", 4);
    const b1 = T([8], "float32", 5);
    const w2 = T([8, 3], "float32", 6);
    const f = st.fn((x: Tensor) => st.argmax(st.softmax(st.matmul(st.relu(st.add(st.matmul(x, w1), b1)), w2)), -1));
    const g = f.lower(T([5, 6]));
    const fg = fuse(g);
    expect(fg.nodes.filter((n) => n.op === "fused").map((n) => n.attrs["kind"])).toContain("matmul");
    const ex = expectCompiledSame(fg, 7, g);
    expect(ex.kernels.length).toBe(fg.nodes.length);
  });
});

describe("compile: kernel cache", () => {
  it("compiles structurally equal nodes once across graphs", () => {
    clearKernelCache();
    const text = FUSED["matmul with bias and relu, written straight into the result"]!;
    // The same structure under different names: value names are not part of the key.
    const renamed = text.replaceAll("%a", "%p").replaceAll("%t", "%q").replace("@f", "@g");
    const a = compile(parse(text));
    const before = kernelCacheStats();
    const b = compile(parse(renamed));
    const after = kernelCacheStats();
    expect(after.misses).toBe(before.misses);
    expect(after.hits).toBe(before.hits + 1);
    expect(b.kernels[0]!.hash).toBe(a.kernels[0]!.hash);
    expect(b.kernels[0]!.source).toBe(a.kernels[0]!.source);
    // A different shape is a different kernel.
    compile(parse(text.replaceAll("9,", "10,")));
    expect(kernelCacheStats().misses).toBe(after.misses + 1);
  });

  it("keys attributes by value, not by key order", () => {
    const mk = (attrs: string) => `func @f(%x: f32[2,3]) -> (f32[2]) {
  %0 = reduceSum(%x) ${attrs} : f32[2]
  return %0
}`;
    const a = compile(parse(mk(`{axes = [1], keepDims = false}`)));
    const b = compile(parse(mk(`{keepDims = false, axes = [1]}`)));
    expect(b.kernels[0]!.hash).toBe(a.kernels[0]!.hash);
  });
});

// ---- memory planning ------------------------------------------------------------------------------

const chain = (n: number, ops: readonly string[]): string => {
  const lines = [`func @chain(%x: f32[${n}]) -> (f32[${n}]) {`];
  ops.forEach((op, i) => lines.push(`  %${i} = ${op}(${i === 0 ? "%x" : `%${i - 1}`}) : f32[${n}]`));
  lines.push(`  return %${ops.length - 1}`, "}");
  return lines.join("\n");
};
const TEN = ["neg", "exp", "tanh", "abs", "sqrt", "sin", "relu", "cos", "square", "sigmoid"];

describe("compile: memory plan", () => {
  it("a chain of 10 elementwise ops over a big tensor uses O(1) intermediate buffers, not 10", () => {
    // JavaScript kernels: bit-identical to the interpreter, and in-place writes on (WebAssembly
    // kernels approximate transcendentals and never write in place; wasm-compile.test.ts).
    const js = { wasm: "never" } as const;
    const n = 1 << 18;
    const g = parse(chain(n, TEN));
    const ex = compile(g, js);
    expect(ex.plan.slotBytes.length).toBeLessThanOrEqual(2);
    expect(ex.plan.buffers).toBeLessThanOrEqual(3); // the slots and the fresh result
    expect(ex.plan.peakBytes).toBeLessThanOrEqual(3 * 4 * n);
    const noReuse = compile(g, { ...js, reuse: false });
    expect(noReuse.plan.slotBytes.length).toBe(9);
    expect(noReuse.plan.peakBytes).toBe(10 * 4 * n);
    const inputs = inputsFor(g, 5);
    const want = interpret(g, inputs);
    expectSameBuffers(ex.run(inputs), want);
    expectSameBuffers(noReuse.run(inputs), want);
    expectSameBuffers(compile(g, { ...js, inPlace: false }).run(inputs), want);
  });

  it("without in-place writes a chain alternates between two slots", () => {
    const ex = compile(parse(chain(1000, TEN)), { inPlace: false });
    expect(ex.plan.slotBytes).toEqual([4000, 4000]);
    expect(ex.plan.inPlace).toBe(0);
  });

  it("never aliases results across runs, and never writes parameters or constants", () => {
    const g = parse(`func @f(%x: f32[4,3]) -> (f32[4,3], f32[4], f32[4,3]) {
  const %c0: f32[3] = dense<[1, 2, 3]>
  %0 = add(%x, %c0) : f32[4,3]
  %1 = exp(%0) : f32[4,3]
  %2 = reduceSum(%1) {axes = [1], keepDims = false} : f32[4]
  %3 = mul(%1, %0) : f32[4,3]
  return %3, %2, %x
}`);
    const ex = compile(g);
    const a = inputsFor(g, 1);
    const b = inputsFor(g, 2);
    const xa = Float32Array.from(a[0]!.data);
    const c0 = Float32Array.from(g.constants[0]!.data);
    const r1 = ex.run(a);
    const snapshot = r1.map((r) => Array.from(r.data));
    const r2 = ex.run(b);
    r1.slice(0, 2).forEach((r, i) => {
      expect(r.data).not.toBe(r2[i]!.data);
      expect(r.data.buffer).not.toBe(r2[i]!.data.buffer);
    });
    // The first run's results survive the second run untouched.
    expect(r1.map((r) => Array.from(r.data))).toEqual(snapshot);
    expect(Array.from(a[0]!.data)).toEqual(Array.from(xa));
    expect(Array.from(g.constants[0]!.data)).toEqual(Array.from(c0));
    // A returned parameter is the caller's own buffer, as in interpret.
    expect(r1[2]!.data).toBe(a[0]!.data);
    expectSameBuffers(r2, interpret(g, b));
  });

  it("keeps a slot alive while a library kernel's result may share it (reshape, debugPrint)", () => {
    const g = parse(`func @f(%x: f32[2,6]) -> (f32[2,6], f32[12]) {
  %0 = exp(%x) : f32[2,6]
  %1 = reshape(%0) {shape = [12]} : f32[12]
  %2 = neg(%x) : f32[2,6]
  %3 = sin(%2) : f32[2,6]
  %4 = reshape(%3) {shape = [12]} : f32[12]
  %5 = add(%1, %4) : f32[12]
  %6 = debugPrint(%3) {label = "d"} : f32[2,6]
  %7 = cos(%6) : f32[2,6]
  %8 = tanh(%x) : f32[2,6]
  %9 = mul(%7, %8) : f32[2,6]
  return %9, %5
}`);
    const ex = expectCompiledSame(g, 3);
    const v = new Map(ex.plan.values.map((p) => [p.name, p]));
    expect(v.get("%0")!.end).toBeGreaterThanOrEqual(5); // read through %1 at step 5
    expect(v.get("%3")!.end).toBeGreaterThanOrEqual(7); // read through %6 at step 7
    expect(v.get("%1")!.placement.kind).toBe("kernel");
  });

  it("gives a compiled result that a reshape returns a fresh buffer every run", () => {
    const g = parse(`func @f(%x: f32[2,3]) -> (f32[6]) {
  %0 = exp(%x) : f32[2,3]
  %1 = reshape(%0) {shape = [6]} : f32[6]
  return %1
}`);
    const ex = compile(g);
    expect(ex.plan.values.find((p) => p.name === "%0")!.placement.kind).toBe("output");
    const r1 = ex.run(inputsFor(g, 1));
    const copy = Array.from(r1[0]!.data);
    ex.run(inputsFor(g, 2));
    expect(Array.from(r1[0]!.data)).toEqual(copy);
  });

  it("counts library kernels' own allocations in peakBytes and buffers", () => {
    const g = parse(`func @f(%x: f32[100,10]) -> (f32[10]) {
  %0 = transpose(%x) {perm = [1, 0]} : f32[10,100]
  %1 = exp(%0) : f32[10,100]
  %2 = reduceSum(%1) {axes = [1], keepDims = false} : f32[10]
  return %2
}`);
    const ex = expectCompiledSame(g);
    const kinds = ex.plan.values.map((v) => `${v.name}:${v.placement.kind}`);
    expect(kinds).toEqual(["%x:param", "%0:kernel", "%1:slot", "%2:output"]);
    expect(ex.plan.buffers).toBe(3);
    // transpose's 4000 bytes and the slot's 4000 are live together; transpose's buffer is dropped
    // after its last reader, before the 40-byte result is made.
    expect(ex.plan.peakBytes).toBe(4000 + 4000);
  });

  it("grows a shared slot for values of different sizes and dtypes", () => {
    const g = parse(`func @f(%x: f32[10]) -> (f32[]) {
  %0 = cast(%x) {dtype = "float64"} : f64[10]
  %1 = exp(%0) : f64[10]
  %2 = cast(%1) {dtype = "uint8"} : u8[10]
  %3 = broadcastTo(%2) {shape = [3, 10]} : u8[3,10]
  %4 = cast(%3) {dtype = "float32"} : f32[3,10]
  %5 = reduceMax(%4) {axes = [0, 1], keepDims = false} : f32[]
  return %5
}`);
    const ex = expectCompiledSame(g, 4);
    expect(ex.plan.slotBytes.length).toBeLessThanOrEqual(2);
  });
});

// ---- errors ---------------------------------------------------------------------------------------

function thrown(f: () => unknown): SymtensorError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(SymtensorError);
    return err as SymtensorError;
  }
  throw new Error("expected an error");
}

describe("compile: errors", () => {
  const g = parse(`func @f(%x: f32[2,3], %y: i32[3]) -> (f32[2,3]) {
  %0 = cast(%y) {dtype = "float32"} : f32[3]
  %1 = add(%x, %0) : f32[2,3]
  return %1
}`);
  const ex = compile(g);
  const x: HostBuffer = { data: new Float32Array(6), type: { dtype: "float32", shape: [2, 3] } };
  const y: HostBuffer = { data: new Int32Array(3), type: { dtype: "int32", shape: [3] } };

  it("checks the arguments like the interpreter, with typed errors", () => {
    const cases: [unknown, abstract new (...a: never[]) => SymtensorError, string, RegExp][] = [
      [[x], ValueError, "ST404", /expected 2 arguments/],
      ["nope", ValueError, "ST404", /array of buffers/],
      [[x, new Int32Array(3)], ValueError, "ST404", /bare Int32Array/],
      [[x, { data: new Int32Array(3), type: { dtype: "float32", shape: [3] } }], DTypeError, "ST402", /argument 1 \(%y\) must be i32\[3\]/],
      [[{ data: new Float32Array(6), type: { dtype: "float32", shape: [3, 2] } }, y], ShapeError, "ST401", /argument 0 \(%x\) must be f32\[2,3\], got f32\[3,2\]/],
      [[{ data: new Float64Array(6), type: x.type }, y], DTypeError, "ST402", /must be a Float32Array, got Float64Array/],
      [[{ data: new Float32Array(5), type: x.type }, y], ShapeError, "ST401", /6 elements.*holds 5/],
      [[x, { data: null, type: null }], DTypeError, "ST402", /got null/],
    ];
    for (const [args, cls, code, text] of cases) {
      const e = thrown(() => ex.run(args as HostBuffer[]));
      expect(e).toBeInstanceOf(cls);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(text);
      expect(e.message).toContain("compiled @f");
    }
  });

  it("rejects fused nodes it cannot compile, naming the node", () => {
    const bad = (kind: string, body: string, ret = "f32[3]") => `func @f(%x: f32[3]) -> (${ret}) {
  %0 = fused(%x) {kind = ${kind}} : ${ret} {
    ^(%a0: f32[3]):
${body}
  }
  return %0
}`;
    const cases: [string, RegExp][] = [
      [bad(`"loop"`, `      yield %a0`), /%0 = fused\(\.\.\.\): attribute "kind" must be one of/],
      [bad(`"elementwise"`, `      %t0 = exp(%zz) : f32[3]\n      yield %t0`), /reads %zz, which is neither/],
      [bad(`"elementwise"`, `      %t0 = cumsum(%a0) {axis = 0} : f32[3]\n      yield %t0`), /body node 0 \(cumsum\) is a scan op/],
      [bad(`"reduce"`, `      %t0 = exp(%a0) : f32[3]\n      yield %t0`), /a "reduce" body ends with one of/],
      [bad(`"matmul"`, `      %t0 = exp(%a0) : f32[3]\n      yield %t0`), /a "matmul" body starts with a matmul node/],
      [bad(`"elementwise"`, `      %t0 = exp(%a0) : f64[3]\n      yield %t0`), /declared f64\[3\] but its operands give f32\[3\]/],
      [bad(`"elementwise"`, `      %t0 = exp(%a0) : f32[3]\n      yield %t0, %t0`), /yields 2 values for 1 results/],
      [bad(`"reduce"`, `      %t0 = reduceSum(%a0) {axes = [0]} : f32[]\n      yield %t0`, "f32[3]"), /yield 0 is f32\[\] but result 0 is f32\[3\]/],
    ];
    for (const [text, re] of cases) {
      const e = thrown(() => compile(parse(text)));
      expect(e).toBeInstanceOf(ValueError);
      expect(e.code).toBe("ST404");
      expect(e.message).toMatch(re);
      expect(e.message).toContain("compile @f");
    }
    // The op's own rule names a bad attribute.
    const axes = thrown(() => compile(parse(bad(`"reduce"`, `      %t0 = reduceSum(%a0) {axes = [3]} : f32[]\n      yield %t0`, "f32[]"))));
    expect(axes.code).toBe("ST404");
    expect(axes.message).toMatch(/out of range/);
  });

  it("rejects unknown ops, undefined values and non-graphs", () => {
    const unknown = parse(`func @f(%x: f32[3]) -> (f32[3]) {
  %0 = frobnicate(%x) : f32[3]
  return %0
}`);
    expect(thrown(() => compile(unknown)).message).toMatch(/unknown op "frobnicate"/);
    const undef = parse(`func @f(%x: f32[3]) -> (f32[3]) {
  %0 = exp(%y) : f32[3]
  return %0
}`);
    expect(thrown(() => compile(undef)).message).toMatch(/operand %y is not defined/);
    expect(thrown(() => compile(null as unknown as Graph))).toBeInstanceOf(ValueError);
  });

  it("surfaces a failing library kernel as a typed error naming the node", () => {
    defineOp({ name: "testBrokenKernel", kind: "shape", arity: 1, doc: "test only", attributes: {}, infer: (t) => [t[0]!] });
    registerCpuKernel("testBrokenKernel", () => {
      throw new TypeError("boom");
    });
    const e = thrown(() =>
      compile(parse(`func @f(%x: f32[3]) -> (f32[3]) {
  %0 = exp(%x) : f32[3]
  %1 = testBrokenKernel(%0) : f32[3]
  return %1
}`)).run([{ data: new Float32Array(3), type: { dtype: "float32", shape: [3] } }]),
    );
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toMatch(/testBrokenKernel failed at %1: boom/);
  });

  it("refuses a re-entrant run from a debugPrint sink", () => {
    const gd = parse(`func @f(%x: f32[3]) -> (f32[3]) {
  %0 = exp(%x) : f32[3]
  %1 = debugPrint(%0) {label = "d"} : f32[3]
  %2 = neg(%1) : f32[3]
  return %2
}`);
    const exd = compile(gd);
    const arg: HostBuffer = { data: new Float32Array(3), type: { dtype: "float32", shape: [3] } };
    let inner: unknown;
    const restore = setCpuDebugSink(() => {
      try {
        exd.run([arg]);
      } catch (err) {
        inner = err;
      }
    });
    try {
      exd.run([arg]);
    } finally {
      restore();
    }
    expect(inner).toBeInstanceOf(ValueError);
    expect((inner as ValueError).message).toMatch(/not re-entrant/);
    expect(exd.run([arg])[0]!.data).toHaveLength(3);
  });
});

describe("compile: storage classes", () => {
  it("bool and uint8 results use Uint8Array, int32 Int32Array", () => {
    const g = parse(`func @f(%x: f32[4]) -> (bool[4], u8[4], i32[4]) {
  %0 = isFinite(%x) : bool[4]
  %1 = cast(%x) {dtype = "uint8"} : u8[4]
  %2 = cast(%x) {dtype = "int32"} : i32[4]
  return %0, %1, %2
}`);
    const out = expectCompiledSame(g).run(inputsFor(g));
    expect(out.map((o) => o.data.constructor)).toEqual([Uint8Array, Uint8Array, Int32Array]);
    expect(out.map((o) => o.data.length)).toEqual([4, 4, 4]);
    expect(dtypeInfo("bool").array).toBe(Uint8Array);
  });
});
