/**
 * NumPy dot on the GPU through the tiled matmul generator. dotPlan reads a as p x k and b as q
 * stacked k x n matrices, and the output [p, q, n] holds out[i, j, c] = Σ a[i, t] b[j, t, c].
 *
 * - q = 1 (b is 1-D or 2-D): one [p, k] x [k, n] matmul; its [p, n] result is the output's layout.
 * - p = 1 (a is 1-D): a [1, k] x [q, k, n] batched matmul (a broadcast over the batch) gives
 *   [q, 1, n], the output's layout again.
 * - otherwise the same batched matmul writes [q, p, n] into a scratch buffer and a copy pass
 *   permutes it to [p, q, n].
 * The buffers are the operands' own (row-major data is the same for these reshaped views), so
 * nothing is copied in. Accuracy is the matmul kernel's (float32 sums in f32, integers wrap).
 */
import { dotPlan } from "../../ir/ops/linalg.js";
import { getOp } from "../../ir/registry.js";
import type { TensorType } from "../../ir/types.js";
import type { KernelSpec } from "../cpu/codegen-fused.js";
import type { WgslBinding, WgslLimits, WgslPass } from "./codegen.js";
import { flatWorkgroup } from "./codegen-elementwise.js";
import { genMatmul } from "./codegen-matmul.js";
import { cdiv, declareBindings, grid, groupIndex, storageType } from "./wgsl-common.js";

type Made = { passes: WgslPass[]; scratch: number[] };

function matmulSpec(a: TensorType, b: TensorType, o: TensorType): KernelSpec {
  return { kind: "matmul", inputs: [a, b], nodes: [{ op: getOp("matmul"), operands: [{ input: 0 }, { input: 1 }], attrs: {}, type: o }], yields: [{ node: 0 }], outputs: [o] };
}

export function genDot(inputs: readonly TensorType[], outputs: readonly TensorType[], limits: WgslLimits, where: string): Made {
  const [a, b] = inputs as [TensorType, TensorType];
  const out = outputs[0]!;
  const { p, q, k, n } = dotPlan(a, b);
  const dtype = out.dtype;
  if (p * q * n === 0) return { passes: [], scratch: [] };
  const a2: TensorType = { dtype: a.dtype, shape: [p, k] };
  if (q === 1) return genMatmul(matmulSpec(a2, { dtype: b.dtype, shape: [k, n] }, { dtype, shape: [p, n] }), limits, where);
  const b3: TensorType = { dtype: b.dtype, shape: [q, k, n] };
  const prod: TensorType = { dtype, shape: [q, p, n] };
  const mm = genMatmul(matmulSpec(a2, b3, prod), limits, where);
  if (p === 1) return mm;
  // The product goes to a scratch buffer after the matmul's own, then one invocation per output element permutes it.
  const slot = mm.scratch.length;
  const toScratch = (x: WgslBinding): WgslBinding => (x.kind === "output" ? { kind: "scratch", index: slot } : x);
  const passes = mm.passes.map((ps) => ({ ...ps, bindings: ps.bindings.map(toScratch) }));
  const total = p * q * n;
  const wg = flatWorkgroup(limits);
  const g = grid(cdiv(total, wg), limits.maxComputeWorkgroupsPerDimension, where);
  const T = storageType(dtype);
  const code =
    `// dot: [q, p, n] product -> [p, q, n]\n` +
    declareBindings([{ name: "prod", type: T, write: false }, { name: "out0", type: T, write: true }]) +
    `@compute @workgroup_size(${wg})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n` +
    `  let i = ${groupIndex(g)} * ${wg}u + lid;\n  if (i >= ${total}u) { return; }\n` +
    `  let c = i % ${n}u;\n  let j = (i / ${n}u) % ${q}u;\n  let r = i / ${q * n}u;\n  out0[i] = prod[(j * ${p}u + r) * ${n}u + c];\n}\n`;
  passes.push({ code, entryPoint: "main", workgroups: g, bindings: [{ kind: "scratch", index: slot }, { kind: "output", index: 0 }] });
  return { passes, scratch: [...mm.scratch, 4 * total] };
}
