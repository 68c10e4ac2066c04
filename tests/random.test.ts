import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as st from "../src/index.js";
import { type DType, DTypeError, NDArray, ShapeError, type SymtensorError, type Tensor, ValueError } from "../src/index.js";
import { getOp } from "../src/ir/registry.js";
import { threefry2x32 } from "../src/ir/threefry.js";
import { expectArrayClose, type FixtureValue, loadFixtures } from "./helpers/fixtures.js";
import { expectTracedMatchesEager } from "./helpers/traced.js";

type Fn = (args: FixtureValue[], kwargs: Record<string, FixtureValue>) => Tensor | NDArray;
const key = (v: FixtureValue): NDArray => v as NDArray;
const shape = (v: FixtureValue): number[] => v as number[];

/** splitKey's list of keys as one [n, 2] array, to compare with the fixture. */
function stackKeys(keys: readonly Tensor[]): NDArray {
  const data = new Int32Array(2 * keys.length);
  keys.forEach((k, i) => data.set(k.numpy().data, 2 * i));
  return new NDArray(data, [keys.length, 2], "int32");
}

const OPS: Record<string, Fn> = {
  threefry2x32: (a) => {
    const out = new Int32Array(2);
    threefry2x32(a[0] as number, a[1] as number, a[2] as number, a[3] as number, out, 0);
    return new NDArray(out, [2], "int32");
  },
  randomKey: (a) => st.randomKey(a[0] as number),
  splitKey: (a) => stackKeys(st.splitKey(key(a[0]!), a[1] as number)),
  randomBits: (a) => st.randomBits(key(a[0]!), shape(a[1]!)),
  randomUniform: (a, kw) => st.randomUniform(key(a[0]!), shape(a[1]!), kw as st.RandomUniformOptions),
  randomNormal: (a, kw) => st.randomNormal(key(a[0]!), shape(a[1]!), kw as st.RandomNormalOptions),
  randomBernoulli: (a) => st.randomBernoulli(key(a[0]!), a[1] as number, shape(a[2]!)),
  randomInt: (a, kw) => st.randomInt(key(a[0]!), shape(a[1]!), a[2] as number, a[3] as number, kw as st.RandomIntOptions),
};

/** Asserts that `f` throws an instance of `cls` with the given code (and message, if given). */
function expectError(f: () => unknown, cls: new (...args: never[]) => SymtensorError, code: string, message?: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected an error").toBeInstanceOf(cls);
  expect((caught as SymtensorError).code).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

const values = (t: Tensor): number[] => Array.from(t.numpy().data);
const keyWords = (t: Tensor): [number, number] => {
  const d = t.numpy().data;
  return [d[0]!, d[1]!];
};

describe("random ops against an independent Python implementation (fixtures)", () => {
  const cases = loadFixtures("random");
  const byOp = new Map<string, typeof cases>();
  for (const c of cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);
  for (const [op, list] of byOp) {
    it(`${op} (${list.length} cases)`, () => {
      const fn = OPS[op];
      expect(fn, `no mapping for fixture op ${op}`).toBeDefined();
      for (const c of list) {
        const out = fn!(c.args, c.kwargs);
        expectArrayClose(out, c.expected as NDArray, { rtol: c.rtol, atol: c.atol }, c.name);
        // Keys are tensor values, so random ops also run inside traced functions, bit for bit.
        if (op !== "threefry2x32" && op !== "splitKey") expectTracedMatchesEager(c.name, (args) => fn!(args, c.kwargs) as Tensor, c.args);
      }
    });
  }
});

/** Threefry-2x32-20 on BigInts, written from the paper independently of src/ir/threefry.ts. */
function threefryRef(k: [bigint, bigint], c: [bigint, bigint]): [number, number] {
  const M = 0xffffffffn;
  const R = [13n, 15n, 26n, 6n, 17n, 29n, 16n, 24n];
  const ks = [k[0], k[1], 0x1bd11bdan ^ k[0] ^ k[1]];
  let x0 = (c[0] + ks[0]!) & M;
  let x1 = (c[1] + ks[1]!) & M;
  for (let r = 0; r < 20; r++) {
    const rot = R[r % 8]!;
    x0 = (x0 + x1) & M;
    x1 = ((x1 << rot) | (x1 >> (32n - rot))) & M;
    x1 ^= x0;
    if (r % 4 === 3) {
      const s = BigInt((r + 1) / 4);
      x0 = (x0 + ks[Number(s % 3n)]!) & M;
      x1 = (x1 + ks[Number((s + 1n) % 3n)]! + s) & M;
    }
  }
  return [Number(x0), Number(x1)];
}

describe("threefry2x32", () => {
  const run = (k0: number, k1: number, c0: number, c1: number): [number, number] => {
    const out = new Uint32Array(2);
    threefry2x32(k0, k1, c0, c1, out, 0);
    return [out[0]!, out[1]!];
  };
  it("matches the Random123 known-answer vectors for threefry2x32_20", () => {
    expect(run(0, 0, 0, 0)).toEqual([0x6b200159, 0x99ba4efe]);
    expect(run(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)).toEqual([0x1cb996fc, 0xbb002be7]);
    expect(run(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)).toEqual([0xc4923a9c, 0x483df7a0]);
    // Signed and unsigned spellings of one word are the same input.
    expect(run(-1, -1, -1, -1)).toEqual([0x1cb996fc, 0xbb002be7]);
  });
  it("agrees with a BigInt reference on random keys and counters", () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(u32, u32, u32, u32, (k0, k1, c0, c1) => {
        expect(run(k0, k1, c0, c1)).toEqual(threefryRef([BigInt(k0), BigInt(k1)], [BigInt(c0), BigInt(c1)]));
      }),
      { numRuns: 200 },
    );
  });
});

describe("keys", () => {
  it("randomKey splits a seed into two 32-bit words, as JAX's PRNGKey", () => {
    const k = st.randomKey(2 ** 32 + 5);
    expect(k.dtype).toBe("int32");
    expect(k.shape).toEqual([2]);
    expect(values(k)).toEqual([1, 5]);
    expect(values(st.randomKey(0xffffffff))).toEqual([0, -1]);
    expect(values(st.randomKey(2 ** 53 - 1))).toEqual([0x1fffff, -1]);
  });
  it("splitKey gives n distinct keys, none equal to the parent, stable under a larger n", () => {
    const k = st.randomKey(0);
    const two = st.splitKey(k);
    expect(two).toHaveLength(2);
    const five = st.splitKey(k, 5);
    const seen = new Set([keyWords(k).join(",")]);
    for (const s of five) {
      expect(s.dtype).toBe("int32");
      expect(s.shape).toEqual([2]);
      seen.add(keyWords(s).join(","));
    }
    expect(seen.size).toBe(6);
    expect(keyWords(five[0]!)).toEqual(keyWords(two[0]!));
    expect(keyWords(five[1]!)).toEqual(keyWords(two[1]!));
    expect(st.splitKey(k, 0)).toEqual([]);
    expect(keyWords(st.splitKey(k, 1)[0]!)).toEqual(keyWords(two[0]!));
  });
  it("a split key never reproduces a block of its parent's stream", () => {
    const k = st.randomKey(99);
    const bits = values(st.randomBits(k, [20000]));
    const blocks = new Set<string>();
    for (let j = 0; j < bits.length; j += 2) blocks.add(`${bits[j]},${bits[j + 1]}`);
    for (const s of st.splitKey(k, 1000)) expect(blocks.has(keyWords(s).join(","))).toBe(false);
  });
  it("accepts a key as a JS array of int32 words", () => {
    expect(values(st.randomUniform([0, 42], [5]))).toEqual(values(st.randomUniform(st.randomKey(42), [5])));
    expect(keyWords(st.splitKey([0, 42])[1]!)).toEqual(keyWords(st.splitKey(st.randomKey(42))[1]!));
  });
});

describe("determinism", () => {
  const k = st.randomKey(1234);
  it("the same key gives the same numbers; different keys and splits give different ones", () => {
    expect(values(st.randomNormal(k, [100]))).toEqual(values(st.randomNormal(k, [100])));
    const others = [st.randomKey(1235), ...st.splitKey(k, 3)];
    const base = values(st.randomUniform(k, [100]));
    for (const o of others) {
      const v = values(st.randomUniform(o, [100]));
      const same = v.filter((x, i) => x === base[i]).length;
      expect(same).toBeLessThan(3);
    }
  });
  it("element i does not depend on the shape", () => {
    expect(values(st.randomUniform(k, [2, 5]))).toEqual(values(st.randomUniform(k, [10])));
    expect(values(st.randomNormal(k, [2, 5], { dtype: "float64" }))).toEqual(values(st.randomNormal(k, [10], { dtype: "float64" })));
    expect(values(st.randomInt(k, [3], 0, 10))).toEqual(values(st.randomInt(k, [3, 1], 0, 10)));
    expect(values(st.randomUniform(k, []))).toEqual(values(st.randomUniform(k, [1])));
  });
  it("property: a shorter draw is a prefix of a longer one, for every op", () => {
    const draws: ((key: Tensor, n: number) => Tensor)[] = [
      (key, n) => st.randomBits(key, [n]),
      (key, n) => st.randomUniform(key, [n]),
      (key, n) => st.randomUniform(key, [n], { dtype: "float64", minval: -2, maxval: 3 }),
      (key, n) => st.randomNormal(key, [n]),
      (key, n) => st.randomNormal(key, [n], { dtype: "float64" }),
      (key, n) => st.randomBernoulli(key, 0.4, [n]),
      (key, n) => st.randomInt(key, [n], -7, 1000),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.nat(draws.length - 1), (seed, a, b, which) => {
        const key = st.randomKey(seed);
        const [m, n] = a <= b ? [a, b] : [b, a];
        const draw = draws[which]!;
        expect(values(draw(key, n)).slice(0, m)).toEqual(values(draw(key, m)));
      }),
      { numRuns: 100 },
    );
  });
  it("randomUniform float32 is the top 23 bits of randomBits", () => {
    const bits = values(st.randomBits(k, [64]));
    expect(values(st.randomUniform(k, [64]))).toEqual(bits.map((b) => (b >>> 9) * 2 ** -23));
  });
});

describe("uniform values", () => {
  const k = st.randomKey(7);
  it("lie in [minval, maxval) with the requested dtype, 0-d and size-0 included", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const t = st.randomUniform(k, [4000], { dtype, minval: -2, maxval: 3 });
      expect(t.dtype).toBe(dtype);
      const v = values(t);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
      expect(Math.max(...v)).toBeLessThan(3);
    }
    expect(st.randomUniform(k).shape).toEqual([]);
    expect(st.randomUniform(k, [3, 0]).shape).toEqual([3, 0]);
    expect(st.randomNormal(k, [0]).size).toBe(0);
  });
  it("never round up to maxval", () => {
    // One float32 step wide: half of the draws would round to maxval without the clamp.
    const v = values(st.randomUniform(k, [1000], { minval: 1, maxval: 1 + 2 ** -23 }));
    expect(v.every((x) => x === 1)).toBe(true);
    const w = values(st.randomUniform(k, [1000], { dtype: "float64", minval: 1, maxval: 1 + 2 ** -52 }));
    expect(w.every((x) => x === 1)).toBe(true);
  });
  it("handle a float64 range wider than the largest float", () => {
    const v = values(st.randomUniform(k, [1000], { dtype: "float64", minval: -1.7e308, maxval: 1.7e308 }));
    expect(v.every((x) => Number.isFinite(x) && x >= -1.7e308 && x < 1.7e308)).toBe(true);
    expect(v.filter((x) => x < 0).length).toBeGreaterThan(400);
    expect(v.filter((x) => x > 0).length).toBeGreaterThan(400);
  });
  it("float32 carries 23 random bits, float64 more than 32 (52)", () => {
    const f32 = values(st.randomUniform(k, [2000]));
    expect(f32.every((x) => Number.isInteger(x * 2 ** 23))).toBe(true);
    expect(f32.some((x) => !Number.isInteger(x * 2 ** 22))).toBe(true);
    const f64 = values(st.randomUniform(k, [2000], { dtype: "float64" }));
    expect(f64.every((x) => Number.isInteger(x * 2 ** 52))).toBe(true);
    // Below 2^-32 the bits are still random: about half of the values have bit 52 set.
    const low = f64.filter((x) => (x * 2 ** 52) % 2 === 1).length;
    expect(low).toBeGreaterThan(900);
    expect(low).toBeLessThan(1100);
    expect(f64.filter((x) => !Number.isInteger(x * 2 ** 32)).length).toBeGreaterThan(1990);
  });
});

// ---- statistics (fixed seeds, so deterministic) ---------------------------------------------------

const N = 100_000;
/** Kolmogorov-Smirnov bound at significance 0.001: 1.95 / sqrt(n). */
const KS_BOUND = 1.95 / Math.sqrt(N);

function moments(v: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i]! - mean) ** 2;
  return { mean, variance: q / (v.length - 1) };
}

function ksStatistic(v: ArrayLike<number>, cdf: (x: number) => number): number {
  const sorted = Float64Array.from(v).sort();
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]!);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** erfc with fractional error below 1.2e-7 (Numerical Recipes' erfcc), for the normal CDF. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}
const normalCdf = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);

describe("statistics with fixed seeds", () => {
  it("uniform: mean, variance and Kolmogorov-Smirnov in both dtypes", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const v = st.randomUniform(st.randomKey(2024), [N], { dtype }).numpy().data;
      const { mean, variance } = moments(v);
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
      expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
      expect(ksStatistic(v, (x) => Math.min(1, Math.max(0, x)))).toBeLessThan(KS_BOUND);
    }
  });
  it("normal: mean, variance and Kolmogorov-Smirnov in both dtypes, with mean/stddev", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const v = st.randomNormal(st.randomKey(31337), [N], { dtype }).numpy().data;
      const { mean, variance } = moments(v);
      expect(Math.abs(mean)).toBeLessThan(0.015);
      expect(Math.abs(variance - 1)).toBeLessThan(0.02);
      expect(ksStatistic(v, normalCdf)).toBeLessThan(KS_BOUND);
      expect(v.every((x) => Number.isFinite(x))).toBe(true);
    }
    const w = st.randomNormal(st.randomKey(5), [N], { mean: 10, stddev: 3 }).numpy().data;
    const { mean, variance } = moments(w);
    expect(Math.abs(mean - 10)).toBeLessThan(0.05);
    expect(Math.abs(Math.sqrt(variance) - 3)).toBeLessThan(0.05);
    expect(ksStatistic(w, (x) => normalCdf((x - 10) / 3))).toBeLessThan(KS_BOUND);
  });
  it("neighbouring elements and split keys are uncorrelated", () => {
    const [a, b] = st.splitKey(st.randomKey(8));
    const x = st.randomNormal(a!, [N], { dtype: "float64" }).numpy().data;
    const y = st.randomNormal(b!, [N], { dtype: "float64" }).numpy().data;
    let sxy = 0;
    let lag = 0;
    for (let i = 0; i < N; i++) {
      sxy += x[i]! * y[i]!;
      if (i > 0) lag += x[i]! * x[i - 1]!;
    }
    // Both sums have standard deviation about sqrt(N); 5 sigma.
    expect(Math.abs(sxy / N)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(lag / N)).toBeLessThan(5 / Math.sqrt(N));
  });
  it("bernoulli frequency matches p", () => {
    for (const p of [0.1, 0.5, 0.9]) {
      const t = st.randomBernoulli(st.randomKey(3), p, [N]);
      expect(t.dtype).toBe("bool");
      const { mean } = moments(t.numpy().data);
      expect(Math.abs(mean - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    }
  });
  it("randomInt is uniform over its range (chi-square) and stays in bounds", () => {
    const t = st.randomInt(st.randomKey(11), [N], -3, 7);
    expect(t.dtype).toBe("int32");
    const counts = new Array<number>(10).fill(0);
    for (const x of t.numpy().data) counts[x + 3]!++;
    const e = N / 10;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(27.9); // df 9, p = 0.001
    const full = values(st.randomInt(st.randomKey(12), [1000], -(2 ** 31), 2 ** 31));
    expect(full.every((x) => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31)).toBe(true);
    expect(full.filter((x) => x < 0).length).toBeGreaterThan(400);
    const bytes = st.randomInt(st.randomKey(13), [1000], 0, 256, { dtype: "uint8" });
    expect(bytes.dtype).toBe("uint8");
    expect(new Set(values(bytes)).size).toBeGreaterThan(240);
  });
});

describe("errors", () => {
  const k = st.randomKey(0);
  it("randomKey refuses negative, fractional, non-finite and unsafe seeds", () => {
    for (const seed of [-1, 1.5, NaN, Infinity, 2 ** 53, "5" as unknown as number]) {
      expectError(() => st.randomKey(seed), ValueError, "ST404", /randomKey: seed/);
    }
  });
  it("keys must be int32[2]", () => {
    expectError(() => st.splitKey(st.tensor([0, 1])), DTypeError, "ST402", /randomSplit: key must be an int32\[2\] tensor.*f32\[2\]/);
    expectError(() => st.randomUniform(st.tensor([0, 1, 2], { dtype: "int32" }), [2]), ShapeError, "ST401", /randomUniform: key must have shape \[2\].*i32\[3\]/);
    expectError(() => st.randomNormal([[0, 1]], [2]), ShapeError, "ST401");
    expectError(() => st.randomBits(new Float64Array(2), [2]), DTypeError, "ST402");
  });
  it("splitKey needs a non-negative integer count", () => {
    expectError(() => st.splitKey(k, -1), ValueError, "ST404", /splitKey: n/);
    expectError(() => st.splitKey(k, 1.5), ValueError, "ST404");
  });
  it("shapes must be arrays of non-negative integers that one key can fill", () => {
    expectError(() => st.randomUniform(k, [-1]), ValueError, "ST404", /randomUniform: shape\[0\]/);
    expectError(() => st.randomNormal(k, [2.5]), ValueError, "ST404");
    expectError(() => st.randomBits(k, 3 as unknown as number[]), ValueError, "ST404");
    expectError(() => st.randomNormal(k, [2 ** 20, 2 ** 13]), ValueError, "ST404", /split the key/);
  });
  it("randomUniform and randomNormal take float dtypes and sensible parameters", () => {
    expectError(() => st.randomUniform(k, [2], { dtype: "int32" }), DTypeError, "ST402", /randomUniform: dtype int32 .*randomInt/);
    expectError(() => st.randomUniform(k, [2], { dtype: "float16" as DType }), DTypeError, "ST402");
    expectError(() => st.randomNormal(k, [2], { dtype: "bool" }), DTypeError, "ST402");
    expectError(() => st.randomUniform(k, [2], { minval: 1, maxval: 1 }), ValueError, "ST404", /minval must be less than maxval/);
    expectError(() => st.randomUniform(k, [2], { minval: 2, maxval: 1 }), ValueError, "ST404");
    // Distinct in float64 but one value in float32.
    expectError(() => st.randomUniform(k, [2], { minval: 1, maxval: 1 + 2 ** -30 }), ValueError, "ST404");
    expectError(() => st.randomUniform(k, [2], { maxval: Infinity }), ValueError, "ST404", /maxval must be a finite number/);
    expectError(() => st.randomUniform(k, [2], { minval: NaN }), ValueError, "ST404");
    expectError(() => st.randomUniform(k, [2], { minval: "0" as unknown as number }), ValueError, "ST404");
    expectError(() => st.randomNormal(k, [2], { stddev: -1 }), ValueError, "ST404", /stddev must be non-negative/);
    expectError(() => st.randomNormal(k, [2], { mean: NaN }), ValueError, "ST404");
  });
  it("randomBernoulli needs a probability", () => {
    for (const p of [-0.1, 1.5, NaN]) expectError(() => st.randomBernoulli(k, p, [2]), ValueError, "ST404", /randomBernoulli: p/);
  });
  it("randomInt needs integer bounds that fit the dtype, minval < maxval", () => {
    expectError(() => st.randomInt(k, [2], 5, 5), ValueError, "ST404", /minval must be less than maxval/);
    expectError(() => st.randomInt(k, [2], 0, 2.5), ValueError, "ST404", /maxval must be an integer/);
    expectError(() => st.randomInt(k, [2], -(2 ** 31) - 1, 0), ValueError, "ST404", /minval/);
    expectError(() => st.randomInt(k, [2], 0, 2 ** 31 + 1), ValueError, "ST404", /maxval/);
    expectError(() => st.randomInt(k, [2], 0, 257, { dtype: "uint8" }), ValueError, "ST404");
    expectError(() => st.randomInt(k, [2], -1, 5, { dtype: "uint8" }), ValueError, "ST404");
    expectError(() => st.randomInt(k, [2], 0, 5, { dtype: "float32" }), DTypeError, "ST402", /randomUniform/);
    expectError(() => st.randomInt(k, [2], undefined as unknown as number, 5), ValueError, "ST404");
  });
  it("the registry rules validate attributes as parsed IR would give them", () => {
    const keyType = { dtype: "int32" as const, shape: [2] };
    const uniform = getOp("randomUniform");
    expect(uniform.kind).toBe("creation");
    expect(uniform.infer([keyType], { shape: [2, 3], dtype: "float64", minval: 0, maxval: 1 })).toEqual([{ dtype: "float64", shape: [2, 3] }]);
    expectError(() => uniform.infer([keyType], { shape: [2], minval: 0, maxval: 1 }), DTypeError, "ST402");
    expectError(() => uniform.infer([keyType], { shape: [2], dtype: "float32", maxval: 1 }), ValueError, "ST404", /minval/);
    expectError(() => uniform.infer([keyType], { dtype: "float32", minval: 0, maxval: 1 }), ValueError, "ST404", /shape/);
    expectError(() => uniform.infer([keyType], { shape: [-2], dtype: "float32", minval: 0, maxval: 1 }), ValueError, "ST404");
    expectError(() => getOp("randomSplit").infer([keyType], {}), ValueError, "ST404", /randomSplit: n/);
    expectError(() => getOp("randomSplit").infer([keyType], { n: "2" }), ValueError, "ST404");
    expect(getOp("randomSplit").infer([keyType], { n: 3 })).toHaveLength(3);
    expectError(() => getOp("randomInt").infer([keyType], { shape: [1], dtype: "int32", minval: 0.5, maxval: 3 }), ValueError, "ST404");
    expectError(() => getOp("randomBernoulli").infer([{ dtype: "uint8", shape: [2] }], { shape: [1], p: 0.5 }), DTypeError, "ST402");
  });
});
