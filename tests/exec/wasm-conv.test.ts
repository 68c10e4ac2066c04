/**
 * conv2d as a WebAssembly plan (src/exec/wasm/conv.ts) against the JS conv kernel
 * (kernels/conv.ts, float64 accumulation) within the GEMM's stated bound
 * |y - ref| <= (K + 2) * 2^-24 * sum |x w| (K = kh * kw * c), and bit for bit against a float32 loop
 * in the kernel's order (patch order ky, kx, c; padded cells as zero products), across strides,
 * dilations, paddings, odd channel counts, HWC input, and shuffled / size-1 chunks.
 */
import { describe, expect, it } from "vitest";
import "../../src/ir/ops/index.js";
import { conv2dKernel } from "../../src/exec/cpu/kernels/conv.js";
import { wasmConv2dPlan } from "../../src/exec/wasm/conv.js";
import { convGeometry } from "../../src/ir/ops/linalg.js";
import type { Attrs } from "../../src/ir/registry.js";
import { sizeOf } from "../../src/ir/shape.js";
import type { TensorType } from "../../src/ir/types.js";
import { firstBitDifference, runPlan } from "../helpers/wasm-run.js";

const f32 = (shape: readonly number[]): TensorType => ({ dtype: "float32", shape });

function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (2 * s) / 2 ** 32 - 1;
  }
  return a;
}

/** The float32 loop in the kernel's order, and sum |x w| per output. */
function reference(X: Float32Array, W: Float32Array, g: ReturnType<typeof convGeometry>): { f32: Float32Array; mag: Float64Array } {
  const { batch, h, w, c, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow, outC } = g;
  const out = new Float32Array(batch * oh * ow * outC);
  const mag = new Float64Array(out.length);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let co = 0; co < outC; co++) {
          let s = 0;
          let m = 0;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - padTop + ky * dh;
              const ix = ox * sw - padLeft + kx * dw;
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              for (let ci = 0; ci < c; ci++) {
                const xv = inside ? X[((b * h + iy) * w + ix) * c + ci]! : 0;
                const wv = W[((ky * kw + kx) * c + ci) * outC + co]!;
                s = Math.fround(s + Math.fround(xv * wv));
                m += Math.abs(xv * wv);
              }
            }
          }
          out[o] = s;
          mag[o++] = m;
        }
      }
    }
  }
  return { f32: out, mag };
}

function check(xShape: number[], wShape: number[], attrs: Attrs, seed: number): string {
  const x = f32(xShape);
  const w = f32(wShape);
  const g = convGeometry(x, w, attrs);
  const yShape = xShape.length === 4 ? [g.batch, g.oh, g.ow, g.outC] : [g.oh, g.ow, g.outC];
  const label = `x [${xShape}] w [${wShape}] ${JSON.stringify(attrs)}`;
  const plan = wasmConv2dPlan(x, w, attrs, f32(yShape), { shared: true });
  if (!plan) return `${label}: no plan`;
  const X = randomArray(sizeOf(xShape), seed);
  const W = randomArray(sizeOf(wShape), seed + 1);
  const got = runPlan(plan, [X, W], [f32(yShape)])[0] as Float32Array;
  const { f32: want, mag } = reference(X, W, g);
  const d = firstBitDifference(got, want);
  if (d >= 0) return `${label}: element ${d} is ${got[d]}, float32-order reference ${want[d]}`;
  const js = conv2dKernel("float32", X, W, g, g.outC);
  const K = g.kh * g.kw * g.c;
  for (let i = 0; i < got.length; i++) {
    const tol = (K + 2) * 2 ** -24 * mag[i]! + 2 ** -24 * Math.abs(js[i]!);
    if (Math.abs(got[i]! - js[i]!) > tol) return `${label}: element ${i} is ${got[i]}, JS kernel ${js[i]} (tolerance ${tol})`;
  }
  const shuffled = runPlan(plan, [X, W], [f32(yShape)], { shuffleSeed: seed })[0]!;
  if (firstBitDifference(shuffled, got) >= 0) return `${label}: shuffled chunks changed the result`;
  const grain1 = runPlan(plan, [X, W], [f32(yShape)], { grain: 1, shuffleSeed: seed + 1 })[0]!;
  if (firstBitDifference(grain1, got) >= 0) return `${label}: grain 1 changed the result`;
  return "";
}

const one = { strides: [1, 1], dilations: [1, 1] };

describe("wasm conv2d", () => {
  const cases: [number[], number[], Attrs][] = [
    [[2, 8, 8, 3], [3, 3, 3, 5], { ...one, padding: "same" }],
    [[2, 8, 8, 3], [3, 3, 3, 5], { ...one, padding: "valid" }],
    [[1, 9, 7, 4], [3, 2, 4, 9], { strides: [2, 3], dilations: [1, 1], padding: "same" }],
    [[1, 11, 10, 2], [3, 3, 2, 8], { strides: [1, 1], dilations: [2, 3], padding: "same" }],
    [[2, 6, 7, 5], [2, 3, 5, 3], { strides: [2, 1], dilations: [1, 2], padding: [[1, 2], [0, 3]] }],
    [[3, 5, 5, 16], [1, 1, 16, 7], { ...one, padding: "valid" }],
    [[5, 5, 16], [1, 1, 16, 17], { ...one, padding: "same" }],
    [[1, 6, 6, 1], [1, 1, 1, 1], { strides: [2, 2], dilations: [1, 1], padding: "valid" }],
    [[1, 1, 1, 1], [1, 1, 1, 1], { ...one, padding: "valid" }],
    [[1, 3, 3, 2], [5, 5, 2, 4], { ...one, padding: "same" }],
    [[2, 4, 4, 3], [4, 4, 3, 2], { ...one, padding: "valid" }],
    [[1, 12, 12, 8], [3, 3, 8, 16], { strides: [1, 1], dilations: [1, 1], padding: [[2, 0], [1, 1]] }],
    [[0, 4, 4, 3], [3, 3, 3, 2], { ...one, padding: "same" }],
    [[1, 4, 4, 0], [3, 3, 0, 2], { ...one, padding: "same" }],
    [[1, 4, 4, 3], [3, 3, 3, 0], { ...one, padding: "same" }],
    [[4, 16, 16, 33], [3, 3, 33, 10], { ...one, padding: "same" }],
  ];
  it.each(cases)("x %j w %j %j", (x, w, attrs) => {
    expect(check(x, w, attrs, sizeOf(x) + sizeOf(w))).toBe("");
  });

  it("splits large problems into several im2col/run blocks", () => {
    const x = f32([2, 64, 64, 32]);
    const w = f32([3, 3, 32, 8]);
    const attrs = { ...one, padding: "same" };
    const plan = wasmConv2dPlan(x, w, attrs, f32([2, 64, 64, 8]), { shared: true })!;
    expect(plan.phases.filter((p) => p.entry.startsWith("im2col")).length).toBeGreaterThan(1);
    expect(check([2, 64, 64, 32], [3, 3, 32, 8], attrs, 3)).toBe("");
  });

  it("returns undefined for float64 and for invalid geometry", () => {
    const attrs = { ...one, padding: "same" };
    const t64 = (s: number[]): TensorType => ({ dtype: "float64", shape: s });
    expect(wasmConv2dPlan(t64([1, 4, 4, 2]), t64([3, 3, 2, 2]), attrs, t64([1, 4, 4, 2]), { shared: true })).toBeUndefined();
    expect(wasmConv2dPlan(f32([1, 4, 4, 2]), f32([3, 3, 3, 2]), attrs, f32([1, 4, 4, 2]), { shared: true })).toBeUndefined();
  });
});
