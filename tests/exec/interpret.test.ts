import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HostBuffer } from "../../src/exec/backend.js";
import { interpret, interpretArrays, lastUses } from "../../src/exec/interpret.js";
import { type Graph, GraphBuilder, type Region } from "../../src/ir/graph.js";
import { type Attrs, defineOp, getOp } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";
import { verify } from "../../src/ir/verify.js";
// The eager API straight from its modules (src/index.ts also pulls in the tracer, which is mid-change).
import { DTypeError, ShapeError, SymtensorError, ValueError } from "../../src/ir/errors.js";
import { arange, tensor, zeros } from "../../src/trace/create.js";
import * as elementwise from "../../src/trace/ops/elementwise.js";
import * as linalg from "../../src/trace/ops/linalg.js";
import * as random from "../../src/trace/ops/random.js";
import * as reduction from "../../src/trace/ops/reduction.js";
import * as shapeOps from "../../src/trace/ops/shape.js";
import type { Tensor } from "../../src/trace/tensor.js";

const st = { ...elementwise, ...reduction, ...shapeOps, ...linalg, ...random, arange, tensor, zeros, SymtensorError };

/** A GraphBuilder that infers each node's result types with the op's own rule. */
class Builder {
  readonly b: GraphBuilder;
  readonly types = new Map<string, TensorType>();
  constructor(name = "f") {
    this.b = new GraphBuilder(name);
  }
  param(name: string, type: TensorType): string {
    this.types.set(name, this.b.addParam(name, type).type);
    return name;
  }
  constant(t: Tensor): string {
    const v = this.b.addConstant(t.type, t.numpy().data);
    this.types.set(v.name, v.type);
    return v.name;
  }
  op(op: string, operands: readonly string[], attrs: Attrs = {}): string[] {
    const types = getOp(op).infer(operands.map((o) => this.types.get(o)!), attrs);
    const results = this.b.addNode(op, operands, attrs, types);
    for (const r of results) this.types.set(r.name, r.type);
    return results.map((r) => r.name);
  }
  op1(op: string, operands: readonly string[], attrs: Attrs = {}): string {
    return this.op(op, operands, attrs)[0]!;
  }
  build(results: readonly string[]): Graph {
    const g = this.b.build(results);
    verify(g);
    return g;
  }
}

const buf = (t: Tensor): HostBuffer => ({ data: t.numpy().data, type: t.type });

/** Asserts that interpreted buffers equal eager tensors exactly (dtype, shape, every bit but NaN payloads). */
function expectSame(got: readonly HostBuffer[], want: readonly Tensor[]): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(g.type).toEqual(w.type);
    expect(g.data.constructor).toBe(w.numpy().data.constructor);
    expect(Array.from(g.data)).toEqual(Array.from(w.numpy().data));
  });
}

describe("interpret: agrees with eager execution", () => {
  const x = st.tensor([[1, -2, 3], [4, 5, -6]], { dtype: "float32" });
  const y = st.tensor([0.5, -1, 2], { dtype: "float32" });

  it("one node: %0 = add(%arg0, %arg1)", () => {
    const g = new Builder();
    const s = g.op1("add", [g.param("%arg0", x.type), g.param("%arg1", y.type)]);
    expectSame(interpret(g.build([s]), [buf(x), buf(y)]), [st.add(x, y)]);
  });

  it("an elementwise chain with broadcasting, comparisons, where and cast", () => {
    const g = new Builder();
    const [a, b] = [g.param("%a", x.type), g.param("%b", y.type)];
    const m = g.op1("mul", [a, b]);
    const t = g.op1("tanh", [m]);
    const c = g.op1("greater", [t, b]);
    const w = g.op1("where", [c, m, b]);
    const k = g.op1("cast", [w], { dtype: "int32" });
    const out = interpret(g.build([t, c, k]), [buf(x), buf(y)]);
    const em = st.mul(x, y);
    const et = st.tanh(em);
    const ec = st.greater(et, y);
    expectSame(out, [et, ec, st.cast(st.where(ec, em, y), "int32")]);
  });

  it("reductions, argmax, reshape, transpose and matmul with their attributes", () => {
    const g = new Builder();
    const a = g.param("%x", x.type);
    const sum = g.op1("reduceSum", [a], { axes: [1], keepDims: true });
    const mx = g.op1("reduceMax", [a], { axes: [0, 1], keepDims: false });
    const am = g.op1("argmax", [a], { axis: 0, keepDims: false });
    const rs = g.op1("reshape", [a], { shape: [3, 2] });
    const tr = g.op1("transpose", [rs], { perm: [1, 0] });
    const mm = g.op1("matmul", [a, rs]);
    const cs = g.op1("cumsum", [a], { axis: 1, exclusive: false, reverse: true });
    const out = interpret(g.build([sum, mx, am, tr, mm, cs]), [buf(x)]);
    expectSame(out, [
      st.reduceSum(x, 1, true),
      st.reduceMax(x),
      st.argmax(x, 0),
      st.transpose(st.reshape(x, [3, 2])),
      st.matmul(x, st.reshape(x, [3, 2])),
      st.cumsum(x, 1, { reverse: true }),
    ]);
  });

  it("a node with several results (split)", () => {
    const v = st.arange(10, undefined, 1, { dtype: "int32" });
    const g = new Builder();
    const parts = g.op("split", [g.param("%v", v.type)], { axis: 0, sizes: [3, 0, 7] });
    expect(parts).toHaveLength(3);
    const joined = g.op1("concat", [parts[2]!, parts[0]!], { axis: 0 });
    expectSame(interpret(g.build([...parts, joined]), [buf(v)]), [...st.split(v, [3, 0, 7]), st.concat([st.split(v, [3, 7])[1]!, st.split(v, [3, 7])[0]!])]);
  });

  it("integer wrapping, bool logic, size-0 and 0-d tensors", () => {
    const i = st.tensor([2147483647, -5, 7], { dtype: "int32" });
    const p = st.tensor([true, false, true]);
    const q = st.tensor([true, true, false]);
    const empty = st.zeros([0, 3]);
    const scalar = st.tensor(2.5, { dtype: "float64" });
    const g = new Builder();
    const [gi, gp, gq, ge, gs] = [g.param("%i", i.type), g.param("%p", p.type), g.param("%q", q.type), g.param("%e", empty.type), g.param("%s", scalar.type)];
    const out = interpret(
      g.build([g.op1("add", [gi, gi]), g.op1("logicalAnd", [gp, gq]), g.op1("exp", [ge]), g.op1("reduceSum", [ge], { axes: [0] }), g.op1("square", [gs])]),
      [buf(i), buf(p), buf(q), buf(empty), buf(scalar)],
    );
    expectSame(out, [st.add(i, i), st.logicalAnd(p, q), st.exp(empty), st.reduceSum(empty, 0), st.square(scalar)]);
  });

  it("creation ops: a random key in, numbers out", () => {
    const key = st.randomKey(42);
    const g = new Builder();
    const k = g.param("%key", key.type);
    const [k1] = g.op("randomSplit", [k], { n: 2 });
    const u = g.op1("randomUniform", [k1!], { shape: [2, 3], dtype: "float32", minval: 0, maxval: 1 });
    expectSame(interpret(g.build([u]), [buf(key)]), [st.randomUniform(st.splitKey(key)[0]!, [2, 3])]);
  });
});

describe("interpret: constants and returned values", () => {
  it("reads constants in place and returns a returned constant as the same buffer", () => {
    const c = st.tensor([10, 20, 30], { dtype: "float32" });
    const x = st.tensor([1, 2, 3], { dtype: "float32" });
    const g = new Builder();
    const a = g.param("%x", x.type);
    const k = g.constant(c);
    const graph = g.build([g.op1("add", [a, k]), k]);
    const out = interpret(graph, [buf(x)]);
    expectSame(out, [st.add(x, c), c]);
    expect(out[1]!.data).toBe(graph.constants[0]!.data);
  });

  it("returns parameters as is (the very same buffers), even twice", () => {
    const x = buf(st.tensor([[1, 2]], { dtype: "float64" }));
    const g = new Builder();
    const a = g.param("%x", x.type);
    const out = interpret(g.build([a, g.op1("neg", [a]), a]), [x]);
    expect(out[0]).toBe(x);
    expect(out[2]).toBe(x);
    expect(Array.from(out[1]!.data)).toEqual([-1, -2]);
  });

  it("never writes to its inputs or constants", () => {
    const x = buf(st.tensor([1, 2, 3], { dtype: "int32" }));
    const before = Array.from(x.data);
    const g = new Builder();
    const a = g.param("%x", x.type);
    const k = g.constant(st.tensor([1, 1, 1], { dtype: "int32" }));
    const graph = g.build([g.op1("sub", [g.op1("add", [a, k]), a])]);
    interpret(graph, [x]);
    expect(Array.from(x.data)).toEqual(before);
    expect(Array.from(graph.constants[0]!.data)).toEqual([1, 1, 1]);
  });

  it("runs a graph with no nodes, and one whose node results go unused", () => {
    expect(interpret({ name: "e", params: [], constants: [], nodes: [], results: [] }, [])).toEqual([]);
    const x = buf(st.tensor([1, 2], { dtype: "float32" }));
    const g = new Builder();
    const a = g.param("%x", x.type);
    g.op1("exp", [a]);
    expect(interpret(g.build([a]), [x])[0]).toBe(x);
  });

  it("interpretArrays works on bare typed arrays", () => {
    const g = new Builder();
    const a = g.param("%x", { dtype: "float32", shape: [2, 2] });
    const graph = g.build([g.op1("reduceSum", [a], { axes: [0] })]);
    const [out] = interpretArrays(graph, [new Float32Array([1, 2, 3, 4])]);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out!)).toEqual([4, 6]);
    expect(() => interpretArrays(graph, [new Int32Array(4)])).toThrow(DTypeError);
    expect(() => interpretArrays(graph, [])).toThrow(ValueError);
  });
});

describe("interpret: freeing intermediates", () => {
  it("computes each value's last use once; results live to the end, unread values are absent", () => {
    const g = new Builder();
    const a = g.param("%x", { dtype: "float32", shape: [2] });
    const n0 = g.op1("neg", [a]); // node 0
    const n1 = g.op1("exp", [n0]); // node 1
    const n2 = g.op1("add", [n0, n1]); // node 2: last use of %0 and %1
    g.op1("sin", [a]); // node 3: unread
    const graph = g.build([n2]);
    const last = lastUses(graph);
    expect(Object.fromEntries(last)).toEqual({ "%x": 3, [n0]: 2, [n1]: 2, [n2]: 4 });
    expect(last.has("%3")).toBe(false);
    const x = buf(st.tensor([0.5, -1], { dtype: "float32" }));
    expectSame(interpret(graph, [x]), [st.add(st.neg(st.tensor([0.5, -1], { dtype: "float32" })), st.exp(st.neg(st.tensor([0.5, -1], { dtype: "float32" }))))]);
  });
});

describe("interpret: argument errors", () => {
  const g = new Builder();
  g.param("%arg0", { dtype: "float32", shape: [2, 3] });
  g.param("%arg1", { dtype: "float32", shape: [2, 3] });
  const graph = g.build([g.op1("add", ["%arg0", "%arg1"])]);
  const good = buf(st.zeros([2, 3]));

  function thrown(f: () => unknown): Error {
    try {
      f();
    } catch (e) {
      return e as Error;
    }
    throw new Error("did not throw");
  }

  it("wrong argument count: ValueError ST404", () => {
    const e = thrown(() => interpret(graph, [good]));
    expect(e).toBeInstanceOf(ValueError);
    expect((e as ValueError).code).toBe("ST404");
    expect(e.message).toContain("interpret @f: expected 2 arguments (%arg0: f32[2,3], %arg1: f32[2,3]), got 1");
  });

  it("wrong dtype: DTypeError ST402 naming the parameter", () => {
    const bad = buf(st.zeros([2, 3], { dtype: "int32" }));
    const e = thrown(() => interpret(graph, [good, bad]));
    expect(e).toBeInstanceOf(DTypeError);
    expect((e as DTypeError).code).toBe("ST402");
    expect(e.message).toContain("interpret @f: argument 1 (%arg1) must be f32[2,3], got i32[2,3]");
  });

  it("wrong shape: ShapeError ST401 naming the parameter", () => {
    const e = thrown(() => interpret(graph, [good, buf(st.zeros([3]))]));
    expect(e).toBeInstanceOf(ShapeError);
    expect((e as ShapeError).code).toBe("ST401");
    expect(e.message).toContain("interpret @f: argument 1 (%arg1) must be f32[2,3], got f32[3]");
  });

  it("data that does not match the declared type", () => {
    const wrongClass = thrown(() => interpret(graph, [good, { data: new Float64Array(6), type: good.type }]));
    expect(wrongClass).toBeInstanceOf(DTypeError);
    expect(wrongClass.message).toContain("argument 1 (%arg1) is f32[2,3], whose data must be a Float32Array, got Float64Array");
    const wrongLength = thrown(() => interpret(graph, [{ data: new Float32Array(5), type: good.type }, good]));
    expect(wrongLength).toBeInstanceOf(ShapeError);
    expect(wrongLength.message).toContain("argument 0 (%arg0) is f32[2,3] (6 elements), but its data holds 5");
  });

  it("things that are not buffers", () => {
    for (const bad of [null, 3, {}, { data: new Float32Array(6) }, { data: new Float32Array(6), type: null }, { data: new Float32Array(6), type: { dtype: "float16", shape: [2, 3] } }]) {
      const e = thrown(() => interpret(graph, [good, bad as unknown as HostBuffer]));
      expect(e).toBeInstanceOf(st.SymtensorError);
      expect(e.message).toContain("argument 1 (%arg1)");
    }
    expect(thrown(() => interpret(graph, "ab" as unknown as HostBuffer[]))).toBeInstanceOf(ValueError);
  });
});

describe("interpret: ops it cannot run", () => {
  defineOp({ name: "test.loop", attributes: {}, kind: "shape", arity: 1, regions: 1, doc: "test op with a region and no kernel", infer: (t) => [t[0]!] });

  it("an op with regions and no CPU kernel is a ValueError naming the op", () => {
    const body: Region = { params: [{ name: "%p", type: { dtype: "float32", shape: [2] } }], nodes: [], results: ["%p"] };
    const b = new GraphBuilder("loop");
    b.addParam("%x", { dtype: "float32", shape: [2] });
    b.addNode("test.loop", ["%x"], {}, [{ dtype: "float32", shape: [2] }], undefined, [body]);
    const graph = b.build(["%0"]);
    verify(graph);
    const run = (): unknown => interpret(graph, [{ data: new Float32Array(2), type: { dtype: "float32", shape: [2] } }]);
    expect(run).toThrow(ValueError);
    expect(run).toThrow(/op test\.loop \(%0 = test\.loop\(\.\.\.\)\) has regions and has no CPU kernel/);
  });
});

// ---- property: random elementwise chains, interpreted vs eager -------------------------------------

type Fn = (...xs: Tensor[]) => Tensor;
const UNARY: Record<string, Fn> = { neg: st.neg, abs: st.abs, square: st.square, relu: st.relu, tanh: st.tanh, sin: st.sin, exp: st.exp, sqrt: st.sqrt };
const BINARY: Record<string, Fn> = { add: st.add, sub: st.sub, mul: st.mul, maximum: st.maximum, minimum: st.minimum, div: st.div, mod: st.mod, floorDiv: st.floorDiv };
const INT_OPS = new Set(["neg", "abs", "square", "relu", "add", "sub", "mul", "maximum", "minimum", "mod", "floorDiv"]);

const chainCase = fc.record({
  dtype: fc.constantFrom("float32" as const, "float64" as const, "int32" as const),
  shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  suffix: fc.nat(3),
  pool: fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 27, maxLength: 27 }),
  steps: fc.array(fc.record({ op: fc.constantFrom(...Object.keys(UNARY), ...Object.keys(BINARY)), a: fc.nat(), b: fc.nat() }), { minLength: 1, maxLength: 8 }),
});

describe("interpret: property", () => {
  it("random chains of elementwise ops interpret to the same bits as eager execution", () => {
    fc.assert(
      fc.property(chainCase, ({ dtype, shape, suffix, pool, steps }) => {
        const yShape = shape.slice(Math.min(suffix, shape.length));
        const data = (s: readonly number[]): number[] => pool.slice(0, s.reduce((p, d) => p * d, 1)).map((v) => (dtype === "int32" ? v : v / 4));
        const x = st.reshape(st.tensor(data(shape), { dtype }), shape);
        const y = st.reshape(st.tensor(data(yShape), { dtype }), yShape);

        const g = new Builder("chain");
        const names = [g.param("%x", x.type), g.param("%y", y.type)];
        const eager = [x, y];
        for (const s of steps) {
          if (dtype === "int32" && !INT_OPS.has(s.op)) continue;
          const i = s.a % names.length;
          const j = s.b % names.length;
          if (s.op in UNARY) {
            names.push(g.op1(s.op, [names[i]!]));
            eager.push(UNARY[s.op]!(eager[i]!));
          } else {
            names.push(g.op1(s.op, [names[i]!, names[j]!]));
            eager.push(BINARY[s.op]!(eager[i]!, eager[j]!));
          }
        }
        const out = interpret(g.build(names.slice(2)), [buf(x), buf(y)]);
        expectSame(out, eager.slice(2));
      }),
      { numRuns: 150 },
    );
  });
});
