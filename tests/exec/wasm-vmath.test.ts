/**
 * The vectorized transcendentals (src/exec/wasm/vmath.ts) against the JS kernels' reference: the op's
 * scalar template evaluated in float64 and rounded to float32. Every function is swept over the
 * whole float32 range (every k-th bit pattern, about 3 million values) plus dense neighbourhoods of
 * its edges (overflow/underflow thresholds, denormal boundary, branch points, multiples of pi/2),
 * and the maximum error in ulps must stay within VMATH_ERROR. NaN must give NaN, and zeros and
 * infinities must match exactly (sign included).
 */
import { describe, expect, it } from "vitest";
import { WASM_MAX_PAGES, kernelMemory } from "../../src/exec/wasm/abi.js";
import { VMATH_ERROR, type VMathFn } from "../../src/exec/wasm/vmath.js";
import { vmathMapBytes } from "../helpers/vmath-map.js";
import { erf, pow, sigmoid } from "../../src/ir/scalar-math.js";

type Unary = Exclude<VMathFn, "pow">;

/** What the JS kernels compute for a float32 input (before the float32 store rounds it). */
const REF: Readonly<Record<Unary, (x: number) => number>> = {
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  tanh: Math.tanh,
  sigmoid,
  erf,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
};
const FNS = Object.keys(REF) as Unary[];

const PAGES = 1024; // 64 MiB: room for 4M inputs and outputs
const memory = new WebAssembly.Memory({ initial: PAGES, maximum: WASM_MAX_PAGES, shared: true });
const OUT = 32 << 20;

/** A module whose `map(in, out, bytes)` applies fn to each 16-byte vector; `keep` stores x too (at out + 16 MiB). */
function kernel(fn: Unary, opts: { twice?: boolean; keep?: boolean; hoist?: boolean } = {}): (xs: Float32Array) => Float32Array {
  const bytes = vmathMapBytes(fn, kernelMemory(true), { ...(opts.hoist ? { hoist: ["exp"] } : {}), ...(opts.twice ? { twice: true } : {}), ...(opts.keep ? { keepOffset: 16 << 20 } : {}) });
  expect(WebAssembly.validate(bytes)).toBe(true);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const map = (inst.exports as { map: (a: number, b: number, n: number) => void }).map;
  return (xs) => {
    if (xs.length > 4 << 20) throw new RangeError("too many inputs for the test memory");
    new Float32Array(memory.buffer, 0, xs.length + 4).fill(0).set(xs);
    map(0, OUT, Math.ceil(xs.length / 4) * 16);
    return new Float32Array(memory.buffer, OUT, xs.length).slice();
  };
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
const bitsOf = (x: number): number => ((f32[0] = x), i32[0]!);
const fromBits = (b: number): number => ((i32[0] = b), f32[0]!);
/** Bit pattern as a monotonic integer: -0 and +0 both map to 0, +inf is one past the largest finite. */
const ordinal = (x: number): number => {
  const b = bitsOf(x);
  return b < 0 ? -(b & 0x7fffffff) : b;
};

/** Error of got against the float32-rounded reference: ulps, or Infinity for a wrong NaN/zero sign/infinity. */
function ulpError(got: number, want: number): number {
  if (want !== want || got !== got) return want !== want && got !== got ? 0 : Infinity;
  if (want === 0 && got === 0) return Object.is(want, got) ? 0 : Infinity;
  return Math.abs(ordinal(got) - ordinal(want));
}

/** Every k-th float32 bit pattern (both signs), offset so that low mantissa bits vary. */
function sweep(k: number): number[] {
  const out: number[] = [];
  for (let b = 7; b < 2 ** 32; b += k) out.push(fromBits(b | 0));
  return out;
}

/** The w bit patterns on each side of each point (and the point itself). */
function around(points: readonly number[], w: number): number[] {
  const out: number[] = [];
  for (const p of points) {
    const c = bitsOf(p);
    for (let d = -w; d <= w; d++) out.push(fromBits(c + d));
  }
  return out;
}

const SPECIALS = [
  0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -0.5, 2, -2, 1e-45, -1e-45, 1.1754942e-38, -1.1754942e-38, 1.1754944e-38, -1.1754944e-38,
  3.4028234663852886e38, -3.4028234663852886e38, fromBits(0x7fc00001), fromBits(0xffc00000 | 0), fromBits(0x7f800001),
];

const LN2 = Math.LN2;
/** Per function: points whose neighbourhoods are swept densely. */
const EDGES: Readonly<Record<Unary, readonly number[]>> = {
  // overflow, 2^-126 (denormal results), rounding to 0, reduction boundaries (k + 1/2) ln 2
  exp: [88.72283935546875, -87.33654475, -103.2789, -103.972, 0, ...[-3, -1, 0, 1, 2, 50].map((k) => (k + 0.5) * LN2)],
  expm1: [88.72283935546875, 0, 24.5 * LN2, 23.5 * LN2, -17.33, ...[-3, -1, 0, 1, 2].map((k) => (k + 0.5) * LN2)],
  log: [1, Math.SQRT1_2, Math.SQRT2, 1.1754943508222875e-38, 2, 0.5],
  log1p: [-1 + 2 ** -24, -0.5, 0, 2 ** -24, Math.SQRT2 - 1, Math.SQRT1_2 - 1, 16777216],
  tanh: [0.55, 9.01, 0, 1e-4],
  sigmoid: [0, 16.63, -87.33, -103.28, -88.7, 1e-7],
  erf: [1, 3.832, 4, 0, 1e-4],
  sin: [0, 6400, 3 * Math.PI, 1e-4],
  cos: [0, 6400, 3 * Math.PI, 1e-4],
  tan: [0, 6400, 3 * Math.PI, 1e-4],
  atan: [0.41421356, 2.41421356, 1, 0, 16777216, 1e-4],
  sinh: [1, 89.41599, 0, 1e-4],
  cosh: [89.41599, 0, 1e-4, 1],
};

/** Nearest float32 values to k pi/2 (and neighbours): the hardest inputs for argument reduction. */
function nearHalfPiMultiples(): number[] {
  const pts: number[] = [];
  for (let k = 1; k < 20000; k++) pts.push(Math.fround((k * Math.PI) / 2));
  for (let k = 20000; k < 2e8; k = Math.ceil(k * 1.0005)) pts.push(Math.fround((k * Math.PI) / 2));
  return around(pts, 2);
}

function inputsFor(fn: Unary): Float32Array {
  const parts = [sweep(1409), SPECIALS, around(EDGES[fn], 3000), around(EDGES[fn].map((e) => -e), 300)];
  if (fn === "sin" || fn === "cos" || fn === "tan") parts.push(nearHalfPiMultiples());
  const xs = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    xs.set(p, at);
    at += p.length;
  }
  return xs;
}

describe("wasm vmath", () => {
  it.each(FNS)("%s is within its documented error over the float32 range", (fn) => {
    const run = kernel(fn);
    const xs = inputsFor(fn);
    const got = run(xs);
    const ref = REF[fn];
    let worst = 0;
    let worstAt = 0;
    for (let i = 0; i < xs.length; i++) {
      const e = ulpError(got[i]!, Math.fround(ref(xs[i]!)));
      if (e > worst) {
        worst = e;
        worstAt = xs[i]!;
      }
    }
    console.log(`${fn}: ${xs.length} inputs, max error ${worst} ulp (at x = ${worstAt})`);
    expect(worst, `${fn}(${worstAt}) = ${got[Array.from(xs).indexOf(worstAt)]}, reference ${Math.fround(ref(worstAt))}`).toBeLessThanOrEqual(
      VMATH_ERROR[fn].ulp,
    );
  });

  it("gets the special values exactly", () => {
    const cases: [Unary, number, number][] = [
      ["exp", Infinity, Infinity], ["exp", -Infinity, 0], ["exp", 0, 1], ["exp", -0, 1], ["exp", 88.72283172607422, Math.fround(Math.exp(88.72283172607422))],
      ["exp", 88.72283935546875, Infinity], ["exp", -103.972084, 0], ["exp", -103.27893, 1e-45],
      ["expm1", -0, -0], ["expm1", 0, 0], ["expm1", Infinity, Infinity], ["expm1", -Infinity, -1], ["expm1", 1e-45, 1e-45],
      ["log", 0, -Infinity], ["log", -0, -Infinity], ["log", -1, NaN], ["log", -Infinity, NaN], ["log", Infinity, Infinity], ["log", 1, 0],
      ["log", 1e-45, Math.log(Math.fround(1e-45))],
      ["log1p", -1, -Infinity], ["log1p", -2, NaN], ["log1p", -0, -0], ["log1p", Infinity, Infinity], ["log1p", 1e-45, 1e-45],
      ["tanh", -0, -0], ["tanh", Infinity, 1], ["tanh", -Infinity, -1], ["tanh", 20, 1], ["tanh", -1e-45, -1e-45],
      ["sigmoid", Infinity, 1], ["sigmoid", -Infinity, 0], ["sigmoid", 0, 0.5], ["sigmoid", -0, 0.5], ["sigmoid", 40, 1], ["sigmoid", -200, 0],
      ["erf", Infinity, 1], ["erf", -Infinity, -1], ["erf", -0, -0], ["erf", 10, 1],
      ["sin", Infinity, NaN], ["sin", -Infinity, NaN], ["sin", -0, -0], ["cos", Infinity, NaN], ["cos", -0, 1], ["tan", -0, -0], ["tan", Infinity, NaN],
      ["sin", 3.4028234663852886e38, Math.fround(Math.sin(3.4028234663852886e38))],
      ["atan", Infinity, Math.fround(Math.PI / 2)], ["atan", -Infinity, -Math.fround(Math.PI / 2)], ["atan", -0, -0],
      ["sinh", -0, -0], ["sinh", Infinity, Infinity], ["sinh", -Infinity, -Infinity], ["sinh", 89.5, Infinity], ["cosh", -Infinity, Infinity],
      ["cosh", 89.41, Math.cosh(Math.fround(89.41))], ["cosh", -0, 1],
    ];
    for (const fn of FNS) {
      const mine = cases.filter((c) => c[0] === fn);
      const got = kernel(fn)(new Float32Array([...mine.map((c) => c[1]), NaN, -NaN]));
      mine.forEach(([, x, want], i) => expect(got[i], `${fn}(${x})`).toBe(Math.fround(want)));
      expect(got[mine.length], `${fn}(NaN)`).toBeNaN();
      expect(got[mine.length + 1], `${fn}(-NaN)`).toBeNaN();
    }
  });

  it("gives each lane a result that depends only on that lane (vector grouping does not matter)", () => {
    const xs = new Float32Array(4001);
    let s = 12345;
    for (let i = 0; i < xs.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      // a mix of small, medium and huge magnitudes so the trig slow path runs beside the fast one
      xs[i] = (s / 2 ** 32 - 0.5) * 10 ** ((s % 7) * 6 - 12);
    }
    for (const fn of FNS) {
      const run = kernel(fn);
      const a = run(xs);
      for (const shift of [1, 2, 3]) {
        const b = run(xs.subarray(shift));
        const ai = new Int32Array(a.buffer, 4 * shift);
        const bi = new Int32Array(b.buffer);
        expect(Array.from(bi.subarray(0, 4000 - shift)), `${fn} shifted by ${shift}`).toEqual(Array.from(ai.subarray(0, 4000 - shift)));
      }
    }
  });

  it("gives the same bits on exp's fast path (no lane beyond 87) as on its full-range path", () => {
    // 1M values in [-87, 87] plus NaNs with payloads; then every fourth lane is replaced by 100,
    // which sends each vector down the full-range path, and the other three lanes must not change.
    const n = 1 << 20;
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) xs[i] = -87 + (174 * i) / (n - 1);
    const nan = new Int32Array(xs.buffer);
    for (let i = 5; i < n; i += 4099) nan[i] = 0x7fc00000 | (i & 0x3fffff) | (i % 2 === 0 ? 0 : 0x80000000 | 0);
    const slow = xs.slice();
    for (let i = 3; i < n; i += 4) slow[i] = 100;
    for (const fn of ["exp", "tanh", "sigmoid", "erf", "sinh", "cosh"] as const) {
      const run = kernel(fn);
      const a = new Int32Array(run(xs).buffer);
      const b = new Int32Array(run(slow).buffer);
      let diff = 0;
      for (let i = 0; i < n; i++) if (i % 4 !== 3 && a[i] !== b[i]) diff++;
      expect(diff, `${fn}: lanes that differ between the two paths`).toBe(0);
    }
  });

  it("gives the same bits with constants hoisted out of the loop", () => {
    const xs = new Float32Array(sweep(40009));
    for (const fn of FNS) {
      const want = new Int32Array(kernel(fn)(xs).buffer);
      const got = new Int32Array(kernel(fn, { hoist: true, twice: true })(xs).buffer);
      expect(got, fn).toEqual(want);
    }
  });

  it("leaves the input local intact and composes within one function", () => {
    const xs = new Float32Array([-3, -0.25, 0, 0.7, 5, 100, 1e30, NaN, 2.5]);
    for (const fn of FNS) {
      const got = kernel(fn, { twice: true, keep: true })(xs);
      const kept = new Float32Array(memory.buffer, OUT + (16 << 20), xs.length);
      expect(Array.from(kept), fn).toEqual(Array.from(xs));
      xs.forEach((x, i) => expect(ulpError(got[i]!, Math.fround(REF[fn](x))), `${fn}(${x})`).toBeLessThanOrEqual(VMATH_ERROR[fn].ulp));
    }
  });
});

/** pow(x, y) over the lanes of two arrays. */
function powKernel(): (xs: Float32Array, ys: Float32Array) => Float32Array {
  const bytes = vmathMapBytes("pow", kernelMemory(true));
  expect(WebAssembly.validate(bytes)).toBe(true);
  const map = (new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as { map: (a: number, b: number, o: number, n: number) => void }).map;
  const Y = 12 << 20;
  return (xs, ys) => {
    new Float32Array(memory.buffer, 0, xs.length + 4).fill(0).set(xs);
    new Float32Array(memory.buffer, Y, ys.length + 4).fill(0).set(ys);
    map(0, Y, OUT, Math.ceil(xs.length / 4) * 16);
    return new Float32Array(memory.buffer, OUT, xs.length).slice();
  };
}

describe("wasm vmath pow", () => {
  const SP = [0, -0, Infinity, -Infinity, NaN, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 1e-45, -1e-45, 3.4e38, -3.4e38, 2 ** 24, 2 ** 24 + 2, 16777215, -16777215, 1.5, -1.5, 0.75, 1e-30];

  it("is within its documented error on random, near-1 and integer-power inputs", () => {
    const run = powKernel();
    let seed = 1;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const n = 1 << 20;
    const gens: [string, () => [number, number]][] = [
      ["random bit patterns", () => [fromBits((rnd() * 2 ** 32) | 0), fromBits((rnd() * 2 ** 32) | 0)]],
      ["x, y in [-10, 10]", () => [(rnd() - 0.5) * 20, (rnd() - 0.5) * 20]],
      ["x near 1, large y", () => [1 + (rnd() - 0.5) * 1e-3, (rnd() - 0.5) * 2e5]],
      ["negative x, integer y", () => [-rnd() * 10, Math.round((rnd() - 0.5) * 80)]],
      ["results near overflow/underflow", () => [1 + rnd() * 3, (rnd() < 0.5 ? -1 : 1) * (60 + rnd() * 100)]],
    ];
    for (const [name, gen] of gens) {
      const xs = new Float32Array(n);
      const ys = new Float32Array(n);
      for (let i = 0; i < n; i++) [xs[i], ys[i]] = gen();
      const got = run(xs, ys);
      let worst = 0;
      let at = "";
      for (let i = 0; i < n; i++) {
        const e = ulpError(got[i]!, Math.fround(pow(xs[i]!, ys[i]!)));
        if (e > worst) [worst, at] = [e, `pow(${xs[i]}, ${ys[i]}) = ${got[i]}, reference ${Math.fround(pow(xs[i]!, ys[i]!))}`];
      }
      console.log(`pow, ${name}: max error ${worst} ulp${at ? ` (${at})` : ""}`);
      expect(worst, at).toBeLessThanOrEqual(VMATH_ERROR.pow.ulp);
    }
  });

  it("gets every pair of special values exactly as C's pow", () => {
    const xs = new Float32Array(SP.length ** 2);
    const ys = new Float32Array(SP.length ** 2);
    SP.forEach((x, i) => SP.forEach((y, j) => ((xs[i * SP.length + j] = x), (ys[i * SP.length + j] = y))));
    const got = powKernel()(xs, ys);
    xs.forEach((x, i) => {
      const want = Math.fround(pow(x, ys[i]!));
      expect(ulpError(got[i]!, want), `pow(${x}, ${ys[i]}) = ${got[i]}, reference ${want}`).toBeLessThanOrEqual(Number.isFinite(want) && want !== 0 ? 1 : 0);
    });
  });
});
