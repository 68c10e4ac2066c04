/** NDArray and tensor <-> NDArray conversion: properties (fast-check), NumPy astype fixtures, errors. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add, cast, type DType, DTYPES, DTypeError, IndexError, NDArray, neg, ShapeError, type Tensor, tensor, ValueError } from "../../src/index.js";
import { asarray } from "../../src/trace/asarray.js";
import { expectArrayClose, type FixtureCase, loadFixtures } from "../helpers/fixtures.js";

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

function expectError(f: () => unknown, cls: abstract new (...args: never[]) => Error, code: string): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(cls);
  expect((e as { code: string }).code).toBe(code);
}

const ARRAY_CLASS: Record<DType, new (n: number) => NDArray["data"]> = {
  bool: Uint8Array,
  uint8: Uint8Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** Bitwise equality of two arrays' contents (NaN equals NaN, -0 differs from 0). */
function sameBits(a: NDArray, b: NDArray): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });

function valueArb(dtype: DType): fc.Arbitrary<number> {
  switch (dtype) {
    case "bool":
      return fc.integer({ min: 0, max: 1 });
    case "uint8":
      return fc.integer({ min: 0, max: 255 });
    case "int32":
      return fc.integer({ min: -2147483648, max: 2147483647 });
    case "float32":
      return fc.float();
    case "float64":
      return fc.double();
  }
}

/** A random NDArray of a random dtype and shape, NaN, infinities and -0 included for floats. */
const ndarrayArb: fc.Arbitrary<NDArray> = fc
  .tuple(fc.constantFrom<DType>(...DTYPES), shapeArb)
  .chain(([dtype, shape]) => {
    const n = shape.reduce((x, y) => x * y, 1);
    return fc.array(valueArb(dtype), { minLength: n, maxLength: n }).map((values) => {
      const data = new ARRAY_CLASS[dtype](n);
      for (let i = 0; i < n; i++) data[i] = values[i]!;
      return new NDArray(data, shape, dtype);
    });
  });

describe("tensor <-> NDArray properties", () => {
  it("tensor(t.numpy()) equals t: dtype, shape and values, bit for bit", () => {
    fc.assert(
      fc.property(ndarrayArb, (a) => {
        const t = tensor(a);
        const back = tensor(t.numpy());
        expect(back.dtype).toBe(a.dtype);
        expect([...back.shape]).toEqual([...a.shape]);
        expect(sameBits(back.numpy(), a)).toBe(true);
      }),
    );
  });

  it("numpy() keeps the dtype exactly, with the typed array that stores it (bool is a Uint8Array of 0/1)", () => {
    fc.assert(
      fc.property(ndarrayArb, (a) => {
        const n = tensor(a).numpy();
        expect(n.dtype).toBe(a.dtype);
        expect(n.data).toBeInstanceOf(ARRAY_CLASS[a.dtype]);
        expect(n.data.constructor).toBe(ARRAY_CLASS[a.dtype]);
        if (a.dtype === "bool") expect([...n.data].every((v) => v === 0 || v === 1)).toBe(true);
      }),
    );
  });

  it("mutating an NDArray from numpy() (data or set) never changes the tensor", () => {
    fc.assert(
      fc.property(ndarrayArb.filter((a) => a.size > 0), fc.nat(), (a, k) => {
        const t = tensor(a);
        const n = t.numpy();
        const index = a.shape.map((d, i) => (k >> i) % d);
        n.data[k % n.size] = n.data[k % n.size] === 1 ? 0 : 1;
        n.set(n.get(...index) === 1 || n.get(...index) === true ? 0 : 1, ...index);
        n.data.fill(0);
        expect(sameBits(t.numpy(), a)).toBe(true);
      }),
    );
  });

  it("ops on a tensor, and disposing it, never change an NDArray taken earlier", () => {
    fc.assert(
      fc.property(ndarrayArb.filter((a) => a.dtype !== "bool"), (a) => {
        const t = tensor(a);
        const n = t.numpy();
        const before = n.copy();
        neg(t);
        add(t, t);
        t.dispose();
        expect(sameBits(n, before)).toBe(true);
        expect(sameBits(n, a)).toBe(true);
      }),
    );
  });

  it("numpy() returns a fresh array each call", () => {
    const t = tensor([1, 2, 3]);
    expect(t.numpy()).not.toBe(t.numpy());
    expect(t.numpy().data.buffer).not.toBe(t.numpy().data.buffer);
  });
});

describe("asarray", () => {
  it("always copies: Tensor, NDArray and TypedArray sources", () => {
    fc.assert(
      fc.property(ndarrayArb, (a) => {
        const fromNd = asarray(a);
        expect(fromNd).not.toBe(a);
        expect(sameBits(fromNd, a)).toBe(true);
        fromNd.data.fill(1);
        const t = tensor(a);
        const fromT = asarray(t);
        expect(sameBits(fromT, a)).toBe(true);
        fromT.data.fill(1);
        expect(sameBits(t.numpy(), a)).toBe(true);
      }),
    );
    const src = new Int32Array([1, 2, 3]);
    const b = asarray(src);
    src[0] = 9;
    expect(b.dtype).toBe("int32");
    expect([...b.data]).toEqual([1, 2, 3]);
    expect(b.data).not.toBe(src);
  });
  it("reads nested JS values like tensor(): numbers are float32, booleans bool, 0-d from a scalar", () => {
    const a = asarray([[1, 2, 3], [4, 5, 6]]);
    expect(a.dtype).toBe("float32");
    expect([...a.shape]).toEqual([2, 3]);
    expect(a.tolist()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(asarray([true, false]).dtype).toBe("bool");
    const s = asarray(2.5);
    expect([...s.shape]).toEqual([]);
    expect(s.item()).toBe(2.5);
    expect(asarray([]).shape).toEqual([0]);
  });
  it("converts to a requested dtype with the cast rules", () => {
    expect(asarray(tensor([1.9, -1.9, Number.NaN]), "int32").tolist()).toEqual([1, -1, 0]);
    expect(asarray(new Float64Array([300, -5]), "uint8").tolist()).toEqual([255, 0]);
    expect(asarray(new Int32Array([300, -1]), "uint8").tolist()).toEqual([44, 255]);
    expect(asarray([0, 2, -1], "bool").tolist()).toEqual([false, true, true]);
    expect(asarray([1.5, 2], "i32" as DType).dtype).toBe("int32");
    const t = tensor([1, 2], { dtype: "int32" });
    expect(asarray(t, "int32").data).not.toBe(asarray(t, "int32").data);
  });
  it("rejects bad input with typed errors", () => {
    expectError(() => asarray([1, 2], "int64" as DType), DTypeError, "ST402");
    expectError(() => asarray([[1, 2], [3]]), ValueError, "ST405");
    expectError(() => asarray(["a"] as unknown as number[]), ValueError, "ST405");
    expectError(() => asarray({} as unknown as number), ValueError, "ST405");
    expectError(() => asarray(new BigInt64Array(2) as unknown as Int32Array), DTypeError, "ST402");
    // Narrow integer arrays are widened losslessly, exactly as tensor() does.
    expect(asarray(new Int16Array([-3, 7]) as unknown as Int32Array).dtype).toBe("int32");
    expectError(() => asarray([256], "uint8"), ValueError, "ST404");
    expectError(() => asarray([Number.NaN], "int32"), ValueError, "ST404");
  });
});

describe("NDArray basics", () => {
  const a = new NDArray(new Float32Array([0, 1, 2, 3, 4, 5]), [2, 3]);

  it("describes itself as NumPy does: size, ndim, itemsize, nbytes, byte strides", () => {
    expect(a.size).toBe(6);
    expect(a.ndim).toBe(2);
    expect(a.itemsize).toBe(4);
    expect(a.nbytes).toBe(24);
    expect([...a.strides]).toEqual([12, 4]);
    expect([...new NDArray(new Float64Array(24), [2, 3, 4]).strides]).toEqual([96, 32, 8]);
    expect([...new NDArray(new Uint8Array(1), [], "bool").strides]).toEqual([]);
  });

  it("get, set and item with negative indices", () => {
    const b = a.copy();
    expect(b.get(1, 2)).toBe(5);
    expect(b.get(-1, -1)).toBe(5);
    expect(b.get(-2, 0)).toBe(0);
    b.set(7.5, -1, 0);
    expect(b.get(1, 0)).toBe(7.5);
    expect(b.item(1, 0)).toBe(7.5);
    expect(a.get(1, 0)).toBe(3);
    const bools = new NDArray(new Uint8Array([1, 0]), [2], "bool");
    expect(bools.get(0)).toBe(true);
    expect(bools.get(-1)).toBe(false);
    bools.set(5, 1);
    expect(bools.data[1]).toBe(1);
    bools.set(false, 0);
    expect(bools.item(0)).toBe(false);
  });

  it("set converts with the astype rules", () => {
    const i = new NDArray(new Int32Array(4), [4]);
    i.set(2.9, 0);
    i.set(-2.9, 1);
    i.set(Number.NaN, 2);
    i.set(1e12, 3);
    expect(i.tolist()).toEqual([2, -2, 0, 2147483647]);
    const u = new NDArray(new Uint8Array(3), [3]);
    u.set(-3, 0);
    u.set(300, 1);
    u.set(true, 2);
    expect(u.tolist()).toEqual([0, 255, 1]);
    const f = new NDArray(new Float32Array(1), [1]);
    f.set(0.1, 0);
    expect(f.get(0)).toBe(Math.fround(0.1));
  });

  it("out-of-range and malformed indices throw IndexError (ST406) or ValueError (ST404)", () => {
    expectError(() => a.get(2, 0), IndexError, "ST406");
    expectError(() => a.get(0, -4), IndexError, "ST406");
    expectError(() => a.get(0), IndexError, "ST406");
    expectError(() => a.get(0, 0, 0), IndexError, "ST406");
    expectError(() => a.set(1, 0, 3), IndexError, "ST406");
    expectError(() => a.item(5, 5), IndexError, "ST406");
    expectError(() => a.get(0.5, 0), ValueError, "ST404");
    expectError(() => a.get(Number.NaN, 0), ValueError, "ST404");
    expectError(() => a.set("1" as unknown as number, 0, 0), ValueError, "ST404");
    expect((thrown(() => a.get(0, 3)) as Error).message).toContain("index 3 is out of bounds for axis 1 with size 3");
  });

  it("item() needs exactly one element", () => {
    expect(new NDArray(new Int32Array([7]), [1, 1]).item()).toBe(7);
    expect(new NDArray(new Uint8Array([1]), [], "bool").item()).toBe(true);
    expectError(() => a.item(), ValueError, "ST404");
    expectError(() => new NDArray(new Float32Array(0), [0]).item(), ValueError, "ST404");
  });

  it("tolist gives nested JS values; 0-d gives a scalar, bool gives booleans", () => {
    expect(a.tolist()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(new NDArray(new Float64Array([2.5]), []).tolist()).toBe(2.5);
    expect(new NDArray(new Uint8Array([1, 0]), [2, 1], "bool").tolist()).toEqual([[true], [false]]);
    expect(new NDArray(new Int32Array(0), [2, 0]).tolist()).toEqual([[], []]);
    expect(new NDArray(new Int32Array(0), [0, 2]).tolist()).toEqual([]);
  });

  it("reshape copies, infers one -1, and rejects bad shapes", () => {
    const r = a.reshape(3, -1);
    expect([...r.shape]).toEqual([3, 2]);
    expect(r.data).not.toBe(a.data);
    expect([...a.reshape([6]).shape]).toEqual([6]);
    expect([...new NDArray(new Float32Array([1]), [1, 1]).reshape().shape]).toEqual([]);
    expect([...new NDArray(new Float32Array(0), [0, 3]).reshape(3, 0, 5).shape]).toEqual([3, 0, 5]);
    r.data[0] = 42;
    expect(a.data[0]).toBe(0);
    expectError(() => a.reshape(4, -1), ShapeError, "ST401");
    expectError(() => a.reshape(5), ShapeError, "ST401");
    expectError(() => a.reshape(-1, -1), ValueError, "ST404");
    expectError(() => a.reshape(2.5, 2), ValueError, "ST404");
    expectError(() => new NDArray(new Float32Array(0), [0, 3]).reshape(0, -1), ShapeError, "ST401");
  });

  it("the constructor checks the data against dtype and shape", () => {
    expectError(() => new NDArray(new Float32Array(3), [2, 2]), ShapeError, "ST401");
    expectError(() => new NDArray(new Float32Array(3), [3], "float64"), DTypeError, "ST402");
    expectError(() => new NDArray(new Float32Array(3), [-3]), ValueError, "ST404");
    expectError(() => new NDArray(new Int16Array(3) as unknown as Int32Array, [3]), DTypeError, "ST402");
    expect(new NDArray(new Uint8Array(2), [2], "bool").dtype).toBe("bool");
  });
});

describe("astype", () => {
  const cases = loadFixtures("interop").filter((c) => c.op === "astype") as (FixtureCase & { dtype: DType })[];
  it("has fixtures for every pair of dtypes", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });
  for (const c of cases) {
    it(`matches NumPy: ${c.name}`, () => {
      const out = (c.args[0] as NDArray).astype(c.dtype);
      expectArrayClose(out, c.expected as NDArray, {}, c.name);
      // Bit-exact, including -0.0 through float casts.
      expect(sameBits(out, c.expected as NDArray)).toBe(true);
    });
  }

  it("float -> int truncates toward zero, saturates, and maps NaN to 0 (where NumPy is undefined)", () => {
    const f = new NDArray(new Float64Array([Number.NaN, Infinity, -Infinity, 3e9, -3e9, 255.9, 256, -0.9, -1]), [9]);
    expect(f.astype("int32").tolist()).toEqual([0, 2147483647, -2147483648, 2147483647, -2147483648, 255, 256, 0, -1]);
    expect(f.astype("uint8").tolist()).toEqual([0, 255, 0, 255, 0, 255, 255, 0, 0]);
    expect(f.astype("bool").tolist()).toEqual([true, true, true, true, true, true, true, true, true]);
  });

  it("int -> int wraps; -> bool is != 0; same dtype still copies", () => {
    const i = new NDArray(new Int32Array([256, 257, -1, -256, 0]), [5]);
    expect(i.astype("uint8").tolist()).toEqual([0, 1, 255, 0, 0]);
    expect(i.astype("bool").tolist()).toEqual([true, true, true, true, false]);
    const same = i.astype("int32");
    expect(same.data).not.toBe(i.data);
    expect(same.tolist()).toEqual(i.tolist());
  });

  it("keeps the shape, accepts short names, rejects unknown dtypes", () => {
    const a = new NDArray(new Float32Array(6), [2, 3]);
    expect([...a.astype("f64" as DType).shape]).toEqual([2, 3]);
    expect(a.astype("u8" as DType).dtype).toBe("uint8");
    expectError(() => a.astype("int64" as DType), DTypeError, "ST402");
  });

  it("agrees with the cast op and with tensor(a, { dtype }) for every dtype pair (property)", () => {
    fc.assert(
      fc.property(ndarrayArb, fc.constantFrom<DType>(...DTYPES), (a, to) => {
        const viaNd = a.astype(to);
        const viaCast: Tensor = cast(a, to);
        expect(sameBits(viaNd, viaCast.numpy())).toBe(true);
        expect(sameBits(viaNd, tensor(a, { dtype: to }).numpy())).toBe(true);
      }),
    );
  });
});
