/**
 * Elementwise kernels: one invocation per element of the iteration space (the broadcast of the
 * outputs' shapes). Each invocation turns its flat index into coordinates over the collapsed space
 * (static divisors), loads the inputs it needs at their broadcast offsets, evaluates the body as
 * WGSL `let`s and stores every output. An output smaller than the space (broadcast) is written by
 * several invocations with the same value.
 */
import { sizeOf } from "../../ir/shape.js";
import { collapse } from "../cpu/codegen-loops.js";
import type { KernelSpec } from "../cpu/codegen-fused.js";
import { needed, nodeLines, resultSpace, stridesIn, valueName } from "./codegen-body.js";
import type { WgslBinding, WgslLimits, WgslPass } from "./codegen.js";
import { type BindingDecl, cdiv, coords, declareBindings, grid, groupIndex, isContiguous, offsetExpr, storageType } from "./wgsl-common.js";
import { Helpers } from "./wgsl-scalar.js";

/** Threads per workgroup for flat kernels. */
export function flatWorkgroup(limits: WgslLimits): number {
  return Math.min(256, limits.maxComputeWorkgroupSizeX, limits.maxComputeInvocationsPerWorkgroup);
}

export function genElementwise(spec: KernelSpec, limits: WgslLimits, where: string): { passes: WgslPass[]; scratch: number[] } {
  const space = resultSpace(spec, where);
  const total = sizeOf(space);
  if (total === 0 || spec.outputs.length === 0) return { passes: [], scratch: [] };
  const { nodes, inputs } = needed(spec, spec.yields);
  for (const j of nodes) stridesIn(spec.nodes[j]!.type.shape, space, `body node ${j} (${spec.nodes[j]!.op.name})`, where);
  const strides = [
    ...inputs.map((k) => stridesIn(spec.inputs[k]!.shape, space, `input ${k}`, where)),
    ...spec.outputs.map((t, o) => stridesIn(t.shape, space, `result ${o}`, where)),
  ];
  const c = collapse(space, strides);
  const wg = flatWorkgroup(limits);
  const g = grid(cdiv(total, wg), limits.maxComputeWorkgroupsPerDimension, where);
  const h = new Helpers();
  const pad = "  ";
  const idx = coords("i", c.dims, "c", pad);
  const off = (s: readonly number[]): string => (isContiguous(c.dims, s) ? "i" : offsetExpr(idx.names, s));
  const needsCoords = c.strides.some((s) => !isContiguous(c.dims, s) && s.some((x) => x !== 0));
  let body = needsCoords ? idx.lines : "";
  inputs.forEach((k, n) => {
    body += `${pad}let x${k} = in${k}[${off(c.strides[n]!)}];\n`;
  });
  body += nodeLines(spec, nodes, h, pad, where);
  spec.yields.forEach((r, o) => {
    body += `${pad}out${o}[${off(c.strides[inputs.length + o]!)}] = ${valueName(r)};\n`;
  });
  const decls: BindingDecl[] = [
    ...inputs.map((k) => ({ name: `in${k}`, type: storageType(spec.inputs[k]!.dtype), write: false })),
    ...spec.outputs.map((t, o) => ({ name: `out${o}`, type: storageType(t.dtype), write: true })),
  ];
  const bindings: WgslBinding[] = [...inputs.map((k) => ({ kind: "input" as const, index: k })), ...spec.outputs.map((_, o) => ({ kind: "output" as const, index: o }))];
  const code =
    `// elementwise over [${space.join(",")}]\n${declareBindings(decls)}${h.code()}` +
    `@compute @workgroup_size(${wg})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n` +
    `  let i = ${groupIndex(g)} * ${wg}u + lid;\n  if (i >= ${total}u) { return; }\n${body}}\n`;
  return { passes: [{ code, entryPoint: "main", workgroups: g, bindings }], scratch: [] };
}
