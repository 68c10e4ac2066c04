/**
 * Reduction kernels (`kind: "reduce"` specs: elementwise body, then one reduction over any axes of
 * its input, with optional extra yields of the input's shape written by the same pass).
 *
 * The space (the reduction's input shape) is collapsed into kept and reduced dims; output element
 * k (row-major over the kept dims) reduces R elements. Three schemes, by shape:
 *   serial     one invocation per output, looping over R (short reductions, or many outputs whose
 *              neighbours read neighbouring memory: reductions over leading axes)
 *   workgroup  one workgroup per output: each invocation accumulates a strided share of R, then a
 *              tree reduction in workgroup memory
 *   two-pass   few outputs with long reductions: G workgroups per output write partial results to
 *              a scratch buffer, a second pass reduces the G partials of each output by a tree
 * Every element of the space is visited exactly once, so extra yields are stored where they are
 * computed. Float sums accumulate with Kahan compensation in each invocation's loop (the CPU sums
 * in float64); products, max/min (NaN propagating) and any/all combine in the storage type.
 */
import { ValueError } from "../../ir/errors.js";
import { sizeOf, stridesOf } from "../../ir/shape.js";
import { collapse } from "../cpu/codegen-loops.js";
import type { KernelSpec } from "../cpu/codegen-fused.js";
import { needed, nodeLines, refType, stridesIn, valueName } from "./codegen-body.js";
import type { WgslBinding, WgslLimits, WgslPass } from "./codegen.js";
import { flatWorkgroup } from "./codegen-elementwise.js";
import { type BindingDecl, cdiv, coords, declareBindings, grid, groupIndex, offsetExpr, storageType, type WgslScalar } from "./wgsl-common.js";
import { Helpers } from "./wgsl-scalar.js";

/** How a reduction accumulates, in WGSL. */
export interface WReducer {
  readonly acc: WgslScalar;
  readonly init: string;
  /** An element (in its storage type) as an accumulator value. */
  map(v: string): string;
  combine(a: string, b: string): string;
  final(a: string): string;
  /** Float sums: compensated accumulation in loops. */
  readonly kahan: boolean;
}

const keep = (x: string): string => x;

/** The reducer of `op` over elements of storage type `inT` producing storage type `outT`; undefined when not a reduction the GPU generates. */
export function reducerFor(op: string, inT: WgslScalar, outT: WgslScalar, count: number, h: Helpers): WReducer | undefined {
  const toAcc = (acc: WgslScalar) => (v: string) => (inT === acc ? v : `${acc}(${v})`);
  switch (op) {
    case "reduceSum":
      return outT === "f32"
        ? { acc: "f32", init: "0.0", map: keep, combine: (a, b) => `(${a} + ${b})`, final: keep, kahan: true }
        : { acc: "i32", init: "0i", map: toAcc("i32"), combine: (a, b) => `(${a} + ${b})`, final: keep, kahan: false };
    case "reduceMean":
      return { acc: "f32", init: "0.0", map: toAcc("f32"), combine: (a, b) => `(${a} + ${b})`, final: (a) => `(${a} / ${count}.0)`, kahan: true };
    case "reduceProd":
      return outT === "f32"
        ? { acc: "f32", init: "1.0", map: keep, combine: (a, b) => `(${a} * ${b})`, final: keep, kahan: false }
        : { acc: "i32", init: "1i", map: toAcc("i32"), combine: (a, b) => `(${a} * ${b})`, final: keep, kahan: false };
    case "reduceMax":
    case "reduceMin": {
      const isMax = op === "reduceMax";
      if (inT === "f32") {
        h.use("st_max");
        return { acc: "f32", init: isMax ? "(-st_inf())" : "st_inf()", map: keep, combine: (a, b) => `${isMax ? "st_max" : "st_min"}(${a}, ${b})`, final: keep, kahan: false };
      }
      const init = inT === "i32" ? (isMax ? "(-2147483647i - 1i)" : "2147483647i") : isMax ? "0u" : "0xffffffffu";
      return { acc: inT, init, map: keep, combine: (a, b) => `${isMax ? "max" : "min"}(${a}, ${b})`, final: keep, kahan: false };
    }
    case "reduceAny":
    case "reduceAll": {
      const truthy = (v: string): string => {
        if (inT !== "f32") return `select(0u, 1u, ${v} != ${inT === "i32" ? "0i" : "0u"})`;
        h.use("st_bits");
        return `select(0u, 1u, st_truthy(${v}))`;
      };
      return op === "reduceAny"
        ? { acc: "u32", init: "0u", map: truthy, combine: (a, b) => `(${a} | ${b})`, final: keep, kahan: false }
        : { acc: "u32", init: "1u", map: truthy, combine: (a, b) => `(${a} & ${b})`, final: keep, kahan: false };
    }
  }
  return undefined;
}

/** `acc = combine(acc, v)` (with Kahan compensation for float sums; infinities keep the compensation at 0). */
function update(r: WReducer, v: string, pad: string): string {
  if (!r.kahan) return `${pad}acc = ${r.combine("acc", r.map(v))};\n`;
  return `${pad}{ let y = ${r.map(v)} - comp; let s = acc + y; comp = select(0.0, (s - acc) - y, st_isfinite(s)); acc = s; }\n`;
}

/** A tree reduction of `acc` over the workgroup; afterwards `red[0]` holds the workgroup's result. */
function tree(r: WReducer, wg: number, pad: string): string {
  return (
    `${pad}red[lid] = acc;\n${pad}workgroupBarrier();\n` +
    `${pad}for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {\n${pad}  if (lid < s) { red[lid] = ${r.combine("red[lid]", "red[lid + s]")}; }\n${pad}  workgroupBarrier();\n${pad}}\n`
  );
}

type Scheme = "serial" | "workgroup" | "two-pass";

/**
 * Whether rows can be read in quads: the reduction is over the innermost collapsed dim alone, R
 * is a multiple of 4, and each array either advances along it with stride 1 (then its kept
 * strides are multiples of 4 and it is bound as vec4) or does not move (stride 0, bound as
 * scalars). Per array, whether it is vec4; undefined when the form does not apply.
 */
function vectorRows(dims: readonly number[], strides: readonly (readonly number[])[], tags: readonly boolean[], R: number): boolean[] | undefined {
  const last = dims.length - 1;
  if (last < 0 || R % 4 !== 0 || !tags[last] || tags.filter((t) => t).length !== 1) return undefined;
  const vec: boolean[] = [];
  for (const s of strides) {
    const t = s[last]!;
    if (t !== 0 && t !== 1) return undefined;
    if (t === 1 && s.some((x, d) => d !== last && x % 4 !== 0)) return undefined;
    vec.push(t === 1);
  }
  return vec.some((v) => v) ? vec : undefined;
}

export function genReduce(spec: KernelSpec, limits: WgslLimits, where: string): { passes: WgslPass[]; scratch: number[] } {
  const last = spec.nodes.length - 1;
  const red = spec.nodes[last]!;
  const src = red.operands[0]!;
  const space = refType(spec, src).shape;
  const axes = red.attrs["axes"] as readonly number[];
  const isReduced = space.map((_, d) => axes.includes(d));
  const R = sizeOf(axes.map((a) => space[a]!));
  const ro = spec.outputs.length - 1;
  const out = spec.outputs[ro]!;
  const K = sizeOf(out.shape);
  const h = new Helpers();
  const inT = storageType(refType(spec, src).dtype);
  const outT = storageType(out.dtype);
  const r = reducerFor(red.op.name, inT, outT, R, h);
  if (!r) throw new ValueError(`${where}: ${red.op.name} has no generated WGSL reduction`);
  if (r.kahan) h.use("st_bits");
  const wg = flatWorkgroup(limits);
  if (K === 0) return { passes: [], scratch: [] };
  if (R === 0) {
    // Nothing to reduce: every output is the reducer's empty value (no space elements, so no extra yields).
    if (red.op.name === "reduceMax" || red.op.name === "reduceMin") throw new ValueError(`${where}: ${red.op.name} over an empty axis has no identity`);
    const g = grid(cdiv(K, wg), limits.maxComputeWorkgroupsPerDimension, where);
    const code =
      `${declareBindings([{ name: `out${ro}`, type: outT, write: true }])}${h.code()}` +
      `@compute @workgroup_size(${wg})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n` +
      `  let i = ${groupIndex(g)} * ${wg}u + lid;\n  if (i >= ${K}u) { return; }\n  let acc = ${r.init};\n  out${ro}[i] = ${r.final("acc")};\n}\n`;
    return { passes: [{ code, entryPoint: "main", workgroups: g, bindings: [{ kind: "output", index: ro }] }], scratch: [] };
  }

  const extras = spec.yields.slice(0, -1);
  const { nodes, inputs } = needed(spec, [src, ...extras], new Set([last]));
  for (const j of nodes) stridesIn(spec.nodes[j]!.type.shape, space, `body node ${j} (${spec.nodes[j]!.op.name})`, where);
  const spaceStrides = stridesOf(space);
  const strides = [...inputs.map((k) => stridesIn(spec.inputs[k]!.shape, space, `input ${k}`, where)), ...extras.map(() => spaceStrides)];
  const c = collapse(space, strides, isReduced);
  const keptIdx = c.dims.flatMap((_, d) => (c.tags[d] ? [] : [d]));
  const redIdx = c.dims.flatMap((_, d) => (c.tags[d] ? [d] : []));
  const keptDims = keptIdx.map((d) => c.dims[d]!);
  const redDims = redIdx.map((d) => c.dims[d]!);
  const arrays = strides.length;
  const keptStrides = (a: number) => keptIdx.map((d) => c.strides[a]![d]!);
  const redStrides = (a: number) => redIdx.map((d) => c.strides[a]![d]!);
  // Neighbouring outputs read neighbouring memory when the innermost collapsed dim is kept.
  const column = c.tags.length > 0 && !c.tags[c.tags.length - 1];
  const scheme: Scheme = R <= 64 || (K >= 8192 && R <= 1024) || (column && K >= 4096) ? "serial" : K >= 256 || R <= wg * 64 ? "workgroup" : "two-pass";

  // Binding declarations: inputs, extra outputs, the reduced output, and (two-pass) the scratch.
  const decls: BindingDecl[] = [
    ...inputs.map((k) => ({ name: `in${k}`, type: storageType(spec.inputs[k]!.dtype), write: false })),
    ...extras.map((_, o) => ({ name: `out${o}`, type: storageType(spec.outputs[o]!.dtype), write: true })),
  ];
  const bindings: WgslBinding[] = [...inputs.map((k) => ({ kind: "input" as const, index: k })), ...extras.map((_, o) => ({ kind: "output" as const, index: o }))];

  /** The loop body for element r of output k: loads at base + reduced offset, body, extra stores, accumulation. */
  const element = (rVar: string, pad: string): string => {
    const rc = coords(rVar, redDims, "rc", pad);
    let s = rc.lines;
    const off = (a: number): string => {
      const ro2 = offsetExpr(rc.names, redStrides(a));
      return ro2 === "0u" ? `base${a}` : `base${a} + ${ro2}`;
    };
    inputs.forEach((k, a) => (s += `${pad}let x${k} = in${k}[${off(a)}];\n`));
    s += nodeLines(spec, nodes, h, pad, where);
    extras.forEach((e, o) => (s += `${pad}out${o}[${off(inputs.length + o)}] = ${valueName(e)};\n`));
    return s + update(r, valueName(src), pad);
  };
  /** Per-array base offsets of output k (the kept coordinates). */
  const bases = (kVar: string, pad: string): string => {
    const kc = coords(kVar, keptDims, "kc", pad);
    let s = kc.lines;
    for (let a = 0; a < arrays; a++) s += `${pad}let base${a} = ${offsetExpr(kc.names, keptStrides(a))};\n`;
    return s;
  };
  const accDecl = (pad: string): string => `${pad}var acc: ${r.acc} = ${r.init};\n${r.kahan ? `${pad}var comp = 0.0;\n` : ""}`;
  const header = (extra: BindingDecl[], shared: boolean, groupSize: number) =>
    declareBindings([...decls, ...extra]) + (shared ? `var<workgroup> red: array<${r.acc}, ${groupSize}>;\n` : "") + h.code();
  const entry = (groupSize: number) =>
    `@compute @workgroup_size(${groupSize})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n`;
  const outDecl: BindingDecl = { name: `out${ro}`, type: outT, write: true };
  const outBinding: WgslBinding = { kind: "output", index: ro };
  const note = `// ${red.op.name} over [${space.join(",")}] axes [${axes.join(",")}]: ${K} outputs x ${R} (${scheme})\n`;

  if (scheme === "serial") {
    const g = grid(cdiv(K, wg), limits.maxComputeWorkgroupsPerDimension, where);
    let body = `  let k = ${groupIndex(g)} * ${wg}u + lid;\n  if (k >= ${K}u) { return; }\n${bases("k", "  ")}${accDecl("  ")}`;
    body += `  for (var r = 0u; r < ${R}u; r++) {\n${element("r", "    ")}  }\n  out${ro}[k] = ${r.final("acc")};\n`;
    // Helpers are collected while the body is generated, so the header is built last.
    const code = note + header([outDecl], false, wg) + entry(wg) + body + "}\n";
    return { passes: [{ code, entryPoint: "main", workgroups: g, bindings: [...bindings, outBinding] }], scratch: [] };
  }

  if (scheme === "workgroup") {
    const g = grid(K, limits.maxComputeWorkgroupsPerDimension, where);
    const vec = vectorRows(c.dims, c.strides, c.tags, R);
    if (vec && extras.every((_, o) => vec[inputs.length + o])) {
      // Rows of whole quads: each invocation takes 4 consecutive elements per step (vec4 loads and
      // extra stores for arrays that advance along the row; one scalar load for arrays that do not).
      const kc = coords("k", keptDims, "kc", "  ");
      let body = `  let k = ${groupIndex(g)};\n  if (k >= ${K}u) { return; }\n${kc.lines}`;
      for (let a = 0; a < arrays; a++) {
        const ks = keptStrides(a).map((x) => (vec[a] ? x / 4 : x));
        body += `  let base${a} = ${offsetExpr(kc.names, ks)};\n`;
      }
      body += accDecl("  ");
      body += `  for (var r = lid; r < ${R / 4}u; r += ${wg}u) {\n`;
      inputs.forEach((k, a) => (body += `    let x${k} = in${k}[${vec[a] ? "base" + a + " + r" : "base" + a}];\n`));
      for (let l = 0; l < 4; l++) {
        const args = inputs.map((k, a) => (vec[a] ? `x${k}.${"xyzw"[l]}` : `x${k}`)).join(", ");
        body += `    let e${l} = st_elem(${args});\n`;
      }
      extras.forEach((e, o) => {
        const T = storageType(spec.outputs[o]!.dtype);
        body += `    out${o}[base${inputs.length + o} + r] = vec4<${T}>(e0.y${o}, e1.y${o}, e2.y${o}, e3.y${o});\n`;
      });
      for (let l = 0; l < 4; l++) body += update(r, `e${l}.s`, "    ");
      body += `  }\n${tree(r, wg, "  ")}  if (lid == 0u) { out${ro}[k] = ${r.final("red[0]")}; }\n`;
      // The element function: the body from the inputs to the reduced value and the extra yields.
      const params = inputs.map((k) => `x${k}: ${storageType(spec.inputs[k]!.dtype)}`).join(", ");
      const fields = [`s: ${inT}`, ...extras.map((_, o) => `y${o}: ${storageType(spec.outputs[o]!.dtype)}`)].join(", ");
      const elemFn =
        `struct St_elem { ${fields} }\nfn st_elem(${params}) -> St_elem {\n${nodeLines(spec, nodes, h, "  ", where)}` +
        `  return St_elem(${[valueName(src), ...extras.map(valueName)].join(", ")});\n}\n`;
      const vdecls = [...decls, outDecl].map((d, a) => (a < arrays && vec[a] ? { ...d, type: `vec4<${d.type}>` } : d));
      const code =
        note.replace("(workgroup)", "(workgroup, vec4)") +
        declareBindings(vdecls) + `var<workgroup> red: array<${r.acc}, ${wg}>;\n` + h.code() + elemFn + entry(wg) + body + "}\n";
      return { passes: [{ code, entryPoint: "main", workgroups: g, bindings: [...bindings, outBinding] }], scratch: [] };
    }
    let body = `  let k = ${groupIndex(g)};\n  if (k >= ${K}u) { return; }\n${bases("k", "  ")}${accDecl("  ")}`;
    body += `  for (var r = lid; r < ${R}u; r += ${wg}u) {\n${element("r", "    ")}  }\n${tree(r, wg, "  ")}  if (lid == 0u) { out${ro}[k] = ${r.final("red[0]")}; }\n`;
    const code = note + header([outDecl], true, wg) + entry(wg) + body + "}\n";
    return { passes: [{ code, entryPoint: "main", workgroups: g, bindings: [...bindings, outBinding] }], scratch: [] };
  }

  // two-pass: G chunks per output, each reduced by one workgroup into scratch[k * G + g].
  const G = Math.max(2, Math.min(cdiv(R, wg * 8), Math.max(1, Math.floor(4096 / K))));
  const chunk = cdiv(R, G);
  const g1 = grid(K * G, limits.maxComputeWorkgroupsPerDimension, where);
  let body1 = `  let w = ${groupIndex(g1)};\n  if (w >= ${K * G}u) { return; }\n  let k = w / ${G}u;\n  let lo = (w % ${G}u) * ${chunk}u;\n  let hi = min(lo + ${chunk}u, ${R}u);\n`;
  body1 += `${bases("k", "  ")}${accDecl("  ")}  for (var r = lo + lid; r < hi; r += ${wg}u) {\n${element("r", "    ")}  }\n`;
  body1 += `${tree(r, wg, "  ")}  if (lid == 0u) { part[w] = red[0]; }\n`;
  const partDecl: BindingDecl = { name: "part", type: r.acc, write: true };
  const code1 = note + header([partDecl], true, wg) + entry(wg) + body1 + "}\n";
  // Pass 2 reads the partials: a workgroup per output, a tree over G values.
  const wg2 = Math.min(wg, 1 << Math.ceil(Math.log2(G)));
  const g2 = grid(K, limits.maxComputeWorkgroupsPerDimension, where);
  const h2 = new Helpers();
  const r2 = reducerFor(red.op.name, inT, outT, R, h2)!;
  const body2 =
    `  let k = ${groupIndex(g2)};\n  if (k >= ${K}u) { return; }\n  var acc: ${r2.acc} = ${r2.init};\n` +
    `  for (var i = lid; i < ${G}u; i += ${wg2}u) { acc = ${r2.combine("acc", `part[k * ${G}u + i]`)}; }\n` +
    `${tree(r2, wg2, "  ")}  if (lid == 0u) { out${ro}[k] = ${r2.final("red[0]")}; }\n`;
  const code2 =
    `// ${red.op.name}: combine ${G} partials per output\n` +
    declareBindings([{ name: "part", type: r.acc, write: false }, outDecl]) +
    `var<workgroup> red: array<${r2.acc}, ${wg2}>;\n${h2.code()}` +
    entry(wg2) + body2 + "}\n";
  return {
    passes: [
      { code: code1, entryPoint: "main", workgroups: g1, bindings: [...bindings, { kind: "scratch", index: 0 }] },
      { code: code2, entryPoint: "main", workgroups: g2, bindings: [{ kind: "scratch", index: 0 }, outBinding] },
    ],
    scratch: [4 * K * G],
  };
}

