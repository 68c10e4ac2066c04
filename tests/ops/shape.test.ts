import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { type DType, DTypeError, IndexError, NDArray, ShapeError, type SliceSpec, type Tensor, type TensorLike, ValueError } from "../../src/index.js";
import { getOp } from "../../src/ir/registry.js";
import { broadcastShapes } from "../../src/ir/shape.js";
import type { TensorType } from "../../src/ir/types.js";
import { expectArrayClose, type FixtureValue, loadFixtures } from "../helpers/fixtures.js";
import { expectTracedMatchesEager } from "../helpers/traced.js";

type Fn = (args: FixtureValue[], kwargs: Record<string, FixtureValue>) => Tensor | Tensor[];
const t = (v: FixtureValue | undefined): TensorLike => v as TensorLike;
const nums = (v: FixtureValue | undefined): number[] => v as number[];
const axisArg = (v: FixtureValue | undefined): number | number[] | undefined => v as number | number[] | undefined;

/** Maps each fixture op name to a call of the public function. */
const OPS: Record<string, Fn> = {
  reshape: (a) => st.reshape(t(a[0]), nums(a[1])),
  transpose: (a, kw) => st.transpose(t(a[0]), kw["perm"] === undefined ? undefined : nums(kw["perm"])),
  expandDims: (a) => st.expandDims(t(a[0]), axisArg(a[1])!),
  squeeze: (a, kw) => st.squeeze(t(a[0]), axisArg(kw["axis"])),
  broadcastTo: (a) => st.broadcastTo(t(a[0]), nums(a[1])),
  concat: (a, kw) => st.concat(a[0] as TensorLike[], kw["axis"] as number),
  stack: (a, kw) => st.stack(a[0] as TensorLike[], kw["axis"] as number),
  split: (a, kw) => st.split(t(a[0]), a[1] as number | number[], kw["axis"] as number),
  unstack: (a, kw) => st.unstack(t(a[0]), kw["axis"] as number),
  slice: (a) => (a.length === 3 ? st.slice(t(a[0]), nums(a[1]), nums(a[2])) : st.slice(t(a[0]), a[1] as unknown as SliceSpec[])),
  gather: (a, kw) => st.gather(t(a[0]), t(a[1]), kw["axis"] as number),
  pad: (a, kw) => st.pad(t(a[0]), a[1] as [number, number][], kw["value"] as number | boolean | undefined),
  tile: (a) => st.tile(t(a[0]), nums(a[1])),
  flip: (a, kw) => st.flip(t(a[0]), axisArg(kw["axis"])),
  oneHot: (a, kw) => {
    const o: st.OneHotOptions = {};
    if (kw["onValue"] !== undefined) o.onValue = kw["onValue"] as number | boolean;
    if (kw["offValue"] !== undefined) o.offValue = kw["offValue"] as number | boolean;
    if (kw["dtype"] !== undefined) o.dtype = kw["dtype"] as unknown as DType;
    if (kw["axis"] !== undefined) o.axis = kw["axis"] as number;
    return st.oneHot(t(a[0]), a[1] as number, o);
  },
};

describe("shape ops against NumPy fixtures", () => {
  const cases = loadFixtures("shape");
  const byOp = new Map<string, typeof cases>();
  for (const c of cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);
  it("covers every public shape op", () => {
    expect([...byOp.keys()].sort()).toEqual(Object.keys(OPS).sort());
  });
  for (const [op, list] of byOp) {
    it(`${op} (${list.length} cases)`, () => {
      const fn = OPS[op];
      expect(fn, `no mapping for fixture op ${op}`).toBeDefined();
      for (const c of list) {
        const out = fn!(c.args, c.kwargs);
        expectTracedMatchesEager(c.name, (args) => fn!(args, c.kwargs), c.args);
        const tol = { rtol: c.rtol, atol: c.atol };
        if (Array.isArray(c.expected)) {
          expect(Array.isArray(out), `${c.name}: expected a list of tensors`).toBe(true);
          const outs = out as Tensor[];
          expect(outs.length, `${c.name}: number of pieces`).toBe(c.expected.length);
          c.expected.forEach((e, i) => expectArrayClose(outs[i]!, e as NDArray, tol, `${c.name} [${i}]`));
        } else {
          expectArrayClose(out as Tensor, c.expected as NDArray, tol, c.name);
        }
      }
    });
  }
});

/** Asserts that `f` throws an instance of `cls` with `code`, and that the message contains each fragment. */
function expectError(f: () => unknown, cls: abstract new (...args: never[]) => st.SymtensorError, code: string, ...fragments: string[]): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, "expected an error").toBeInstanceOf(cls);
  const e = err as st.SymtensorError;
  expect(e.code).toBe(code);
  for (const frag of fragments) expect(e.message).toContain(frag);
}

const x234 = (): Tensor => st.reshape(st.arange(24), [2, 3, 4]);

describe("shape op errors", () => {
  it("reshape", () => {
    expectError(() => st.reshape(x234(), [5, 5]), ShapeError, "ST401", "reshape", "[2,3,4]");
    expectError(() => st.reshape(x234(), [-1, -1]), ValueError, "ST404", "-1");
    expectError(() => st.reshape(x234(), [2.5, 2]), ValueError, "ST404");
    expectError(() => st.reshape(x234(), "24" as unknown as number[]), ValueError, "ST404");
    expectError(() => st.reshape(st.zeros([0, 3]), [-1, 0]), ShapeError, "ST401");
  });
  it("transpose", () => {
    expectError(() => st.transpose(x234(), [0, 0, 1]), ValueError, "ST404", "transpose");
    expectError(() => st.transpose(x234(), [0, 1]), ValueError, "ST404", "perm");
    expectError(() => st.transpose(x234(), [0, 1, 3]), ValueError, "ST404", "axis 3");
  });
  it("expandDims and squeeze", () => {
    expectError(() => st.expandDims(x234(), 4), ValueError, "ST404", "expandDims", "axis 4");
    expectError(() => st.expandDims(x234(), [0, 0]), ValueError, "ST404", "repeated");
    expectError(() => st.squeeze(x234(), 1), ValueError, "ST404", "squeeze", "axis 1", "size is 3");
    expectError(() => st.squeeze(x234(), 3), ValueError, "ST404");
  });
  it("broadcastTo", () => {
    expectError(() => st.broadcastTo([1, 2, 3], [2, 4]), ShapeError, "ST401", "broadcastTo", "f32[3]", "[2,4]");
    expectError(() => st.broadcastTo(x234(), [3, 4]), ShapeError, "ST401", "lower-rank");
    expectError(() => st.broadcastTo([1], [-1]), ValueError, "ST404");
  });
  it("concat and stack", () => {
    expectError(() => st.concat([st.zeros([2, 3]), st.zeros([2, 4])], 0), ShapeError, "ST401", "concat", "operand 1", "dimension 1", "axis 0");
    expectError(() => st.concat([st.zeros([2, 3]), st.zeros([2, 3, 1])], 0), ShapeError, "ST401", "operand 1", "rank");
    expectError(() => st.concat([st.zeros([]), st.zeros([])]), ShapeError, "ST401", "0-d");
    expectError(() => st.concat([]), ValueError, "ST404");
    expectError(() => st.concat([st.zeros([2])], 1), ValueError, "ST404", "axis 1");
    expectError(() => st.stack([st.zeros([2, 3]), st.zeros([3, 2])]), ShapeError, "ST401", "stack", "operand 1");
    expectError(() => st.stack([]), ValueError, "ST404");
    expectError(() => st.stack([[1], [2]], 3), ValueError, "ST404", "axis 3");
  });
  it("split and unstack", () => {
    expectError(() => st.split(st.zeros([5]), 2), ValueError, "ST404", "split", "size 5");
    expectError(() => st.split(st.zeros([5]), [2, 2]), ValueError, "ST404", "sum to 4");
    expectError(() => st.split(st.zeros([5]), [-1, -1]), ValueError, "ST404", "-1");
    expectError(() => st.split(st.zeros([5]), [7, -1]), ValueError, "ST404");
    expectError(() => st.split(st.zeros([5]), 0), ValueError, "ST404");
    expectError(() => st.split(st.zeros([5]), [1.5, 3.5]), ValueError, "ST404");
    expectError(() => st.split(st.zeros([]), 1), ShapeError, "ST401", "0-d");
    expectError(() => st.unstack(st.zeros([]), 0), ShapeError, "ST401");
    expectError(() => st.unstack(st.zeros([2]), 1), ValueError, "ST404");
  });
  it("slice with an index spec", () => {
    expectError(() => st.slice(x234(), [2]), IndexError, "ST406", "index 2", "axis 0", "size 2");
    expectError(() => st.slice(x234(), [0, -4]), IndexError, "ST406", "index -4", "axis 1");
    expectError(() => st.slice(x234(), [0, 0, 0, 0]), IndexError, "ST406", "too many indices");
    expectError(() => st.slice(x234(), ["...", 0, "..."]), IndexError, "ST406", "...");
    expectError(() => st.slice(x234(), [{ step: 0 }]), ValueError, "ST404", "step");
    expectError(() => st.slice(x234(), [0.5]), ValueError, "ST404");
    expectError(() => st.slice(x234(), [{ start: 1.5 }]), ValueError, "ST404", "start");
    expectError(() => st.slice(x234(), [[0, 1] as unknown as SliceSpec]), ValueError, "ST404", "gather");
    expectError(() => st.slice(x234(), [true as unknown as SliceSpec]), ValueError, "ST404");
    expectError(() => st.slice(st.zeros([]), [0]), IndexError, "ST406");
  });
  it("slice with begin and size", () => {
    expectError(() => st.slice(x234(), [0, 4, 0], [1, 1, 1]), IndexError, "ST406", "begin[1]");
    expectError(() => st.slice(x234(), [0, 0, 2], [1, 1, 3]), IndexError, "ST406", "size[2]");
    expectError(() => st.slice(x234(), [0, -4, 0], [1, 1, 1]), IndexError, "ST406");
    expectError(() => st.slice(x234(), [0, 0], [1, 1]), ValueError, "ST404", "3 entries");
    expectError(() => st.slice(x234(), [0, 0, 0], [1, -2, 1]), ValueError, "ST404", "size[1]");
  });
  it("gather", () => {
    expectError(() => st.gather(x234(), [0, 3], 1), IndexError, "ST406", "index 3", "axis 1", "size 3");
    expectError(() => st.gather(x234(), [-5], -1), IndexError, "ST406", "index -5", "size 4");
    expectError(() => st.gather(st.zeros([0]), [0]), IndexError, "ST406");
    expectError(() => st.gather(x234(), st.tensor([0.5])), DTypeError, "ST402", "gather", "f32");
    expectError(() => st.gather(x234(), [0.5]), DTypeError, "ST402", "0.5");
    expectError(() => st.gather(x234(), [true, false]), DTypeError, "ST402");
    expectError(() => st.gather(x234(), [0], 3), ValueError, "ST404", "axis 3");
    expectError(() => st.gather(st.zeros([]), [0]), ValueError, "ST404");
  });
  it("pad, tile, flip", () => {
    expectError(() => st.pad([1, 2], [[-1, 0]]), ValueError, "ST404", "pad", "non-negative");
    expectError(() => st.pad([1, 2], [[1, 0], [0, 1]]), ValueError, "ST404", "pair");
    expectError(() => st.pad([1, 2], [[1] as unknown as [number, number]]), ValueError, "ST404", "paddings[0]");
    expectError(() => st.pad(st.tensor([1, 2], { dtype: "uint8" }), [[1, 0]], 300), ValueError, "ST404");
    expectError(() => st.tile([1, 2], [-1]), ValueError, "ST404", "tile", "reps[0]");
    expectError(() => st.tile([1, 2], [1.5]), ValueError, "ST404");
    expectError(() => st.flip(x234(), 3), ValueError, "ST404", "flip", "axis 3");
    expectError(() => st.flip(x234(), [0, -3]), ValueError, "ST404", "repeated");
  });
  it("oneHot", () => {
    expectError(() => st.oneHot(st.tensor([1.0]), 3), DTypeError, "ST402", "oneHot");
    expectError(() => st.oneHot([1], -1), ValueError, "ST404", "depth");
    expectError(() => st.oneHot([1], 2.5), ValueError, "ST404", "depth");
    expectError(() => st.oneHot([1], 3, { dtype: "int64" as DType }), DTypeError, "ST402", "int64");
    expectError(() => st.oneHot([1], 3, { axis: 2 }), ValueError, "ST404", "axis 2");
    expectError(() => st.oneHot([1], 3, { dtype: "uint8", onValue: 256 }), ValueError, "ST404");
  });
});

describe("registry rules validate attributes (IR text is parsed from files)", () => {
  const f32 = (...shape: number[]): TensorType => ({ dtype: "float32", shape });
  const i32 = (...shape: number[]): TensorType => ({ dtype: "int32", shape });
  const infer = (op: string, types: TensorType[], attrs: Record<string, st.NestedArray | null | Record<string, number>>) => () =>
    getOp(op).infer(types, attrs as never);
  it("rejects malformed or out-of-range attributes", () => {
    expectError(infer("reshape", [f32(2, 3)], { shape: [4, 2] }), ShapeError, "ST401", "reshape", "f32[2,3]");
    expectError(infer("reshape", [f32(2, 3)], { shape: [-1, 6] }), ValueError, "ST404");
    expectError(infer("reshape", [f32(2, 3)], {}), ValueError, "ST404", "shape");
    expectError(infer("transpose", [f32(2, 3)], { perm: [1, 1] }), ValueError, "ST404", "perm");
    expectError(infer("transpose", [f32(2, 3)], { perm: [0] }), ValueError, "ST404");
    expectError(infer("broadcastTo", [f32(2, 3)], { shape: [3, 3] }), ShapeError, "ST401");
    expectError(infer("slice", [f32(5)], { begin: [0], end: [5], strides: [0] }), ValueError, "ST404", "strides[0]");
    expectError(infer("slice", [f32(5)], { begin: [0], end: [6], strides: [1] }), ValueError, "ST404");
    expectError(infer("slice", [f32(5)], { begin: [5], end: [0], strides: [-1] }), ValueError, "ST404", "outside");
    expectError(infer("slice", [f32(5)], { begin: [0], end: [5] }), ValueError, "ST404", "strides");
    expectError(infer("flip", [f32(5)], { axes: [1] }), ValueError, "ST404");
    expectError(infer("flip", [f32(5, 2)], { axes: [-1] }), ValueError, "ST404");
    expectError(infer("concat", [f32(2), i32(2)], { axis: 0 }), DTypeError, "ST402", "operand 1");
    expectError(infer("concat", [f32(2), f32(2)], { axis: 1 }), ValueError, "ST404");
    expectError(infer("concat", [], { axis: 0 }), ValueError, "ST404");
    expectError(infer("split", [f32(5)], { axis: 0, sizes: [2, 2] }), ValueError, "ST404", "sum to 4");
    expectError(infer("split", [f32(5)], { axis: 0, sizes: [6, -1] }), ValueError, "ST404");
    expectError(infer("gather", [f32(5), f32(2)], { axis: 0 }), DTypeError, "ST402", "indices");
    expectError(infer("gather", [f32(5), i32(2)], { axis: -1 }), ValueError, "ST404", "axis");
    expectError(infer("pad", [f32(5), f32()], { paddings: [[-1, 0]] }), ValueError, "ST404", "non-negative");
    expectError(infer("pad", [f32(5), i32()], { paddings: [[1, 0]] }), DTypeError, "ST402", "fill value");
    expectError(infer("pad", [f32(5), f32(1)], { paddings: [[1, 0]] }), ShapeError, "ST401", "0-d");
    expectError(infer("oneHot", [i32(2), f32(), f32()], { depth: -1, axis: 1 }), ValueError, "ST404", "depth");
    expectError(infer("oneHot", [f32(2), f32(), f32()], { depth: 3, axis: 1 }), DTypeError, "ST402", "indices");
    expectError(infer("oneHot", [i32(2), f32(), i32()], { depth: 3, axis: 1 }), DTypeError, "ST402", "offValue");
    expectError(infer("reshape", [f32(2), f32(2)], { shape: [2] }), ValueError, "ST404", "1 operand");
  });
  it("gives normalized attributes to the ops", () => {
    expect(getOp("slice").infer([f32(5)], { begin: [4], end: [-1], strides: [-2] })).toEqual([f32(3)]);
    expect(getOp("slice").infer([f32(0)], { begin: [-1], end: [-1], strides: [-1] })).toEqual([f32(0)]);
    expect(getOp("split").infer([f32(5, 2)], { axis: 0, sizes: [2, 3] })).toEqual([f32(2, 2), f32(3, 2)]);
    expect(getOp("oneHot").infer([i32(2, 3), f32(), f32()], { depth: 4, axis: 1 })).toEqual([f32(2, 4, 3)]);
  });
});

describe("shape op behaviour", () => {
  it("reshape, expandDims and squeeze do not copy, yet results stay independent of .numpy() copies", () => {
    const x = st.arange(6);
    const y = st.reshape(x, [2, 3]);
    const a = y.numpy();
    a.set(100, 0, 0);
    expect(x.numpy().get(0)).toBe(0);
    expect(st.squeeze(st.expandDims(y, 1)).shape).toEqual([2, 3]);
  });
  it("accepts TensorLike inputs and keeps dtypes", () => {
    expect(st.transpose([[1, 2], [3, 4]]).tolist()).toEqual([[1, 3], [2, 4]]);
    expect(st.flip(new Int32Array([1, 2, 3])).numpy().dtype).toBe("int32");
    expect(st.gather(new NDArray(new Float64Array([1, 2, 3]), [3]), new Int32Array([2, 0])).tolist()).toEqual([3, 1]);
    expect(st.gather([10, 20, 30], st.tensor([2, 1], { dtype: "uint8" })).tolist()).toEqual([30, 20]);
    expect(st.concat([st.tensor([1], { dtype: "uint8" }), [2, 3]]).dtype).toBe("uint8");
    expect(st.concat([st.tensor([1], { dtype: "int32" }), [2.5]]).dtype).toBe("float32");
    expect(st.reshape([1, 2, 3, 4], 4).shape).toEqual([4]);
    expect(st.tile([1, 2], 2).tolist()).toEqual([1, 2, 1, 2]);
  });
  it("slice distinguishes its two call forms", () => {
    const x = x234();
    expect(st.slice(x, [1, 1, 1], [1, 2, -1]).shape).toEqual([1, 2, 3]);
    expect(st.slice(x, [1, 1, 1]).shape).toEqual([]);
    expect(st.slice(x, [1, 1, 1]).item()).toBe(17);
    expect(st.slice(x, [{ step: -1 }, "newaxis", "..."]).shape).toEqual([2, 1, 3, 4]);
  });
  it("large strided copies take the bulk path correctly", () => {
    const x = st.reshape(st.arange(3 * 200), [3, 200]);
    const y = st.slice(x, [{ start: 1 }, { start: 50, stop: 180 }]);
    expect(y.shape).toEqual([2, 130]);
    expect(y.numpy().get(1, 129)).toBe(2 * 200 + 179);
    const g = st.gather(x, [2, 0]);
    expect(g.numpy().get(0, 199)).toBe(599);
  });
});

// ---- properties ----------------------------------------------------------------------------------

const DTYPE_ARB = fc.constantFrom<DType>("bool", "uint8", "int32", "float32", "float64");
const shapeArb = (maxRank = 4, maxDim = 4) => fc.array(fc.integer({ min: 0, max: maxDim }), { maxLength: maxRank });

/** A tensor with distinct-ish deterministic values for a shape and dtype. */
function filled(shape: readonly number[], dtype: DType, seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 251) - (dtype === "int32" || dtype.startsWith("float") ? 100 : 0));
  const data = dtype === "bool" ? vals.map((v) => v % 2 !== 0) : dtype.startsWith("float") ? vals.map((v) => v / 4) : vals;
  return st.reshape(st.tensor(data, { dtype }), shape);
}

function expectSame(a: Tensor, b: Tensor): void {
  expectArrayClose(a, b.numpy());
}

/** A random regrouping of the prime factors of the shape's size into a new shape. */
function regroup(shape: readonly number[], order: number[], cuts: boolean[]): number[] {
  const factors: number[] = [];
  for (const d of shape) {
    let n = d;
    if (n === 0) factors.push(0);
    for (let p = 2; n > 1; p++) while (n % p === 0) { factors.push(p); n /= p; }
  }
  const sorted = factors.map((f, i) => ({ f, k: order[i % order.length] ?? 0, i })).sort((a, b) => a.k - b.k || a.i - b.i).map((e) => e.f);
  const out: number[] = [];
  let acc = 1;
  sorted.forEach((f, i) => {
    acc *= f;
    if (cuts[i % Math.max(cuts.length, 1)] ?? true) {
      out.push(acc);
      acc = 1;
    }
  });
  if (acc !== 1 || sorted.length === 0) out.push(acc);
  return out;
}

describe("shape op properties", () => {
  it("reshape to a random compatible shape and back is the identity", () => {
    fc.assert(
      fc.property(shapeArb(), DTYPE_ARB, fc.array(fc.integer()), fc.array(fc.boolean()), fc.boolean(), (shape, dtype, order, cuts, useInfer) => {
        const x = filled(shape, dtype);
        const target = regroup(shape, order, cuts);
        const spec = useInfer && target.length > 0 && x.size > 0 ? target.map((d, i) => (i === 0 ? -1 : d)) : target;
        const y = st.reshape(x, spec);
        expect([...y.shape]).toEqual(target);
        expectSame(st.reshape(y, shape), x);
      }),
      { numRuns: 150 },
    );
  });

  it("transpose by a permutation then by its inverse is the identity", () => {
    fc.assert(
      fc.property(
        shapeArb().chain((shape) =>
          fc.tuple(fc.constant(shape), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length })),
        ),
        DTYPE_ARB,
        ([shape, perm], dtype) => {
          const x = filled(shape, dtype);
          const y = st.transpose(x, perm);
          expect([...y.shape]).toEqual(perm.map((p) => shape[p]));
          const inverse = new Array<number>(perm.length);
          perm.forEach((p, i) => (inverse[p] = i));
          expectSame(st.transpose(y, inverse), x);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("broadcastTo follows the broadcasting rule, and broadcasting is commutative", () => {
    // Two shapes derived from one base: each axis kept, set to 1, or (leading axes) dropped.
    const pair = shapeArb(4, 3).chain((base) =>
      fc.tuple(
        fc.constant(base),
        fc.array(fc.constantFrom("keep", "one", "other"), { minLength: base.length, maxLength: base.length }),
        fc.array(fc.constantFrom("keep", "one", "other"), { minLength: base.length, maxLength: base.length }),
        fc.nat(base.length),
        fc.nat(base.length),
      ),
    );
    const derive = (base: number[], how: string[], drop: number): number[] =>
      base.map((d, i) => (how[i] === "one" ? 1 : how[i] === "other" ? d + 1 : d)).slice(drop);
    fc.assert(
      fc.property(pair, DTYPE_ARB, ([base, ha, hb, da, db], dtype) => {
        const a = derive(base, ha, da);
        const b = derive(base, hb, db);
        const x = filled(a, dtype);
        // The rule: a broadcasts to b iff rank a <= rank b and each trailing dim of a is 1 or equal.
        const ok = a.length <= b.length && a.every((d, i) => d === 1 || d === b[b.length - a.length + i]);
        if (ok) {
          const y = st.broadcastTo(x, b);
          expect([...y.shape]).toEqual(b);
          // Every element comes from x at the index with broadcast axes pinned to 0.
          const yn = y.numpy();
          const xn = x.numpy();
          const idx = new Array<number>(b.length).fill(0);
          for (let k = 0; k < yn.size; k++) {
            expect(yn.get(...idx)).toBe(xn.get(...a.map((d, i) => (d === 1 ? 0 : idx[b.length - a.length + i]!))));
            for (let d = b.length - 1; d >= 0; d--) {
              if (++idx[d]! < b[d]!) break;
              idx[d] = 0;
            }
          }
        } else {
          expectError(() => st.broadcastTo(x, b), ShapeError, "ST401");
        }
        let both: number[] | undefined;
        try {
          both = broadcastShapes(a, b);
        } catch (e) {
          expect(e).toBeInstanceOf(ShapeError);
          expectError(() => broadcastShapes(b, a), ShapeError, "ST401");
        }
        if (both) {
          expect(broadcastShapes(b, a)).toEqual(both);
          expect([...st.broadcastTo(x, both).shape]).toEqual(both);
          expect([...st.broadcastTo(filled(b, dtype), both).shape]).toEqual(both);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("concat then split gives back the pieces", () => {
    const arb = fc
      .tuple(shapeArb(3, 3).filter((s) => s.length > 0), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }))
      .chain(([shape, sizes]) => fc.tuple(fc.constant(shape), fc.constant(sizes), fc.integer({ min: -shape.length, max: shape.length - 1 })));
    fc.assert(
      fc.property(arb, DTYPE_ARB, ([shape, sizes, axis], dtype) => {
        const a = axis < 0 ? axis + shape.length : axis;
        const pieces = sizes.map((s, i) => filled(shape.map((d, j) => (j === a ? s : d)), dtype, i + 1));
        const joined = st.concat(pieces, axis);
        const back = st.split(joined, sizes, axis);
        expect(back.length).toBe(pieces.length);
        back.forEach((p, i) => expectSame(p, pieces[i]!));
      }),
      { numRuns: 150 },
    );
  });

  it("stack then unstack gives back the pieces", () => {
    const arb = fc
      .tuple(shapeArb(3, 3), fc.integer({ min: 1, max: 4 }))
      .chain(([shape, n]) => fc.tuple(fc.constant(shape), fc.constant(n), fc.integer({ min: -shape.length - 1, max: shape.length })));
    fc.assert(
      fc.property(arb, DTYPE_ARB, ([shape, n, axis], dtype) => {
        const pieces = Array.from({ length: n }, (_, i) => filled(shape, dtype, i + 3));
        const stacked = st.stack(pieces, axis);
        const back = st.unstack(stacked, axis);
        expect(back.length).toBe(n);
        back.forEach((p, i) => expectSame(p, pieces[i]!));
      }),
      { numRuns: 150 },
    );
  });
});
