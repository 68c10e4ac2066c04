import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { type DType, DTypeError, NDArray, type Tensor, type TensorLike } from "../../src/index.js";
import { expectArrayClose, type FixtureValue, loadFixtures } from "../helpers/fixtures.js";
import { expectTracedMatchesEager } from "../helpers/traced.js";

type Fn = (args: FixtureValue[], kwargs: Record<string, FixtureValue>) => Tensor;
const arg = (v: FixtureValue): TensorLike => v as TensorLike;

const unary = (f: (x: TensorLike) => Tensor): Fn => (a) => f(arg(a[0]!));
const binary = (f: (x: TensorLike, y: TensorLike) => Tensor): Fn => (a) => f(arg(a[0]!), arg(a[1]!));

const OPS: Record<string, Fn> = {
  gelu: (a) => st.gelu(arg(a[0]!)),
  geluTanh: (a) => st.gelu(arg(a[0]!), { approximate: "tanh" }),
  cast: (a, kw) => st.cast(arg(a[0]!), kw["dtype"] as unknown as DType),
  where: (a) => st.where(arg(a[0]!), arg(a[1]!), arg(a[2]!)),
  clip: (a) => st.clip(arg(a[0]!), arg(a[1]!), arg(a[2]!)),
};
for (const name of ["neg", "abs", "sign", "square", "relu", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf", "floor", "ceil", "round", "logicalNot", "isNaN", "isFinite"] as const) {
  OPS[name] = unary(st[name]);
}
for (const name of ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "mod", "floorDiv", "atan2", "equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual", "logicalAnd", "logicalOr", "logicalXor"] as const) {
  OPS[name] = binary(st[name]);
}

describe("elementwise ops against NumPy fixtures", () => {
  const cases = loadFixtures("elementwise");
  const byOp = new Map<string, typeof cases>();
  for (const c of cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);
  for (const [op, list] of byOp) {
    it(`${op} (${list.length} cases)`, () => {
      const fn = OPS[op];
      expect(fn, `no mapping for fixture op ${op}`).toBeDefined();
      for (const c of list) {
        const out = fn!(c.args, c.kwargs);
        expectArrayClose(out, c.expected as NDArray, { rtol: c.rtol, atol: c.atol }, c.name);
        expectTracedMatchesEager(c.name, (args) => fn!(args, c.kwargs), c.args);
      }
    });
  }
});

describe("elementwise dtype rules", () => {
  it("weak JS scalars keep the tensor dtype and refuse values out of its range", () => {
    expect(st.tensor([1, 2], { dtype: "uint8" }).add(3).dtype).toBe("uint8");
    expect(st.mul(st.tensor([1, 2], { dtype: "int32" }), 2).dtype).toBe("int32");
    const e = (() => {
      try {
        st.add(st.tensor([1], { dtype: "uint8" }), 300);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(DTypeError);
    expect((e as DTypeError).code).toBe("ST402");
  });
  it("strict dtypes turns implicit promotion into ST403", () => {
    st.setStrictDtypes(true);
    try {
      const a = st.tensor([1, 2], { dtype: "int32" });
      const b = st.tensor([1, 2]);
      expect(() => st.add(a, b)).toThrow(DTypeError);
      expect(() => st.add(a, b)).toThrow(/strict dtypes/);
      expect(() => st.mul(a, 2.5)).toThrow(/strict dtypes/);
      // Same dtypes, weak scalars that fit, and explicit casts stay legal.
      expect(st.add(st.cast(a, "float32"), b).dtype).toBe("float32");
      expect(st.mul(a, 3).dtype).toBe("int32");
      try {
        st.add(a, b);
      } catch (err) {
        expect((err as DTypeError).code).toBe("ST403");
      }
    } finally {
      st.setStrictDtypes(false);
    }
  });
  it("ops that only make sense on floats name the dtype when given bool", () => {
    expect(() => st.sub(st.tensor([true]), st.tensor([false]))).toThrow(DTypeError);
    expect(() => st.neg(st.tensor([true]))).toThrow(/neg: operand 0 is bool\[1\]/);
  });
  it("integer powers with negative exponents truncate (1, -1 stay; others give 0)", () => {
    const base = st.tensor([1, -1, -1, 2, 0], { dtype: "int32" });
    const e = st.tensor([-3, -3, -2, -1, 2], { dtype: "int32" });
    expect(st.pow(base, e).tolist()).toEqual([1, -1, 1, 0, 0]);
  });
  it("broadcasting failures are ShapeErrors naming both shapes", () => {
    expect(() => st.add(st.zeros([2, 3]), st.zeros([4]))).toThrow(/add: shapes \[2,3\] and \[4\] cannot be broadcast/);
    try {
      st.add(st.zeros([2, 3]), st.zeros([4]));
    } catch (err) {
      expect((err as st.ShapeError).code).toBe("ST401");
    }
  });
});

describe("broadcasting properties", () => {
  const dim = fc.integer({ min: 0, max: 3 });
  it("result shape follows NumPy's rule and is symmetric", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(dim, fc.boolean(), fc.boolean()), { maxLength: 4 }), fc.nat(2), (spec, cut) => {
        const a = spec.map(([d, one]) => (one ? 1 : d));
        const b = spec.slice(Math.min(cut, spec.length)).map(([d, , one]) => (one ? 1 : d));
        const x = st.zeros(a);
        const y = st.ones(b);
        const s1 = st.add(x, y).shape;
        const s2 = st.add(y, x).shape;
        expect(s1).toEqual(s2);
        const expected = spec.map(([d, oa, ob], i) => {
          const inB = i >= spec.length - b.length;
          if (!inB) return a[i]!;
          return oa && ob ? 1 : d;
        });
        expect(s1).toEqual(expected);
      }),
    );
  });
  it("x + 0 equals x and x * 1 equals x for any float32 values", () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noDefaultInfinity: false }), { minLength: 0, maxLength: 20 }), (values) => {
        const x = st.tensor(Float32Array.from(values));
        const a = st.add(x, 0).numpy().data;
        const m = st.mul(x, 1).numpy().data;
        for (let i = 0; i < values.length; i++) {
          const v = Math.fround(values[i]!);
          expect(Number.isNaN(v) ? Number.isNaN(a[i]!) : a[i] === v + 0).toBe(true);
          expect(Object.is(m[i], v) || (Number.isNaN(v) && Number.isNaN(m[i]!))).toBe(true);
        }
      }),
    );
  });
});
