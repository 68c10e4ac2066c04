/**
 * Library-op WGSL kernels (generateOpWgsl) against the CPU backend's kernels: shape ops, gather,
 * oneHot, arg-reductions, scans, conv2d, pools and logSumExp, on several dtypes. Copies and index
 * ops must match exactly; f32 accumulations (cumsum, conv2d, avgPool2d, logSumExp) within 1e-5
 * relative plus 1e-5 absolute (inputs in (-3, 3)).
 */
import { describe, expect, it } from "vitest";
import { generateOpWgsl } from "../../src/exec/webgpu/codegen.js";
import type { DType, TypedArray } from "../../src/ir/dtype.js";
import { type Attrs, getOp } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";
import { deviceLimits, hasGpu, runKernel } from "./helpers/gpu.js";
import { cpuOp, EXACT, host, mismatch, randomData, size, t, type Tolerance } from "./helpers/specs.js";

const LOOSE: Tolerance = { rtol: 1e-5, atol: 1e-5 };

describe.skipIf(!hasGpu)("webgpu library-op codegen", () => {
  const limits = hasGpu ? deviceLimits() : undefined;

  async function check(op: string, types: TensorType[], attrs: Attrs, tol: Tolerance = EXACT, data?: TypedArray[]): Promise<void> {
    const inputs = types.map((ty, k) => host(ty, data?.[k] ?? randomData(ty.dtype, size(ty.shape), 7 + k, { finite: tol !== EXACT })));
    const want = cpuOp(op, inputs, attrs);
    const kernel = generateOpWgsl(getOp(op), types, attrs, want.types, limits!);
    expect(kernel, `${op} is supported`).toBeDefined();
    const got = await runKernel(kernel!, inputs, want.types);
    want.types.forEach((ty, o) => expect(mismatch(got[o]!, want.outs[o]!, ty, tol), `${op} output ${o}`).toBeUndefined());
  }

  const dtypes: DType[] = ["float32", "int32", "uint8", "bool"];

  it.each(dtypes)("shape ops on %s", async (d) => {
    const x = t(d, [3, 4, 5]);
    await check("reshape", [x], { shape: [12, 5] });
    await check("transpose", [x], { perm: [2, 0, 1] });
    await check("broadcastTo", [t(d, [4, 1])], { shape: [2, 4, 6] });
    await check("slice", [x], { begin: [0, 3, 1], end: [3, -1, 5], strides: [2, -1, 2] });
    await check("slice", [x], { begin: [1, 0, 0], end: [1, 4, 5], strides: [1, 1, 1] });
    await check("flip", [x], { axes: [0, 2] });
    await check("concat", [x, t(d, [3, 2, 5]), t(d, [3, 0, 5])], { axis: 1 });
    await check("split", [x], { axis: 2, sizes: [1, 0, 4] });
    await check("pad", [x, t(d, [])], { paddings: [[1, 0], [0, 2], [3, 1]] });
    await check("pad", [t(d, [0, 2]), t(d, [])], { paddings: [[1, 1], [0, 0]] });
  });

  it("gather and oneHot", async () => {
    const idx = Int32Array.from([0, 3, -1, 2, -4, 1]);
    await check("gather", [t("float32", [2, 4, 3]), t("int32", [2, 3])], { axis: 1 }, EXACT, [randomData("float32", 24, 1), idx]);
    await check("gather", [t("uint8", [4, 3]), t("int32", [6])], { axis: 0 }, EXACT, [randomData("uint8", 12, 1), idx]);
    const hot = Int32Array.from([0, 2, 5, -1, 1, 3]);
    await check("oneHot", [t("int32", [2, 3]), t("float32", []), t("float32", [])], { depth: 4, axis: 1 }, EXACT, [hot, Float32Array.of(1), Float32Array.of(-2)]);
    await check("oneHot", [t("int32", [6]), t("int32", []), t("int32", [])], { depth: 3, axis: 0 }, EXACT, [hot, Int32Array.of(7), Int32Array.of(0)]);
  });

  it.each(["float32", "int32", "uint8"] as DType[])("argmax/argmin on %s (first extreme, NaN wins)", async (d) => {
    for (const axis of [0, 1, 2, null]) {
      await check("argmax", [t(d, [4, 37, 3])], { axis, keepDims: false });
      await check("argmin", [t(d, [4, 37, 3])], { axis, keepDims: true });
    }
  });

  it.each(["float32", "int32", "bool"] as DType[])("cumsum/cumprod on %s", async (d) => {
    const tol = d === "float32" ? LOOSE : EXACT;
    for (const [axis, exclusive, reverse] of [[1, false, false], [0, true, false], [2, false, true], [null, true, true]] as const) {
      const x = t(d, [3, 5, 4]);
      const data = d === "float32" ? [randomData(d, 60, 3, { finite: true, scale: 1.2 })] : undefined;
      await check("cumsum", [x], { axis, exclusive, reverse }, tol, data);
      await check("cumprod", [x], { axis, exclusive, reverse }, tol, data);
    }
  });

  it("conv2d: strides, dilations, same/valid/explicit padding, HWC input, integers", async () => {
    const x = t("float32", [2, 9, 8, 3]);
    const f = t("float32", [3, 2, 3, 5]);
    for (const attrs of [
      { strides: [1, 1], dilations: [1, 1], padding: "valid" },
      { strides: [2, 1], dilations: [1, 2], padding: "same" },
      { strides: [1, 3], dilations: [2, 1], padding: [[2, 0], [1, 3]] },
    ]) await check("conv2d", [x, f], attrs, LOOSE);
    await check("conv2d", [t("float32", [6, 6, 2]), t("float32", [1, 1, 2, 4])], { strides: [1, 1], dilations: [1, 1], padding: "valid" }, LOOSE);
    await check("conv2d", [t("int32", [1, 5, 5, 2]), t("int32", [2, 2, 2, 3])], { strides: [1, 1], dilations: [1, 1], padding: "same" });
  });

  it("conv2d as an implicit GEMM (large float convolutions): strides, dilations, padding, HWC input", async () => {
    const x = t("float32", [2, 24, 18, 6]);
    const f = t("float32", [3, 3, 6, 16]);
    for (const attrs of [
      { strides: [1, 1], dilations: [1, 1], padding: "same" },
      { strides: [2, 1], dilations: [1, 2], padding: "valid" },
      { strides: [1, 2], dilations: [2, 1], padding: [[2, 0], [1, 3]] },
    ]) {
      const out = cpuOp("conv2d", [x, f].map((ty, k) => host(ty, randomData(ty.dtype, size(ty.shape), k))), attrs).types;
      expect(generateOpWgsl(getOp("conv2d"), [x, f], attrs, out, limits!)!.passes[0]!.code).toContain("implicit GEMM");
      await check("conv2d", [x, f], attrs, LOOSE);
    }
    await check("conv2d", [t("float32", [33, 31, 5]), t("float32", [2, 2, 5, 40])], { strides: [1, 1], dilations: [1, 1], padding: "valid" }, LOOSE);
  });

  it("maxPool2d and avgPool2d", async () => {
    for (const attrs of [
      { windowShape: [2, 2], strides: [2, 2], padding: "valid" },
      { windowShape: [3, 2], strides: [1, 2], padding: "same" },
    ]) {
      await check("maxPool2d", [t("float32", [2, 7, 6, 3])], attrs);
      await check("maxPool2d", [t("int32", [7, 6, 2])], attrs);
      await check("avgPool2d", [t("float32", [2, 7, 6, 3])], attrs, LOOSE);
    }
  });

  it("logSumExp", async () => {
    await check("logSumExp", [t("float32", [4, 30, 5])], { axes: [1], keepDims: false }, LOOSE);
    await check("logSumExp", [t("float32", [4, 30, 5])], { axes: [0, 2], keepDims: true }, LOOSE);
    await check("logSumExp", [t("float32", [6, 9])], { axes: [1], keepDims: false }, LOOSE, [randomData("float32", 54, 2)]);
    await check("logSumExp", [t("int32", [3, 0])], { axes: [1], keepDims: false }, LOOSE);
    // Several reduced axes, one of them empty: the kernel must still be valid WGSL (no `% 0u`).
    await check("logSumExp", [t("float32", [2, 3, 0])], { axes: [1, 2], keepDims: false }, LOOSE);
    await check("logSumExp", [t("float32", [0, 3, 2])], { axes: [0, 2], keepDims: true }, LOOSE);
  });

  it("returns undefined for ops it does not generate", () => {
    // debugPrint needs a readback (the host prints): no GPU kernel.
    expect(generateOpWgsl(getOp("debugPrint"), [t("float32", [2])], {}, [t("float32", [2])], limits!)).toBeUndefined();
  });
});
