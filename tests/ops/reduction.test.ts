import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getOp } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";
import { bind1 } from "../../src/trace/dispatch.js";
import {
  argmax,
  argmin,
  cumprod,
  cumsum,
  DTypeError,
  logSumExp,
  NDArray,
  reduceAll,
  reduceAny,
  reduceMax,
  reduceMean,
  reduceMin,
  reduceProd,
  reduceSum,
  SymtensorError,
  type Tensor,
  type TensorLike,
  tensor,
  ValueError,
} from "../../src/index.js";
import { expectArrayClose, type FixtureValue, loadFixtures } from "../helpers/fixtures.js";
import { expectTracedMatchesEager } from "../helpers/traced.js";

type Kwargs = Record<string, FixtureValue>;
type Fn = (x: TensorLike, kw: Kwargs) => Tensor;
type AxisArg = number | number[] | null;

const axisOf = (kw: Kwargs): AxisArg => kw["axis"] as AxisArg;
const single = (kw: Kwargs): number | null => kw["axis"] as number | null;
const keep = (kw: Kwargs): boolean => kw["keepDims"] === true;

const reducer = (f: (x: TensorLike, axis?: AxisArg, keepDims?: boolean) => Tensor): Fn => (x, kw) => f(x, axisOf(kw), keep(kw));
const arg = (f: (x: TensorLike, axis?: number | null, keepDims?: boolean) => Tensor): Fn => (x, kw) => f(x, single(kw), keep(kw));
const scan = (f: typeof cumsum): Fn => (x, kw) => f(x, single(kw), { exclusive: kw["exclusive"] === true, reverse: kw["reverse"] === true });

const OPS: Record<string, Fn> = {
  reduceSum: reducer(reduceSum),
  reduceProd: reducer(reduceProd),
  reduceMean: reducer(reduceMean),
  reduceMax: reducer(reduceMax),
  reduceMin: reducer(reduceMin),
  reduceAny: reducer(reduceAny),
  reduceAll: reducer(reduceAll),
  logSumExp: reducer(logSumExp),
  argmax: arg(argmax),
  argmin: arg(argmin),
  cumsum: scan(cumsum),
  cumprod: scan(cumprod),
};

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Asserts that `f` throws an error of `cls` with `code` and a message mentioning `text`. */
function expectError(f: () => unknown, cls: abstract new (...a: never[]) => SymtensorError, code: string, text?: string): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(cls);
  expect((e as SymtensorError).code).toBe(code);
  if (text !== undefined) expect((e as SymtensorError).message).toContain(text);
}

describe("reductions and scans against NumPy fixtures", () => {
  const cases = loadFixtures("reduction");
  const byOp = new Map<string, typeof cases>();
  for (const c of cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);

  it("covers every op", () => {
    expect([...byOp.keys()].sort()).toEqual(Object.keys(OPS).sort());
  });

  for (const [op, list] of byOp) {
    it(`${op} (${list.length} cases)`, () => {
      const fn = OPS[op]!;
      for (const c of list) {
        const x = c.args[0] as NDArray;
        if (c.error !== null) {
          expect(c.error, c.name).toBe("ValueError");
          expectError(() => fn(x, c.kwargs), ValueError, "ST404", op);
          continue;
        }
        expectArrayClose(fn(x, c.kwargs), c.expected as NDArray, { rtol: c.rtol, atol: c.atol }, c.name);
        expectTracedMatchesEager(c.name, (args) => fn(args[0] as NDArray, c.kwargs), c.args);
      }
    });
  }
});

describe("reduction dtype rules", () => {
  const of = (dtype: "bool" | "uint8" | "int32" | "float32" | "float64") => tensor([[1, 0], [1, 1]], { dtype });
  it.each([
    ["bool", "int32", "float32", "bool", "bool", "float32", "int32"],
    ["uint8", "int32", "float32", "uint8", "bool", "float32", "int32"],
    ["int32", "int32", "float32", "int32", "bool", "float32", "int32"],
    ["float32", "float32", "float32", "float32", "bool", "float32", "float32"],
    ["float64", "float64", "float64", "float64", "bool", "float64", "float64"],
  ] as const)("%s: sum/prod %s, mean %s, max/min %s, any/all %s, logSumExp %s, cumsum %s", (d, sum, mean, max, any, lse, cs) => {
    const x = of(d);
    expect(reduceSum(x).dtype).toBe(sum);
    expect(reduceProd(x, 0).dtype).toBe(sum);
    expect(reduceMean(x).dtype).toBe(mean);
    expect(reduceMax(x, 1).dtype).toBe(max);
    expect(reduceMin(x).dtype).toBe(max);
    expect(reduceAny(x).dtype).toBe(any);
    expect(reduceAll(x, -1).dtype).toBe(any);
    expect(logSumExp(x).dtype).toBe(lse);
    expect(cumsum(x).dtype).toBe(cs);
    expect(cumprod(x, 0).dtype).toBe(cs);
    expect(argmax(x).dtype).toBe("int32");
    expect(argmin(x, 1).dtype).toBe("int32");
  });

  it("accepts JS numbers, nested arrays, TypedArrays and NDArrays", () => {
    expect(reduceSum(3).item()).toBe(3);
    expect(reduceSum([[1, 2], [3, 4]], 0).tolist()).toEqual([4, 6]);
    expect(reduceMax(new Int32Array([3, 9, 2])).item()).toBe(9);
    expect(argmin(new NDArray(new Float64Array([3, -1, 2]), [3])).item()).toBe(1);
    expect(reduceAny([false, true]).item()).toBe(true);
  });

  it("flattens for argmax and scans without an axis, and treats rank 0 as shape [1]", () => {
    const x = tensor([[3, 9], [9, 1]]);
    expect(argmax(x).item()).toBe(1);
    expect(argmax(x, undefined, true).shape).toEqual([1, 1]);
    expect(cumsum(x).tolist()).toEqual([3, 12, 21, 22]);
    expect(argmax(5, -1).shape).toEqual([]);
    expect(cumprod(5, 0).tolist()).toEqual([5]);
  });

  it("supports exclusive and reverse scans", () => {
    expect(cumsum([1, 2, 3], 0, { exclusive: true }).tolist()).toEqual([0, 1, 3]);
    expect(cumsum([1, 2, 3], 0, { reverse: true }).tolist()).toEqual([6, 5, 3]);
    expect(cumprod([2, 3, 4], 0, { exclusive: true, reverse: true }).tolist()).toEqual([12, 4, 1]);
  });
});

describe("reduction errors", () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);

  it("rejects bad axes with ValueError ST404", () => {
    expectError(() => reduceSum(x, 2), ValueError, "ST404", "out of range");
    expectError(() => reduceMean(x, -3), ValueError, "ST404", "reduceMean");
    expectError(() => reduceMax(x, [0, 0]), ValueError, "ST404", "repeated axis");
    expectError(() => reduceMin(x, [1, -1]), ValueError, "ST404", "repeated axis");
    expectError(() => reduceProd(x, 0.5), ValueError, "ST404", "integer");
    expectError(() => reduceAny(x, "0" as never), ValueError, "ST404");
    expectError(() => reduceSum(3, 0), ValueError, "ST404", "rank 0");
    expectError(() => argmax(x, 2), ValueError, "ST404", "argmax");
    expectError(() => argmin(x, [0] as never), ValueError, "ST404");
    expectError(() => argmax(5, 1), ValueError, "ST404");
    expectError(() => cumsum(x, -3), ValueError, "ST404", "cumsum");
    expectError(() => cumprod(x, 1.5), ValueError, "ST404");
  });

  it("rejects non-boolean flags", () => {
    expectError(() => reduceSum(x, 0, "yes" as never), ValueError, "ST404", "keepDims");
    expectError(() => argmax(x, 0, 1 as never), ValueError, "ST404", "keepDims");
    expectError(() => cumsum(x, 0, { exclusive: 1 as never }), ValueError, "ST404", "exclusive");
    expectError(() => cumsum(x, 0, null as never), ValueError, "ST404", "options");
  });

  it("rejects max/min/argmax/argmin over an empty axis, naming the op", () => {
    const e = tensor([[], []]);
    expect(e.shape).toEqual([2, 0]);
    expectError(() => reduceMax(e), ValueError, "ST404", "reduceMax");
    expectError(() => reduceMin(e, 1), ValueError, "ST404", "length 0");
    expectError(() => argmax(e), ValueError, "ST404", "argmax");
    expectError(() => argmin(e, -1), ValueError, "ST404", "argmin");
    // Reducing only the non-empty axis is fine: the result is empty.
    expect(reduceMax(e, 0).shape).toEqual([0]);
    expect(argmax(e, 0).shape).toEqual([0]);
  });

  it("never lets a JS TypeError escape on bad operands", () => {
    for (const bad of ["abc", {}, undefined, [[1, 2], [3]]]) {
      expect(thrown(() => reduceSum(bad as never))).toBeInstanceOf(SymtensorError);
      expect(thrown(() => argmax(bad as never))).toBeInstanceOf(SymtensorError);
      expect(thrown(() => cumsum(bad as never))).toBeInstanceOf(SymtensorError);
    }
  });

  describe("op rules validate attributes parsed from IR text", () => {
    const t: TensorType = { dtype: "float32", shape: [2, 3, 4] };
    const infer = (op: string, attrs: Record<string, unknown>, inputs: TensorType[] = [t]) => () => getOp(op).infer(inputs, attrs as never);

    it("checks reduction axes and keepDims", () => {
      expect(getOp("reduceSum").infer([t], { axes: [0, 2], keepDims: true })).toEqual([{ dtype: "float32", shape: [1, 3, 1] }]);
      expect(getOp("reduceSum").infer([t], { axes: [1] })).toEqual([{ dtype: "float32", shape: [2, 4] }]);
      expectError(infer("reduceSum", { axes: [2, 0], keepDims: false }), ValueError, "ST404", "increasing");
      expectError(infer("reduceSum", { axes: [1, 1], keepDims: false }), ValueError, "ST404", "increasing");
      expectError(infer("reduceMax", { axes: [-1], keepDims: false }), ValueError, "ST404", "out of range");
      expectError(infer("reduceMax", { axes: [3], keepDims: false }), ValueError, "ST404", "out of range");
      expectError(infer("reduceMean", { axes: 1, keepDims: false }), ValueError, "ST404", "list of integers");
      expectError(infer("reduceMean", { axes: [0.5], keepDims: false }), ValueError, "ST404", "list of integers");
      expectError(infer("reduceAll", { keepDims: false }), ValueError, "ST404", "axes");
      expectError(infer("logSumExp", { axes: [0], keepDims: "no" }), ValueError, "ST404", "keepDims");
      expectError(infer("reduceSum", { axes: [0] }, [t, t]), ValueError, "ST404", "1 operand");
      expectError(infer("reduceSum", { axes: [0] }, [{ dtype: "float16" as never, shape: [2] }]), DTypeError, "ST402", "reduceSum");
    });

    it("checks argmax and scan axes", () => {
      expect(getOp("argmax").infer([t], { axis: null, keepDims: true })).toEqual([{ dtype: "int32", shape: [1, 1, 1] }]);
      expect(getOp("cumsum").infer([t], { axis: null })).toEqual([{ dtype: "float32", shape: [24] }]);
      expect(getOp("cumprod").infer([{ dtype: "uint8", shape: [2, 3] }], { axis: 1 })).toEqual([{ dtype: "int32", shape: [2, 3] }]);
      expectError(infer("argmax", { axis: -1, keepDims: false }), ValueError, "ST404", "axis");
      expectError(infer("argmin", { axis: 3 }), ValueError, "ST404", "axis");
      expectError(infer("argmin", { axis: [1] }), ValueError, "ST404", "axis");
      expectError(infer("cumsum", { axis: 1.5 }), ValueError, "ST404", "axis");
      expectError(infer("cumsum", { axis: 0, reverse: 1 }), ValueError, "ST404", "reverse");
      expectError(infer("argmax", { axis: 1 }, [{ dtype: "float32", shape: [2, 0] }]), ValueError, "ST404", "length 0");
      expectError(infer("argmax", { axis: null }, [{ dtype: "float32", shape: [0] }]), ValueError, "ST404", "no elements");
    });

    it("bind1 runs the same validation", () => {
      expectError(() => bind1("reduceSum", [tensor([1, 2])], { axes: [1], keepDims: false }), ValueError, "ST404");
    });
  });
});

// ---- properties ----------------------------------------------------------------------------------

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const f64Arb = (shape: number[], nan = false) =>
  fc.array(nan ? fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(NaN)) : fc.double({ min: -1e6, max: 1e6, noNaN: true }), {
    minLength: sizeOf(shape),
    maxLength: sizeOf(shape),
  }).map((v) => new NDArray(Float64Array.from(v), shape, "float64"));
const i32Arb = (shape: number[]) =>
  fc.array(fc.integer(), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((v) => new NDArray(Int32Array.from(v), shape, "int32"));
/** A shape with a random subset of its axes (each given as a positive or negative index). */
const withAxes = shapeArb.chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    fc.subarray(shape.map((_, i) => i)).chain((axes) => fc.tuple(...axes.map((a) => fc.constantFrom(a, a - shape.length)))),
  ),
);

/** For every element of `shape`, the flat index of its cell in the keepDims-reduced output. */
function outIndexMap(shape: readonly number[], axes: readonly number[]): Int32Array {
  const n = sizeOf(shape);
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const map = new Int32Array(n);
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let o = 0;
    let ostride = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
      if (!axes.includes(d)) o += c * ostride;
      ostride *= outShape[d]!;
    }
    map[flat] = o;
  }
  return map;
}

const norm = (axes: readonly number[], rank: number) => axes.map((a) => (a < 0 ? a + rank : a));

describe("reduction properties", () => {
  it("reduceSum over all axes equals reduceSum over axis 0 then the rest", () => {
    const nonScalar = shapeArb.filter((s) => s.length > 0);
    fc.assert(
      fc.property(nonScalar.chain(i32Arb), (x) => {
        expect(reduceSum(reduceSum(x, 0)).item()).toBe(reduceSum(x).item());
      }),
    );
    fc.assert(
      fc.property(nonScalar.chain((s) => f64Arb(s)), (x) => {
        const a = reduceSum(reduceSum(x, 0)).item() as number;
        const b = reduceSum(x).item() as number;
        expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * (1 + sizeOf(x.shape) * 1e6));
      }),
    );
  });

  it("keepDims keeps the rank with 1s on the reduced axes", () => {
    fc.assert(
      fc.property(withAxes, ([shape, axes]) => {
        const x = new NDArray(new Float32Array(sizeOf(shape)), shape, "float32");
        const expected = shape.map((d, i) => (norm(axes, shape.length).includes(i) ? 1 : d));
        for (const f of [reduceSum, reduceMean, reduceAny, logSumExp, reduceProd]) expect(f(x, axes, true).shape).toEqual(expected);
        const dropped = shape.filter((_, i) => !norm(axes, shape.length).includes(i));
        expect(reduceAll(x, axes).shape).toEqual(dropped);
      }),
    );
  });

  it("reduceMax is >= every element and equal to one of them", () => {
    fc.assert(
      fc.property(
        withAxes.chain(([shape, axes]) => fc.tuple(f64Arb(shape), fc.constant(axes))),
        ([x, axes]) => {
          const axesN = norm(axes, x.ndim);
          if (axesN.some((a) => x.shape[a] === 0)) return;
          const max = reduceMax(x, axes, true).numpy().data;
          const min = reduceMin(x, axes, true).numpy().data;
          const map = outIndexMap(x.shape, axesN);
          const hit = new Uint8Array(max.length);
          for (let i = 0; i < x.size; i++) {
            const v = x.data[i]!;
            const o = map[i]!;
            expect(v).toBeLessThanOrEqual(max[o]!);
            expect(v).toBeGreaterThanOrEqual(min[o]!);
            if (v === max[o]) hit[o] = 1;
          }
          expect(hit.every((h) => h === 1)).toBe(true);
        },
      ),
    );
  });

  it("argmax picks an index whose value equals reduceMax (NaN included)", () => {
    fc.assert(
      fc.property(
        shapeArb.filter((s) => s.length > 0).chain((shape) => fc.tuple(f64Arb(shape, true), fc.integer({ min: -shape.length, max: shape.length - 1 }))),
        ([x, axis]) => {
          const ax = axis < 0 ? axis + x.ndim : axis;
          if (x.shape[ax] === 0) return;
          const idx = argmax(x, axis, true).numpy().data;
          const max = reduceMax(x, axis, true).numpy().data;
          const imin = argmin(x, axis, true).numpy().data;
          const min = reduceMin(x, axis, true).numpy().data;
          const stride = sizeOf(x.shape.slice(ax + 1));
          const inner = stride;
          const n = x.shape[ax]!;
          for (let o = 0; o < idx.length; o++) {
            const base = Math.floor(o / inner) * n * inner + (o % inner);
            const at = (k: number) => x.data[base + k * stride]!;
            expect(Object.is(at(idx[o]!), max[o]!) || at(idx[o]!) === max[o]).toBe(true);
            expect(Object.is(at(imin[o]!), min[o]!) || at(imin[o]!) === min[o]).toBe(true);
            // The first occurrence: nothing earlier equals the extreme.
            for (let k = 0; k < idx[o]!; k++) expect(Object.is(at(k), max[o]!) || at(k) === max[o]).toBe(false);
          }
        },
      ),
    );
  });

  it("matches a plain JS reference on random shapes and axis subsets (strided-copy path included)", () => {
    fc.assert(
      fc.property(
        withAxes.chain(([shape, axes]) => fc.tuple(f64Arb(shape), fc.constant(axes))),
        ([x, axes]) => {
          const axesN = norm(axes, x.ndim);
          const map = outIndexMap(x.shape, axesN);
          const nOut = sizeOf(x.shape.map((d, i) => (axesN.includes(i) ? 1 : d)));
          const sum = new Float64Array(nOut);
          const any = new Uint8Array(nOut);
          for (let i = 0; i < x.size; i++) {
            sum[map[i]!]! += x.data[i]!;
            if (x.data[i] !== 0) any[map[i]!] = 1;
          }
          expectArrayClose(reduceSum(x, axes, true), new NDArray(sum, x.shape.map((d, i) => (axesN.includes(i) ? 1 : d)), "float64"), { rtol: 1e-9, atol: 1e-6 });
          expect([...reduceAny(x, axes, true).numpy().data]).toEqual([...any]);
        },
      ),
    );
  });

  it("cumsum's last entry along an axis equals reduceSum over it (int32, exact)", () => {
    fc.assert(
      fc.property(
        shapeArb.filter((s) => s.length > 0 && s.every((d) => d > 0)).chain((shape) => fc.tuple(i32Arb(shape), fc.nat({ max: shape.length - 1 }))),
        ([x, axis]) => {
          const n = x.shape[axis]!;
          const c = cumsum(x, axis).numpy();
          const s = reduceSum(x, axis).numpy();
          const inner = sizeOf(x.shape.slice(axis + 1));
          for (let o = 0; o < s.size; o++) {
            const base = Math.floor(o / inner) * n * inner + (o % inner);
            expect(c.data[base + (n - 1) * inner]).toBe(s.data[o]);
          }
        },
      ),
    );
  });
});
