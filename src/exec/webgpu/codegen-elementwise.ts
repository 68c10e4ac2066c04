/**
 * Elementwise kernels over the iteration space (the broadcast of the outputs' shapes).
 *
 * Vector form (the usual one): each invocation handles 4 consecutive elements of the space. This
 * needs the innermost collapsed dim to hold whole quads (its extent a multiple of 4), or a flat
 * space (everything contiguous), where the last quad may be partial. Arrays that advance along the
 * innermost dim are bound as `array<vec4<T>>` and moved with one 16-byte load or store; arrays
 * broadcast along it (stride 0) are bound as scalars and read once per quad. The body is a WGSL
 * function of one element's inputs, called per lane, so the scalar templates serve both forms.
 * A partial last quad reads a whole vec4 (bindings cover whole 16-byte quads: the executor binds
 * sizes rounded up to 16 bytes, inside the pool's buffers) and stores only the lanes that exist.
 *
 * Scalar form (other shapes: an innermost extent not a multiple of 4, tiny spaces): one invocation
 * per element; it turns its flat index into coordinates over the collapsed space (static
 * divisors), loads the inputs at their broadcast offsets, evaluates the body and stores.
 * An output smaller than the space (broadcast) is written by several invocations with the same value.
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

/** Elements each invocation of the vector form handles. */
const LANES = 4;
const LANE = ["x", "y", "z", "w"];

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
  const decls: BindingDecl[] = [
    ...inputs.map((k) => ({ name: `in${k}`, type: storageType(spec.inputs[k]!.dtype), write: false })),
    ...spec.outputs.map((t, o) => ({ name: `out${o}`, type: storageType(t.dtype), write: true })),
  ];
  const bindings: WgslBinding[] = [...inputs.map((k) => ({ kind: "input" as const, index: k })), ...spec.outputs.map((_, o) => ({ kind: "output" as const, index: o }))];
  const vector = vectorPlan(c.dims, c.strides, total);
  const h = new Helpers();
  const pad = "  ";

  if (vector) {
    const { qdims, quads, full, isVec } = vector;
    const g = grid(cdiv(quads, wg), limits.maxComputeWorkgroupsPerDimension, where);
    // The body of one element, as a function of its inputs returning every output.
    const ret = spec.outputs.map((t, o) => `o${o}: ${storageType(t.dtype)}`).join(", ");
    let fnBody = nodeLines(spec, nodes, h, pad, where);
    fnBody += `${pad}return St_out(${spec.yields.map(valueName).join(", ")});\n`;
    const params = inputs.map((k) => `x${k}: ${storageType(spec.inputs[k]!.dtype)}`).join(", ");
    const laneFn = `struct St_out { ${ret} }\nfn st_elem(${params}) -> St_out {\n${fnBody}}\n`;
    const idx = coords("q", qdims, "c", pad);
    const last = qdims.length - 1;
    // Offsets: vec4 arrays count quads (outer strides / 4, innermost coordinate as is); scalar arrays skip the innermost coordinate.
    const off = (a: number): string => {
      const s = c.strides[a]!;
      if (isVec[a]) return offsetExpr(idx.names, s.map((x, d) => (d === last ? 1 : x / LANES)));
      return offsetExpr(idx.names, s.map((x, d) => (d === last ? 0 : x)));
    };
    let body = idx.lines;
    inputs.forEach((k, a) => (body += `${pad}let x${k} = in${k}[${off(a)}];\n`));
    for (let l = 0; l < LANES; l++) {
      const args = inputs.map((k, a) => (isVec[a] ? `x${k}.${LANE[l]}` : `x${k}`)).join(", ");
      body += `${pad}let r${l} = st_elem(${args});\n`;
    }
    spec.outputs.forEach((t, o) => {
      const a = inputs.length + o;
      const T = storageType(t.dtype);
      if (!isVec[a]) {
        body += `${pad}out${o}[${off(a)}] = r0.o${o};\n`;
        return;
      }
      const v = `vec4<${T}>(${[0, 1, 2, 3].map((l) => `r${l}.o${o}`).join(", ")})`;
      if (full === quads) body += `${pad}out${o}[${off(a)}] = ${v};\n`;
      else {
        // The last quad of a flat space is partial: store only the lanes inside the tensor.
        body += `${pad}if (q < ${full}u) { out${o}[${off(a)}] = ${v}; } else {\n`;
        for (let l = 0; l < total - full * LANES; l++) body += `${pad}  out${o}[${off(a)}].${LANE[l]} = r${l}.o${o};\n`;
        body += `${pad}}\n`;
      }
    });
    decls.forEach((d, a) => {
      if (isVec[a]) decls[a] = { ...d, type: `vec4<${d.type}>` };
    });
    const code =
      `// elementwise over [${space.join(",")}], ${LANES} elements per invocation\n${declareBindings(decls)}${h.code()}${laneFn}` +
      `@compute @workgroup_size(${wg})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n` +
      `  let q = ${groupIndex(g)} * ${wg}u + lid;\n  if (q >= ${quads}u) { return; }\n${body}}\n`;
    return { passes: [{ code, entryPoint: "main", workgroups: g, bindings }], scratch: [] };
  }

  const g = grid(cdiv(total, wg), limits.maxComputeWorkgroupsPerDimension, where);
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
  const code =
    `// elementwise over [${space.join(",")}]\n${declareBindings(decls)}${h.code()}` +
    `@compute @workgroup_size(${wg})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n` +
    `  let i = ${groupIndex(g)} * ${wg}u + lid;\n  if (i >= ${total}u) { return; }\n${body}}\n`;
  return { passes: [{ code, entryPoint: "main", workgroups: g, bindings }], scratch: [] };
}

/**
 * Whether the vector form applies, and its geometry: the quad space `qdims` (the innermost dim
 * divided by 4, rounded up for a flat space), the quad count, how many quads are full, and per
 * array (inputs, then outputs) whether it is bound as vec4 (innermost stride 1) or scalar
 * (innermost stride 0). Undefined when the innermost extent splits quads across rows, or an
 * array's layout does not fit (strides of a vec4 array must be multiples of 4 outside the innermost dim).
 */
function vectorPlan(dims: readonly number[], strides: readonly (readonly number[])[], total: number) {
  if (dims.length === 0 || total < 2 * LANES) return undefined;
  const last = dims.length - 1;
  const inner = dims[last]!;
  const flat = dims.length === 1;
  if (!flat && inner % LANES !== 0) return undefined;
  const isVec: boolean[] = [];
  for (const s of strides) {
    const t = s[last]!;
    if (t !== 0 && t !== 1) return undefined;
    if (t === 1 && s.some((x, d) => d !== last && x % LANES !== 0)) return undefined;
    isVec.push(t === 1);
  }
  // With nothing to vectorize the scalar form is as good, and simpler.
  if (!isVec.some((v) => v)) return undefined;
  const qdims = [...dims.slice(0, last), cdiv(inner, LANES)];
  return { qdims, quads: sizeOf(qdims), full: Math.floor(total / LANES), isVec };
}
