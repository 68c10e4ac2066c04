/**
 * Reduction WGSL kernels against the CPU code generator: each reduction op, each axis class
 * (last, first, middle, several, all), lengths 1 to 100000 (serial, workgroup and two-pass
 * schemes), integer and bool dtypes, empty axes, and fused producers with extra yields.
 * Float sums and means: |got - want| <= 1e-5 * sum|x| (divided by the count for means);
 * products 1e-5 relative on data near 1; max/min/any/all and integer sums exactly.
 */
import { describe, expect, it } from "vitest";
import type { KernelSpec } from "../../src/exec/cpu/codegen-fused.js";
import { generateWgsl } from "../../src/exec/webgpu/codegen.js";
import type { DType, TypedArray } from "../../src/ir/dtype.js";
import { deviceLimits, hasGpu, runKernel } from "./helpers/gpu.js";
import { cpuSpec, host, input, mismatch, randomData, Rng, size, SpecBuilder, t } from "./helpers/specs.js";

function reduceSpec(op: string, dtype: DType, shape: number[], axes: number[], keepDims = false): KernelSpec {
  const b = new SpecBuilder([t(dtype, shape)]);
  return b.build("reduce", [b.add(op, [input(0)], { axes, keepDims })]);
}

const nearOne = (n: number, seed: number): Float32Array => {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => 1 + 0.02 * (r.next() - 0.5));
};

describe.skipIf(!hasGpu)("webgpu reduction codegen", () => {
  const limits = hasGpu ? deviceLimits() : undefined;

  /** Runs `spec` on `data` and compares with the CPU; float sums get a bound from sum|x|. */
  async function check(spec: KernelSpec, data: TypedArray[]): Promise<void> {
    const want = cpuSpec(spec, data);
    const got = await runKernel(generateWgsl(spec, limits!), data.map((d, k) => host(spec.inputs[k]!, d)), spec.outputs);
    const red = spec.nodes[spec.nodes.length - 1]!;
    const isSum = red.op.name === "reduceSum" || red.op.name === "reduceMean";
    spec.outputs.forEach((o, i) => {
      const last = i === spec.outputs.length - 1;
      if (last && isSum && o.dtype === "float32") {
        // The bound: the sum of |x| over the same axes (the reduced operand is an input here).
        const src = red.operands[0] as { input: number };
        const shape = [...spec.inputs[src.input]!.shape];
        const axes = red.attrs["axes"] as number[];
        const bound = cpuSpec(reduceSpec("reduceSum", "float32", shape, axes), [Float32Array.from(data[src.input]!, (v) => Math.abs(v))])[0]!;
        const count = red.op.name === "reduceMean" ? size(axes.map((a) => shape[a]!)) : 1;
        const g = got[i]!;
        const w = want[i]!;
        let bad = "";
        for (let e = 0; e < w.length; e++) {
          const tol = (1e-5 * bound[e]!) / count + 1e-30;
          const ok = Number.isNaN(w[e]!) ? Number.isNaN(g[e]!) : !Number.isFinite(w[e]!) ? g[e] === w[e] : Math.abs(g[e]! - w[e]!) <= tol;
          if (!ok && bad === "") bad = `[${e}] got ${g[e]}, want ${w[e]} (tol ${tol})`;
        }
        expect(bad || undefined, `output ${i}`).toBeUndefined();
      } else {
        // Products of n factors near 1 carry about n/2 roundings in f32: 1e-4 relative up to 10^5 factors.
        const tol = o.dtype !== "float32" ? { rtol: 0, atol: 0 } : red.op.name === "reduceProd" ? { rtol: 1e-4, atol: 1e-30 } : { rtol: 1e-5, atol: 1e-6 };
        expect(mismatch(got[i]!, want[i]!, o, tol), `output ${i}`).toBeUndefined();
      }
    });
  }

  const axisClasses: [string, number[], number[]][] = [
    ["last", [6, 7, 1000], [2]],
    ["first", [1000, 3, 7], [0]],
    ["middle", [5, 1000, 7], [1]],
    ["first and last", [7, 9, 50], [0, 2]],
    ["all", [10, 100, 100], [0, 1, 2]],
    ["length 1", [4, 1, 6], [1]],
    ["long row, few outputs (two-pass)", [2, 100000], [1]],
    ["long column (two-pass)", [100000, 3], [0]],
    ["many short rows", [20000, 7], [1]],
  ];

  it.each(axisClasses)("sum, max and min over %s axes match the CPU", async (_name, shape, axes) => {
    const data = [randomData("float32", size(shape), shape.length + axes.length, { finite: true })];
    for (const op of ["reduceSum", "reduceMax", "reduceMin", "reduceMean"]) await check(reduceSpec(op, "float32", shape, axes), data);
  });

  it("max/min propagate NaN and handle infinities; sums with infinities", async () => {
    const shape = [40, 33];
    const data = [randomData("float32", size(shape), 8)];
    for (const op of ["reduceMax", "reduceMin", "reduceSum", "reduceAny", "reduceAll"]) {
      await check(reduceSpec(op, "float32", shape, [1]), data);
      await check(reduceSpec(op, "float32", shape, [0]), data);
    }
  });

  it("products match the CPU (data near 1)", async () => {
    for (const [shape, axes] of [[[50, 7], [1]], [[3, 3000], [1]], [[100000], [0]]] as [number[], number[]][]) {
      await check(reduceSpec("reduceProd", "float32", shape, axes), [nearOne(size(shape), shape[0]!)]);
    }
  });

  it.each(["int32", "uint8", "bool"] as DType[])("%s reductions match the CPU exactly", async (d) => {
    for (const [shape, axes] of [[[9, 31], [1]], [[300, 5], [0]], [[4, 5000], [0, 1]], [[3, 70000], [1]]] as [number[], number[]][]) {
      const data = [randomData(d, size(shape), 3)];
      for (const op of ["reduceSum", "reduceProd", "reduceMax", "reduceMin", "reduceAny", "reduceAll", "reduceMean"]) {
        await check(reduceSpec(op, d, shape, axes), data);
      }
    }
  });

  it("reads rows in quads for every reducer and dtype (one workgroup per row)", async () => {
    for (const d of ["float32", "int32", "uint8", "bool"] as DType[]) {
      const shape = [260, 1000];
      const data = [randomData(d, size(shape), 12, { finite: true })];
      for (const op of ["reduceSum", "reduceProd", "reduceMax", "reduceMin", "reduceAny", "reduceAll", "reduceMean"]) {
        if (d === "float32" && op === "reduceProd") continue; // products of random floats overflow; covered near 1 above
        const spec = reduceSpec(op, d, shape, [1]);
        expect(generateWgsl(spec, limits!).passes[0]!.code).toContain("(workgroup, vec4)");
        await check(spec, data);
      }
    }
  });

  it("keepDims, empty reduced axes and empty outputs", async () => {
    await check(reduceSpec("reduceSum", "float32", [3, 4, 5], [1], true), [randomData("float32", 60, 1, { finite: true })]);
    for (const op of ["reduceSum", "reduceProd", "reduceMean", "reduceAny", "reduceAll"]) {
      await check(reduceSpec(op, "float32", [3, 0, 2], [1]), [new Float32Array(0)]);
      await check(reduceSpec(op, "float32", [3, 2, 0], [1, 2]), [new Float32Array(0)]);
      await check(reduceSpec(op, "float32", [0, 3, 2], [0, 2]), [new Float32Array(0)]);
    }
    expect(generateWgsl(reduceSpec("reduceSum", "float32", [0, 5], [1]), limits!).passes).toEqual([]);
  });

  it("fuses a producer body and writes extra yields (softmax numerator)", async () => {
    // e = exp(x - m) stored for every element, and sum(e) over the last axis.
    // [300,128] and [260,1024]: one workgroup per row reading quads; [300,130]: rows not whole quads.
    for (const shape of [[8, 33], [2, 100000], [5000, 9], [300, 128], [260, 1024], [300, 130]]) {
      const b = new SpecBuilder([t("float32", shape), t("float32", [shape[0]!, 1])]);
      const e = b.add("exp", [b.add("sub", [input(0), input(1)])]);
      const spec = b.build("reduce", [e, b.add("reduceSum", [e], { axes: [1], keepDims: false })]);
      const data = [randomData("float32", size(shape), 2, { finite: true }), randomData("float32", shape[0]!, 3, { finite: true })];
      const want = cpuSpec(spec, data);
      const kernel = generateWgsl(spec, limits!);
      if (shape[1]! % 4 === 0 && shape[0]! >= 256) expect(kernel.passes[0]!.code).toContain("(workgroup, vec4)");
      const got = await runKernel(kernel, data.map((d, k) => host(spec.inputs[k]!, d)), spec.outputs);
      expect(mismatch(got[0]!, want[0]!, spec.outputs[0]!, { rtol: 1e-5, atol: 1e-30 })).toBeUndefined();
      // exp values are positive: the sum's relative error is bounded directly.
      expect(mismatch(got[1]!, want[1]!, spec.outputs[1]!, { rtol: 2e-5, atol: 1e-30 })).toBeUndefined();
    }
  });
});
