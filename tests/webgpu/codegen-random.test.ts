/**
 * WGSL kernels for dot and the random ops against the CPU kernels.
 *
 * Tolerances: randomSplit, randomBits, randomBernoulli and randomInt bit-exact; randomUniform
 * bit-exact when maxval - minval is a power of two ([0, 1), [-1, 1), [5, 5.5) ...), else within 2^-22 * (|minval| + (maxval - minval)) (the CPU rounds
 * a float64 result once, the GPU does two f32 operations); randomNormal within
 * 5e-6 * (|mean| + stddev * (1 + |z|)) (f32 Box-Muller against float64; measured on SwiftShader: 1.4e-6
 * stddev), and in the tails (u1 near 0 or 1) within 1e-5 relative; dot on float32 within the
 * matmul tolerance 1e-5 relative plus 1e-5 * k absolute (inputs in (-3, 3)); integer dot exactly.
 */
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { generateOpWgsl } from "../../src/exec/webgpu/codegen.js";
import type { TypedArray } from "../../src/ir/dtype.js";
import { threefry2x32 } from "../../src/ir/threefry.js";
import { type Attrs, getOp } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";
import { hasGpu as hasDevice } from "./gpu.js";
import { deviceLimits, hasGpu, runKernel } from "./helpers/gpu.js";
import { cpuOp, EXACT, host, mismatch, randomData, size, t, type Tolerance } from "./helpers/specs.js";

const KEYS: readonly [number, number][] = [
  [0, 0],
  [0, 42],
  [-1, 0x7fffffff],
  [0x12345678, -0x6789abcd],
];

describe.skipIf(!hasGpu)("webgpu random and dot codegen", () => {
  const limits = hasGpu ? deviceLimits() : undefined;

  /** Runs op on the GPU and the CPU; returns both (after checking the kernel exists). */
  async function both(op: string, inputs: { type: TensorType; data: TypedArray }[], attrs: Attrs): Promise<{ got: TypedArray[]; want: TypedArray[]; types: TensorType[] }> {
    const hosts = inputs.map((i) => host(i.type, i.data));
    const ref = cpuOp(op, hosts, attrs);
    const kernel = generateOpWgsl(getOp(op), inputs.map((i) => i.type), attrs, ref.types, limits!);
    expect(kernel, `${op} has a kernel`).toBeDefined();
    const got = await runKernel(kernel!, hosts, ref.types);
    return { got, want: ref.outs, types: ref.types };
  }

  async function checkRandom(op: string, key: readonly [number, number], attrs: Attrs, tol: Tolerance = EXACT): Promise<TypedArray[]> {
    const { got, want, types } = await both(op, [{ type: t("int32", [2]), data: Int32Array.from(key) }], attrs);
    types.forEach((ty, o) => expect(mismatch(got[o]!, want[o]!, ty, tol), `${op} ${JSON.stringify(attrs)} key ${key} output ${o}`).toBeUndefined());
    return got;
  }

  const SHAPES: readonly number[][] = [[], [1], [7], [2, 5], [3, 0], [257], [33, 31]];

  it("randomSplit: keys bit-exact, including more keys than one pass binds and n = 0", async () => {
    for (const key of KEYS) {
      for (const n of [0, 1, 2, 3, 19]) {
        const got = await checkRandom("randomSplit", key, { n });
        expect(got.length).toBe(n);
      }
    }
  });

  it("randomBits: every word bit-exact (odd sizes and size 0)", async () => {
    for (const key of KEYS) for (const shape of SHAPES) await checkRandom("randomBits", key, { shape });
  });

  it("randomBernoulli: bit-exact, p = 0 and p = 1 included", async () => {
    for (const key of KEYS) {
      for (const p of [0, 1, 0.5, 0.3, 1e-9, 1 - 2 ** -40, 2 ** -32]) await checkRandom("randomBernoulli", key, { shape: [4, 129], p });
    }
    await checkRandom("randomBernoulli", KEYS[1]!, { shape: [0], p: 0.5 });
  });

  it("randomInt: bit-exact for int32 and uint8, small, odd, huge and full ranges", async () => {
    const ranges: [string, number, number][] = [
      ["int32", 0, 10],
      ["int32", -5, 6],
      ["int32", -2147483648, 2147483647],
      ["int32", -2147483648, 2147483648],
      ["int32", 7, 8],
      ["int32", -1000000007, 2000000011],
      ["uint8", 0, 256],
      ["uint8", 3, 200],
      ["uint8", 255, 256],
    ];
    for (const key of KEYS.slice(0, 3)) {
      for (const [dtype, minval, maxval] of ranges) await checkRandom("randomInt", key, { shape: [301], dtype, minval, maxval });
    }
    await checkRandom("randomInt", KEYS[0]!, { shape: [2, 0], dtype: "int32", minval: 0, maxval: 3 });
  });

  it("randomUniform float32: bit-exact for power-of-two spans, close elsewhere", async () => {
    for (const key of KEYS) {
      for (const shape of SHAPES) await checkRandom("randomUniform", key, { shape, dtype: "float32", minval: 0, maxval: 1 });
      // A power-of-two span makes u * span exact, and one correctly rounded f32 add equals the cpu's rounding.
      for (const [lo, hi] of [[0, 4], [-1, 1], [5, 5.5], [-3, 2 ** -7 - 3]] as const) await checkRandom("randomUniform", key, { shape: [513], dtype: "float32", minval: lo, maxval: hi });
      for (const [lo, hi] of [[-3, 7.5], [1e-3, 1e-3 + 1e-6], [-1e20, 3e20], [-3e38, 3e38], [100, 100.0001]] as const) {
        const tol: Tolerance = { rtol: 0, atol: 2 ** -22 * (Math.abs(lo) + (Math.fround(hi) - Math.fround(lo))) };
        const got = await checkRandom("randomUniform", key, { shape: [513], dtype: "float32", minval: lo, maxval: hi }, tol);
        // The range holds exactly on the GPU too: never below minval, never maxval.
        for (const v of got[0]!) {
          expect(v).toBeGreaterThanOrEqual(Math.fround(lo));
          expect(v).toBeLessThan(Math.fround(hi));
        }
      }
    }
  });

  it("randomNormal float32: within 5e-6 * (|mean| + stddev * (1 + |z|)) of the float64 Box-Muller", async () => {
    for (const key of KEYS) {
      for (const [mean, stddev] of [[0, 1], [3, 0.5], [-2, 0], [1e3, 20]] as const) {
        const { got, want, types } = await both("randomNormal", [{ type: t("int32", [2]), data: Int32Array.from(key) }], { shape: [1001], dtype: "float32", mean, stddev });
        const bad: string[] = [];
        want[0]!.forEach((w, i) => {
          const z = stddev === 0 ? 0 : (w - mean) / stddev;
          const tol = 5e-6 * (Math.abs(mean) + stddev * (1 + Math.abs(z)));
          if (!(Math.abs(got[0]![i]! - w) <= tol)) bad.push(`[${i}] got ${got[0]![i]}, want ${w}`);
        });
        expect(bad.slice(0, 5), `randomNormal mean ${mean} sd ${stddev} key ${key} (${types[0]!.shape})`).toEqual([]);
      }
    }
    await checkRandom("randomNormal", KEYS[2]!, { shape: [0], dtype: "float32", mean: 0, stddev: 1 });
  });

  it("randomNormal float32 tails: u1 within 2^-24 of 1 (z near 0) and u1 below 2^-24 (|z| near 6), within 1e-5 relative", async () => {
    // Keys found by search whose first word w0 is near 2^32 - 1 (two) or near 0 (two); checked here.
    const near1: [number, number][] = [[7, 3919624], [7, 10167446]];
    const near0: [number, number][] = [[7, 32196744], [7, 70470660]];
    const w = new Int32Array(2);
    for (const [k0, k1] of near1) {
      threefry2x32(k0, k1, 0, 0, w, 0);
      expect(~w[0]! >>> 0).toBeLessThan(256);
    }
    for (const [k0, k1] of near0) {
      threefry2x32(k0, k1, 0, 0, w, 0);
      expect(w[0]! >>> 0).toBeLessThan(256);
    }
    for (const key of [...near1, ...near0]) {
      const { got, want } = await both("randomNormal", [{ type: t("int32", [2]), data: Int32Array.from(key) }], { shape: [3], dtype: "float32", mean: 0, stddev: 1 });
      want[0]!.forEach((v, i) => expect(Math.abs(got[0]![i]! - v), `key ${key} element ${i}: got ${got[0]![i]}, want ${v}`).toBeLessThanOrEqual(1e-5 * Math.abs(v) + (i === 0 ? 0 : 5e-6)));
    }
  });

  it("refuses float64 results (no f64 in WGSL) with a typed error", () => {
    expect(() => generateOpWgsl(getOp("randomUniform"), [t("int32", [2])], { shape: [3], dtype: "float64", minval: 0, maxval: 1 }, [t("float64", [3])], limits!)).toThrow(/webgpu/);
  });

  const DOT_CASES: [number[], number[]][] = [
    [[7], [7]],
    [[5, 9], [9]],
    [[9], [9, 6]],
    [[9], [3, 9, 6]],
    [[4, 9], [9, 6]],
    [[2, 3, 9], [4, 9, 5]],
    [[3, 9], [2, 2, 9, 7]],
    [[33, 70], [70, 65]],
    [[0, 3], [3, 4]],
    [[3, 0], [0, 4]],
    [[2, 0], [5, 0, 3]],
    [[1], [1, 1]],
  ];

  it.each(["float32", "int32", "uint8"] as const)("dot on %s: 1-D, N-D x 1-D, 1-D x N-D, N-D x M-D, empty", async (dtype) => {
    for (const [as, bs] of DOT_CASES) {
      const a = t(dtype, as);
      const b = t(dtype, bs);
      const data = [randomData(dtype, size(as), 3, { finite: true }), randomData(dtype, size(bs), 4, { finite: true })];
      const { got, want, types } = await both("dot", [{ type: a, data: data[0]! }, { type: b, data: data[1]! }], {});
      const k = as[as.length - 1]!;
      const tol: Tolerance = dtype === "float32" ? { rtol: 1e-5, atol: 1e-5 * Math.max(1, k) } : EXACT;
      expect(mismatch(got[0]!, want[0]!, types[0]!, tol), `dot ${dtype}[${as}] x [${bs}]`).toBeUndefined();
    }
  });
});

describe.skipIf(!hasDevice)("webgpu device: random ops and dot end to end", () => {
  it("randomUniform, randomNormal, splitKey and randomInt of a webgpu key match the cpu", async () => {
    const key = st.tensor([0x1234, 0x5678], { dtype: "int32", device: "webgpu" });
    const cpuKey = st.tensor([0x1234, 0x5678], { dtype: "int32" });
    const u = st.randomUniform(key, [1000], { minval: 0, maxval: 1 });
    expect(u.device).toBe("webgpu");
    expect(Array.from(await u.data())).toEqual(Array.from(st.randomUniform(cpuKey, [1000]).numpy().data));
    const [k1, k2] = st.splitKey(key, 2);
    expect(k1!.device).toBe("webgpu");
    const [c1, c2] = st.splitKey(cpuKey, 2);
    expect(Array.from(await k1!.data())).toEqual(Array.from(c1!.numpy().data));
    expect(Array.from(await k2!.data())).toEqual(Array.from(c2!.numpy().data));
    const ints = st.randomInt(k2!, [50], -3, 9);
    expect(Array.from(await ints.data())).toEqual(Array.from(st.randomInt(c2!, [50], -3, 9).numpy().data));
    const z = await st.randomNormal(k1!, [64]).data();
    const zc = st.randomNormal(c1!, [64]).numpy().data;
    zc.forEach((w, i) => expect(Math.abs(z[i]! - w)).toBeLessThanOrEqual(2e-5 * (1 + Math.abs(w))));
  });

  it("a compiled fn on webgpu (split, randomBits, randomUniform, dot) matches the cpu compiler", async () => {
    const body = (key: st.Tensor, m: st.Tensor): st.Tensor[] => {
      const [a, b] = st.splitKey(key, 2);
      const u = st.randomUniform(a!, [6, 5], { minval: 0, maxval: 1 });
      return [st.randomBits(b!, [9]), u, st.dot(u, m)];
    };
    const m = Float32Array.from({ length: 15 }, (_, i) => Math.cos(i));
    const want = st.fn(body)(st.tensor([3, -9], { dtype: "int32" }), st.tensor(m).reshape([5, 3])).map((r) => r.numpy().data);
    const got = st.fn(body, { device: "webgpu" })(st.tensor([3, -9], { dtype: "int32", device: "webgpu" }), st.tensor(m, { device: "webgpu" }).reshape([5, 3]));
    expect(got.every((r) => r.device === "webgpu")).toBe(true);
    expect(Array.from(await got[0]!.data())).toEqual(Array.from(want[0]!));
    expect(Array.from(await got[1]!.data())).toEqual(Array.from(want[1]!));
    const d = await got[2]!.data();
    want[2]!.forEach((w, i) => expect(Math.abs(d[i]! - w)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(w)));
  });

  it("dot of webgpu tensors matches the cpu", async () => {
    const a = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 60 }, (_, i) => Math.cos(i));
    const want = st.dot(st.tensor(a).reshape([2, 3, 4]), st.tensor(b).reshape([3, 4, 5])).numpy();
    const got = st.dot(st.tensor(a, { device: "webgpu" }).reshape([2, 3, 4]), st.tensor(b, { device: "webgpu" }).reshape([3, 4, 5]));
    expect(got.shape).toEqual([2, 3, 3, 5]);
    const g = await got.data();
    want.data.forEach((w, i) => expect(Math.abs(g[i]! - w)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(w)));
  });
});
