/**
 * Matmul throughput of the generated WGSL kernel, for a real GPU (informational; not a test):
 *   npx tsx tests/webgpu/helpers/bench-matmul.ts [sizes...]   (default 512 1024 2048 4096)
 * Prints, per size and per tiling, the median time of 5 runs and GFLOP/s, plus a spot check of
 * one output row against a float64 dot product (max relative error).
 */
import { generateWgsl } from "../../../src/exec/webgpu/codegen.js";
import { genMatmul, MATMUL_CANDIDATES, MATMUL_CONFIGS, type MatmulConfig } from "../../../src/exec/webgpu/codegen-matmul.js";
import { deviceLimits, gpuName, hasGpu, runKernel, timeKernel } from "./gpu.js";
import { host, input, randomData, SpecBuilder, t } from "./specs.js";

if (!hasGpu) {
  console.log("no WebGPU device");
  process.exit(1);
}
const limits = deviceLimits();
/**
 * Tilings that only the sweep tries (to decide whether one should replace a default): the k8 baseline
 * (best at 4096 in the last H200 sweep) and 128x64, plus the candidates in MATMUL_CANDIDATES (A tile
 * row-major, vec4 stores, 128x256 / 256x128 tiles). Dropped after the last sweep: large-k32,
 * large-db, medium-db (each slower than large at 2048-8192 on the H200).
 */
const EXTRA: Record<string, MatmulConfig> = {
  "large-k8": { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
  "128x64": { bm: 128, bn: 64, bk: 16, tm: 8, tn: 4 },
  ...MATMUL_CANDIDATES,
};
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
console.log(`device: ${gpuName()}`);
for (const n of sizes.length ? sizes : [512, 1024, 2048, 4096]) {
  const sb = new SpecBuilder([t("float32", [n, n]), t("float32", [n, n])]);
  const spec = sb.build("matmul", [sb.add("matmul", [input(0), input(1)])]);
  const data = [randomData("float32", n * n, 1, { finite: true, scale: 1 }), randomData("float32", n * n, 2, { finite: true, scale: 1 })];
  const inputs = data.map((d, k) => host(spec.inputs[k]!, d));
  const configs: [string, MatmulConfig][] = [...Object.entries(MATMUL_CONFIGS), ...Object.entries(EXTRA)];
  const kernels = [["auto", generateWgsl(spec, limits)], ...configs.map(([name, cfg]) => [name, { key: "", hash: "", ...genMatmul(spec, limits, "bench", cfg) }] as const)] as const;
  for (const [name, kernel] of kernels) {
    let ms: number;
    try {
      ms = await timeKernel(kernel, inputs, spec.outputs, 5);
    } catch (err) {
      console.log(`matmul ${n}: ${name.padEnd(18)} failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
      continue;
    }
    const [c] = await runKernel(kernel, inputs, spec.outputs);
    let err = 0;
    const row = n >> 1;
    for (let j = 0; j < n; j += Math.max(1, n >> 6)) {
      let s = 0;
      let a = 0;
      for (let k = 0; k < n; k++) {
        s += data[0]![row * n + k]! * data[1]![k * n + j]!;
        a += Math.abs(data[0]![row * n + k]! * data[1]![k * n + j]!);
      }
      err = Math.max(err, Math.abs(c![row * n + j]! - s) / a);
    }
    console.log(`matmul ${n}: ${name.padEnd(18)} ${ms.toFixed(2).padStart(9)} ms ${((2 * n ** 3) / ms / 1e6).toFixed(1).padStart(9)} GFLOP/s  max err/sum|ab| ${err.toExponential(1)}`);
  }
}
process.exit(0);
