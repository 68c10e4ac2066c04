/**
 * Matmul WGSL kernels against the CPU: plain, batched, broadcast batch, 1-D operands, integer and
 * bool dtypes, edges that are not multiples of the tile, each tiling, and fused epilogues.
 * Float tolerance: |got - want| <= 1e-5 * sum_k |a_ik * b_kj| + 1e-30 (the GPU sums k terms in f32,
 * the CPU in float64), a bound computed by running the CPU matmul on |a| and |b|.
 */
import { describe, expect, it } from "vitest";
import type { KernelSpec } from "../../src/exec/cpu/codegen-fused.js";
import { generateWgsl, type WgslKernel } from "../../src/exec/webgpu/codegen.js";
import { genMatmul, MATMUL_CANDIDATES, type MatmulConfig, MATMUL_CONFIGS, matmulSharedBytes } from "../../src/exec/webgpu/codegen-matmul.js";
import type { DType, TypedArray } from "../../src/ir/dtype.js";
import type { TensorType } from "../../src/ir/types.js";
import { deviceLimits, gpuName, hasGpu, runKernel, timeKernel } from "./helpers/gpu.js";
import { cpuSpec, host, input, mismatch, randomData, size, SpecBuilder, t } from "./helpers/specs.js";

function matmulSpec(a: TensorType, b: TensorType, epilogue?: (sb: SpecBuilder) => { yields: ReturnType<SpecBuilder["add"]>[] }, extra: TensorType[] = []): KernelSpec {
  const sb = new SpecBuilder([a, b, ...extra]);
  const mm = sb.add("matmul", [input(0), input(1)]);
  return sb.build("matmul", epilogue ? epilogue(sb).yields : [mm]);
}

const abs = (x: TypedArray): TypedArray => x.map((v) => Math.abs(v)) as TypedArray;

describe.skipIf(!hasGpu)("webgpu matmul codegen", () => {
  const limits = hasGpu ? deviceLimits() : undefined;

  async function check(spec: KernelSpec, seed: number, kernel?: WgslKernel): Promise<void> {
    const dtype = spec.inputs[0]!.dtype;
    const data = spec.inputs.map((ty, k) => randomData(ty.dtype, size(ty.shape), seed + k, { finite: true, scale: 2 }));
    const want = cpuSpec(spec, data);
    const got = await runKernel(kernel ?? generateWgsl(spec, limits!), data.map((d, k) => host(spec.inputs[k]!, d)), spec.outputs);
    if (dtype !== "float32") {
      spec.outputs.forEach((o, i) => expect(mismatch(got[i]!, want[i]!, o, { rtol: 0, atol: 0 }), `output ${i}`).toBeUndefined());
      return;
    }
    // The bound: the same spec's matmul on |a|, |b| (only the plain product is bounded this way).
    const bound = cpuSpec(matmulSpec(spec.inputs[0]!, spec.inputs[1]!), [abs(data[0]!), abs(data[1]!)])[0]!;
    spec.outputs.forEach((o, i) => {
      const g = got[i]!;
      const w = want[i]!;
      let bad = 0;
      let first = "";
      for (let e = 0; e < w.length; e++) {
        const tol = 1e-5 * (bound[e % bound.length]! + 1) + 1e-30;
        if (!(Math.abs(g[e]! - w[e]!) <= tol) && !(Number.isNaN(g[e]!) && Number.isNaN(w[e]!))) {
          if (bad++ === 0) first = `[${e}] got ${g[e]}, want ${w[e]} (tol ${tol})`;
        }
      }
      expect(bad === 0 ? undefined : `${bad} of ${w.length} differ; first ${first}`, `output ${i}`).toBeUndefined();
    });
  }

  const shapes: [string, number[], number[]][] = [
    ["1x1x1", [1, 1], [1, 1]],
    ["3x5 @ 5x7", [3, 5], [5, 7]],
    ["65x130 @ 130x33 (edges)", [65, 130], [130, 33]],
    ["64x128 @ 128x64 (exact tiles, vec4 loads)", [64, 128], [128, 64]],
    ["batched 3x17x9 @ 3x9x12", [3, 17, 9], [3, 9, 12]],
    ["broadcast batch 2x1x6x5 @ 3x5x4", [2, 1, 6, 5], [3, 5, 4]],
    ["shared b 4x10x8 @ 8x6", [4, 10, 8], [8, 6]],
    ["1-D a: 7 @ 7x5", [7], [7, 5]],
    ["1-D b: 2x6x7 @ 7", [2, 6, 7], [7]],
    ["both 1-D: 9 @ 9", [9], [9]],
    ["k = 0: 3x0 @ 0x4", [3, 0], [0, 4]],
  ];

  it.each(shapes)("%s matches the CPU", async (_name, a, b) => {
    await check(matmulSpec(t("float32", a), t("float32", b)), a.length * 10 + b.length);
  });

  it.each(["int32", "uint8", "bool"] as DType[])("%s matmul matches the CPU exactly", async (d) => {
    await check(matmulSpec(t(d, [2, 19, 13]), t(d, [13, 21])), 4);
    await check(matmulSpec(t(d, [33, 12]), t(d, [12, 8])), 5);
  });

  // The defaults and every candidate the GPU sweep compares (tests/webgpu/helpers/bench-matmul.ts).
  const configs = [...Object.entries(MATMUL_CONFIGS), ...Object.entries(MATMUL_CANDIDATES)] as [string, MatmulConfig][];
  it.each(configs)("the %s tiling handles edges in M, N and K", async (_name, cfg) => {
    for (const [m, k, n] of [[130, 37, 67], [5, 16, 128], [129, 8, 1]] as const) {
      const spec = matmulSpec(t("float32", [m, k]), t("float32", [k, n]));
      const made = genMatmul(spec, limits!, "test", cfg);
      await check(spec, m + n, { key: "", hash: "", ...made });
    }
  });

  it.each(configs)("the %s tiling on whole tiles (no bounds checks), double- and single-buffered", async (_name, cfg) => {
    const [m, k, n] = [2 * cfg.bm, 3 * cfg.bk, 2 * cfg.bn];
    const spec = matmulSpec(t("float32", [2, m, k]), t("float32", [k, n]));
    const made = genMatmul(spec, limits!, "test", { ...cfg, double: true });
    expect(made.passes[0]!.code).toContain("whole tiles");
    // The variants asked for are the ones generated (the plain product qualifies for vec4 stores).
    if (cfg.aRows) expect(made.passes[0]!.code).toContain("A rows");
    if (cfg.vecStore) expect(made.passes[0]!.code).toContain("vec4 stores");
    else expect(made.passes[0]!.code).not.toContain("vec4 stores");
    // Double buffering only where two tile buffers fit the device's workgroup memory.
    const twoFit = 2 * matmulSharedBytes(cfg) <= limits!.maxComputeWorkgroupStorageSize;
    if (twoFit) expect(made.passes[0]!.code).toContain("double-buffered");
    else expect(made.passes[0]!.code).not.toContain("double-buffered");
    await check(spec, 40 + cfg.bm, { key: "", hash: "", ...made });
    // Single-buffered: the default tiling, and what a device whose workgroup memory holds one
    // tile buffer only gets even when double buffering is asked for.
    expect(genMatmul(spec, limits!, "test", cfg).passes[0]!.code).not.toContain("double-buffered");
    const one = matmulSharedBytes(cfg);
    const single = genMatmul(spec, { ...limits!, maxComputeWorkgroupStorageSize: one }, "test", { ...cfg, double: true });
    expect(single.passes[0]!.code).not.toContain("double-buffered");
    await check(spec, 50 + cfg.bm, { key: "", hash: "", ...single });
  });

  it("fuses an epilogue: bias, gelu, a residual and a cast, with broadcast operands", async () => {
    const bias = t("float32", [12]);
    const resid = t("float32", [2, 1, 12]);
    const spec = matmulSpec(t("float32", [2, 9, 7]), t("float32", [7, 12]), (sb) => {
      const y = sb.add("add", [{ node: 0 }, input(2)]);
      const g = sb.add("gelu", [y], { approximate: true });
      return { yields: [sb.add("mul", [g, input(3)])] };
    }, [bias, resid]);
    await check(spec, 21);
    const ints = matmulSpec(t("int32", [5, 6]), t("int32", [6, 3]), (sb) => {
      const c = sb.add("cast", [{ node: 0 }], { dtype: "float32" });
      return { yields: [sb.add("greater", [c, sb.add("mul", [c, input(2)])])] };
    }, [t("float32", [3])]);
    await check(ints, 22);
  });

  it("vec4 stores fall back to the scalar epilogue where they cannot apply", async () => {
    const cfg: MatmulConfig = { bm: 32, bn: 32, bk: 16, tm: 4, tn: 4, aRows: true, vecStore: true };
    // An epilogue (bias add), N % 4 != 0, and a uint8 product (masked to 8 bits) all store scalars.
    const bias = matmulSpec(t("float32", [2, 40, 24]), t("float32", [24, 36]), (sb) => ({ yields: [sb.add("add", [{ node: 0 }, input(2)])] }), [t("float32", [36])]);
    const odd = matmulSpec(t("float32", [33, 20]), t("float32", [20, 30]));
    const u8 = matmulSpec(t("uint8", [33, 20]), t("uint8", [20, 36]));
    for (const [i, spec] of [bias, odd, u8].entries()) {
      const made = genMatmul(spec, limits!, "test", cfg);
      expect(made.passes[0]!.code).not.toContain("vec4 stores");
      expect(made.passes[0]!.code).toContain("A rows");
      await check(spec, 60 + i, { key: "", hash: "", ...made });
    }
    // Batched with a shared b and edges in M and N (N % 4 == 0): vec4 stores with bounds checks.
    const edges = matmulSpec(t("float32", [3, 37, 20]), t("float32", [20, 44]));
    const made = genMatmul(edges, limits!, "test", cfg);
    expect(made.passes[0]!.code).toContain("vec4 stores");
    await check(edges, 70, { key: "", hash: "", ...made });
  });

  it("reports matmul throughput at 512 (informational)", async () => {
    const n = 512;
    const spec = matmulSpec(t("float32", [n, n]), t("float32", [n, n]));
    const data = [randomData("float32", n * n, 1, { finite: true }), randomData("float32", n * n, 2, { finite: true })];
    const ms = await timeKernel(generateWgsl(spec, limits!), data.map((d, k) => host(spec.inputs[k]!, d)), spec.outputs, 3);
    console.log(`webgpu matmul ${n}: ${ms.toFixed(1)} ms, ${((2 * n ** 3) / ms / 1e6).toFixed(2)} GFLOP/s on ${gpuName()}`);
    expect(ms).toBeGreaterThan(0);
  });
});
