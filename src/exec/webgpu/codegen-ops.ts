/**
 * Kernels for library ops that are not KernelSpecs. Shape ops are strided copies: every output
 * element reads one input element at `offset + Σ coord_d * stride_d` (negative strides for flips,
 * 0 for broadcasts), exactly the CPU's copyView, with one invocation per output element. Index
 * ops, scans, arg-reductions, windows (conv2d, pools) and logSumExp run one invocation per output
 * element or per scanned line. Attributes were validated by the op's rule before.
 *
 * Differences from the CPU kernels: gather cannot raise an IndexError from the GPU, so an index
 * outside the axis is clamped into it (validate indices before dispatch where that matters);
 * float accumulations (cumsum, conv2d, avgPool2d, logSumExp) are in f32.
 */
import { convGeometry, poolGeometry, type WindowGeometry } from "../../ir/ops/linalg.js";
import { type Attrs, getOp, type OpDef } from "../../ir/registry.js";
import { broadcastStrides, sizeOf, stridesOf } from "../../ir/shape.js";
import { formatType, type TensorType } from "../../ir/types.js";
import type { KernelSpec } from "../cpu/codegen-fused.js";
import { collapse } from "../cpu/codegen-loops.js";
import type { WgslBinding, WgslLimits, WgslPass } from "./codegen.js";
import { flatWorkgroup } from "./codegen-elementwise.js";
import { genDot } from "./codegen-dot.js";
import { chooseConfig, genMatmul } from "./codegen-matmul.js";
import { genRandom } from "./codegen-random.js";
import { type BindingDecl, cdiv, coords, declareBindings, grid, groupIndex, offsetExpr, storageType } from "./wgsl-common.js";
import { Helpers } from "./wgsl-scalar.js";

type Made = { passes: WgslPass[]; scratch: number[] };

/** One pass over `count` items (one invocation each): `body` sees the item index `i`. */
function flatPass(decls: readonly BindingDecl[], bindings: readonly WgslBinding[], count: number, body: string, limits: WgslLimits, where: string, h?: Helpers, note = ""): WgslPass {
  const wg = flatWorkgroup(limits);
  const g = grid(cdiv(count, wg), limits.maxComputeWorkgroupsPerDimension, where);
  const code =
    `${note ? `// ${note}\n` : ""}${declareBindings(decls)}${h ? h.code() : ""}` +
    `@compute @workgroup_size(${wg})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n` +
    `  let i = ${groupIndex(g)} * ${wg}u + lid;\n  if (i >= ${count}u) { return; }\n${body}}\n`;
  return { code, entryPoint: "main", workgroups: g, bindings: [...bindings] };
}

const inDecl = (k: number, t: TensorType): BindingDecl => ({ name: `in${k}`, type: storageType(t.dtype), write: false });
const outDecl = (o: number, t: TensorType): BindingDecl => ({ name: `out${o}`, type: storageType(t.dtype), write: true });
const IN = (index: number): WgslBinding => ({ kind: "input", index });
const OUT = (index: number): WgslBinding => ({ kind: "output", index });

/**
 * out{o}[i] = in{k}[offset + Σ c_d * s_d] over `shape` (the output's own row-major layout, or
 * `outOffset`/`outStrides` for a region of a larger output, as concat writes).
 */
function viewCopy(k: number, inT: TensorType, o: number, outT: TensorType, shape: readonly number[], offset: number, strides: readonly number[], limits: WgslLimits, where: string, outOffset = 0, outStrides?: readonly number[]): WgslPass | undefined {
  const n = sizeOf(shape);
  if (n === 0) return undefined;
  const oStr = outStrides ?? stridesOf(shape);
  const c = collapse(shape, [strides, oStr]);
  const idx = coords("i", c.dims, "c", "  ");
  const src = offsetExpr(idx.names, c.strides[0]!);
  const dst = offsetExpr(idx.names, c.strides[1]!);
  // Offsets may walk backwards (flip): compute in i32 and convert, so a negative stride cannot underflow u32.
  const srcExpr = c.strides[0]!.some((s) => s < 0) ? signedOffset(idx.names, c.strides[0]!, offset) : addBase(src, offset);
  const body = `${idx.lines}  out${o}[${addBase(dst, outOffset)}] = in${k}[${srcExpr}];\n`;
  return flatPass([inDecl(k, inT), outDecl(o, outT)], [IN(k), OUT(o)], n, body, limits, where);
}

const addBase = (e: string, base: number): string => (base === 0 ? e : e === "0u" ? `${base}u` : `${e} + ${base}u`);

function signedOffset(names: readonly string[], strides: readonly number[], base: number): string {
  const terms = strides.flatMap((s, d) => (s === 0 ? [] : [`i32(${names[d]}) * ${s}i`]));
  return `u32(${[...terms, `${base}i`].join(" + ")})`;
}

function shapeOp(op: OpDef, inputs: readonly TensorType[], attrs: Attrs, outputs: readonly TensorType[], limits: WgslLimits, where: string): Made | undefined {
  const x = inputs[0]!;
  const out = outputs[0]!;
  const st = stridesOf(x.shape);
  const one = (p: WgslPass | undefined): Made => ({ passes: p ? [p] : [], scratch: [] });
  switch (op.name) {
    case "reshape":
      return one(viewCopy(0, x, 0, out, out.shape, 0, stridesOf(out.shape), limits, where));
    case "transpose": {
      const perm = attrs["perm"] as readonly number[];
      return one(viewCopy(0, x, 0, out, out.shape, 0, perm.map((p) => st[p]!), limits, where));
    }
    case "broadcastTo":
      return one(viewCopy(0, x, 0, out, out.shape, 0, broadcastStrides(x.shape, out.shape), limits, where));
    case "slice": {
      const begin = attrs["begin"] as readonly number[];
      const steps = attrs["strides"] as readonly number[];
      if (sizeOf(out.shape) === 0) return one(undefined);
      const off = st.reduce((a, s, d) => a + begin[d]! * s, 0);
      return one(viewCopy(0, x, 0, out, out.shape, off, st.map((s, d) => s * steps[d]!), limits, where));
    }
    case "flip": {
      let off = 0;
      const s = [...st];
      for (const a of attrs["axes"] as readonly number[]) {
        off += (x.shape[a]! - 1) * s[a]!;
        s[a] = -s[a]!;
      }
      return one(viewCopy(0, x, 0, out, out.shape, off, s, limits, where));
    }
    case "split": {
      const axis = attrs["axis"] as number;
      let pos = 0;
      const passes: WgslPass[] = [];
      outputs.forEach((t, o) => {
        const p = viewCopy(0, x, o, t, t.shape, pos * st[axis]!, st, limits, where);
        if (p) passes.push(p);
        pos += t.shape[axis]!;
      });
      return { passes, scratch: [] };
    }
    case "concat": {
      // One pass per operand, each writing its region of the output.
      const axis = attrs["axis"] as number;
      const ost = stridesOf(out.shape);
      let pos = 0;
      const passes: WgslPass[] = [];
      inputs.forEach((t, k) => {
        const p = viewCopy(k, t, 0, out, t.shape, 0, stridesOf(t.shape), limits, where, pos * ost[axis]!, ost);
        if (p) passes.push(p);
        pos += t.shape[axis]!;
      });
      return { passes, scratch: [] };
    }
    case "pad": {
      const n = sizeOf(out.shape);
      if (n === 0) return one(undefined);
      const paddings = attrs["paddings"] as readonly (readonly number[])[];
      const idx = coords("i", out.shape, "c", "  ");
      const inside = x.shape.map((d, a) => (d === out.shape[a] ? "" : `${idx.names[a]} >= ${paddings[a]![0]}u && ${idx.names[a]} < ${paddings[a]![0]! + d}u`)).filter(Boolean);
      const src = offsetExpr(x.shape.map((_, a) => (paddings[a]![0] === 0 ? idx.names[a]! : `(${idx.names[a]} - ${paddings[a]![0]}u)`)), st);
      const body =
        sizeOf(x.shape) === 0
          ? `  out0[i] = in1[0];\n`
          : `${idx.lines}  if (${inside.join(" && ") || "true"}) { out0[i] = in0[${src}]; } else { out0[i] = in1[0]; }\n`;
      const decls = sizeOf(x.shape) === 0 ? [inDecl(1, inputs[1]!), outDecl(0, out)] : [inDecl(0, x), inDecl(1, inputs[1]!), outDecl(0, out)];
      const binds = sizeOf(x.shape) === 0 ? [IN(1), OUT(0)] : [IN(0), IN(1), OUT(0)];
      return one(flatPass(decls, binds, n, body, limits, where, undefined, "pad"));
    }
  }
  return undefined;
}

function gather(inputs: readonly TensorType[], attrs: Attrs, out: TensorType, limits: WgslLimits, where: string): Made {
  const [x, idx] = inputs as [TensorType, TensorType];
  const axis = attrs["axis"] as number;
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const m = sizeOf(idx.shape);
  const total = sizeOf(out.shape);
  if (total === 0) return { passes: [], scratch: [] };
  // Output index i = (o * m + j) * inner + e reads x[(o * n + idx[j]) * inner + e]; indices clamp into the axis.
  const body =
    `  let e = i % ${inner}u;\n  let j = (i / ${inner}u) % ${m}u;\n  let o = i / ${inner * m}u;\n` +
    `  var v = in1[j];\n  if (v < 0i) { v += ${n}i; }\n  let r = u32(clamp(v, 0i, ${n - 1}i));\n` +
    `  out0[i] = in0[(o * ${n}u + r) * ${inner}u + e];\n`;
  return { passes: [flatPass([inDecl(0, x), inDecl(1, idx), outDecl(0, out)], [IN(0), IN(1), OUT(0)], total, body, limits, where, undefined, "gather")], scratch: [] };
}

function oneHot(inputs: readonly TensorType[], attrs: Attrs, out: TensorType, limits: WgslLimits, where: string): Made {
  const [idx, on, off] = inputs as [TensorType, TensorType, TensorType];
  const depth = attrs["depth"] as number;
  const axis = attrs["axis"] as number;
  const inner = sizeOf(idx.shape.slice(axis));
  const total = sizeOf(out.shape);
  if (total === 0) return { passes: [], scratch: [] };
  const body =
    `  let e = i % ${inner}u;\n  let v = (i / ${inner}u) % ${depth}u;\n  let o = i / ${inner * depth}u;\n` +
    `  if (in0[o * ${inner}u + e] == i32(v)) { out0[i] = in1[0]; } else { out0[i] = in2[0]; }\n`;
  return { passes: [flatPass([inDecl(0, idx), inDecl(1, on), inDecl(2, off), outDecl(0, out)], [IN(0), IN(1), IN(2), OUT(0)], total, body, limits, where, undefined, "oneHot")], scratch: [] };
}

/** [outer, n, inner] view along `axis` (null: flattened). */
function axisLayout(x: TensorType, axis: number | null): { outer: number; n: number; inner: number } {
  if (axis === null) return { outer: 1, n: sizeOf(x.shape), inner: 1 };
  return { outer: sizeOf(x.shape.slice(0, axis)), n: x.shape[axis]!, inner: sizeOf(x.shape.slice(axis + 1)) };
}

function argExtreme(op: string, x: TensorType, attrs: Attrs, out: TensorType, limits: WgslLimits, where: string): Made {
  const { outer, n, inner } = axisLayout(x, attrs["axis"] as number | null);
  const count = outer * inner;
  if (count === 0) return { passes: [], scratch: [] };
  const T = storageType(x.dtype);
  const h = new Helpers();
  const better = op === "argmax" ? ">" : "<";
  // The first extreme wins; a NaN is the extreme and the first NaN ends the search (NumPy).
  let isNan = "false";
  if (T === "f32") {
    h.use("st_bits");
    isNan = "st_isnan(v)";
  }
  const body =
    `  let base = (i / ${inner}u) * ${n * inner}u + i % ${inner}u;\n  var best = in0[base];\n  var bi = 0i;\n` +
    (T === "f32" ? `  if (st_isnan(best)) { out0[i] = 0i; return; }\n` : "") +
    `  for (var r = 1u; r < ${n}u; r++) {\n    let v = in0[base + r * ${inner}u];\n` +
    `    if (${isNan}) { bi = i32(r); break; }\n    if (v ${better} best) { best = v; bi = i32(r); }\n  }\n  out0[i] = bi;\n`;
  return { passes: [flatPass([inDecl(0, x), outDecl(0, out)], [IN(0), OUT(0)], count, body, limits, where, h, op)], scratch: [] };
}

function scan(op: string, x: TensorType, attrs: Attrs, out: TensorType, limits: WgslLimits, where: string): Made {
  const { outer, n, inner } = axisLayout(x, attrs["axis"] as number | null);
  const lines = outer * inner;
  if (lines === 0 || n === 0) return { passes: [], scratch: [] };
  const T = storageType(out.dtype);
  const inT = storageType(x.dtype);
  const isProd = op === "cumprod";
  const exclusive = attrs["exclusive"] === true;
  const reverse = attrs["reverse"] === true;
  const id = T === "f32" ? (isProd ? "1.0" : "0.0") : isProd ? "1i" : "0i";
  const v = inT === T ? `in0[p]` : `${T}(in0[p])`;
  const body =
    `  let base = (i / ${inner}u) * ${n * inner}u + i % ${inner}u;\n  var s: ${T} = ${id};\n` +
    `  for (var k = 0u; k < ${n}u; k++) {\n    let p = base + ${reverse ? `(${n - 1}u - k)` : "k"} * ${inner}u;\n` +
    `    let t = s ${isProd ? "*" : "+"} ${v};\n    out0[p] = ${exclusive ? "s" : "t"};\n    s = t;\n  }\n`;
  return { passes: [flatPass([inDecl(0, x), outDecl(0, out)], [IN(0), OUT(0)], lines, body, limits, where, undefined, op)], scratch: [] };
}

/** Output pixel coordinates of item i (one output element, channel innermost). */
function pixel(g: WindowGeometry, channels: number): string {
  return `  let ch = i % ${channels}u;\n  let ox = (i / ${channels}u) % ${g.ow}u;\n  let oy = (i / ${channels * g.ow}u) % ${g.oh}u;\n  let b = i / ${channels * g.ow * g.oh}u;\n` +
    `  let y0 = i32(oy * ${g.sh}u) - ${g.padTop}i;\n  let x0 = i32(ox * ${g.sw}u) - ${g.padLeft}i;\n`;
}

function conv2d(inputs: readonly TensorType[], attrs: Attrs, out: TensorType, limits: WgslLimits, where: string): Made {
  const [x, f] = inputs as [TensorType, TensorType];
  const g = convGeometry(x, f, attrs);
  const total = sizeOf(out.shape);
  if (total === 0) return { passes: [], scratch: [] };
  const T = storageType(out.dtype);
  const zero = T === "f32" ? "0.0" : T === "i32" ? "0i" : "0u";
  const fin = out.dtype === "uint8" ? "(acc & 255u)" : "acc";
  // Large float convolutions: implicit GEMM, the tiled matmul kernel reading A through the conv's address function.
  if (out.dtype === "float32" && g.kh * g.kw * g.c >= 8 && total >= 4096) return implicitGemm(x, f, g, out, limits, where);
  // Direct convolution: each output element sums kh*kw*c products, skipping padded cells.
  const body =
    pixel(g, g.outC) +
    `  var acc: ${T} = ${zero};\n  for (var ky = 0u; ky < ${g.kh}u; ky++) {\n    let iy = y0 + i32(ky * ${g.dh}u);\n    if (iy < 0i || iy >= ${g.h}i) { continue; }\n` +
    `    for (var kx = 0u; kx < ${g.kw}u; kx++) {\n      let ix = x0 + i32(kx * ${g.dw}u);\n      if (ix < 0i || ix >= ${g.w}i) { continue; }\n` +
    `      let xb = ((b * ${g.h}u + u32(iy)) * ${g.w}u + u32(ix)) * ${g.c}u;\n      let fb = (ky * ${g.kw}u + kx) * ${g.c * g.outC}u + ch;\n` +
    `      for (var ci = 0u; ci < ${g.c}u; ci++) { acc += in0[xb + ci] * in1[fb + ci * ${g.outC}u]; }\n    }\n  }\n  out0[i] = ${fin};\n`;
  return { passes: [flatPass([inDecl(0, x), inDecl(1, f), outDecl(0, out)], [IN(0), IN(1), OUT(0)], total, body, limits, where, undefined, "conv2d (direct)")], scratch: [] };
}

/**
 * conv2d as one GEMM: out [B*OH*OW, OC] = A [B*OH*OW, KH*KW*C] x F [KH*KW*C, OC], where the HWIO
 * filter already is F in row-major order, the NHWC output is the product in row-major order, and
 * A[m][k] (m = (b, oy, ox), k = (ky, kx, ci)) is the input pixel under the window, zero in the
 * padding: nothing is materialized (no im2col buffer), A's tile loads compute the addresses.
 */
function implicitGemm(x: TensorType, f: TensorType, g: WindowGeometry & { readonly outC: number }, out: TensorType, limits: WgslLimits, where: string): Made {
  const M = g.batch * g.oh * g.ow;
  const K = g.kh * g.kw * g.c;
  const N = g.outC;
  const mm = getOp("matmul");
  const a: TensorType = { dtype: x.dtype, shape: [M, K] };
  const b: TensorType = { dtype: f.dtype, shape: [K, N] };
  const o: TensorType = { dtype: out.dtype, shape: [M, N] };
  const spec: KernelSpec = { kind: "matmul", inputs: [a, b], nodes: [{ op: mm, operands: [{ input: 0 }, { input: 1 }], attrs: {}, type: o }], yields: [{ node: 0 }], outputs: [o] };
  const code =
    `fn st_conv_a(m: u32, k: u32) -> f32 {\n  if (m >= ${M}u || k >= ${K}u) { return 0.0; }\n` +
    `  let ci = k % ${g.c}u;\n  let kx = (k / ${g.c}u) % ${g.kw}u;\n  let ky = k / ${g.c * g.kw}u;\n` +
    `  let ox = m % ${g.ow}u;\n  let oy = (m / ${g.ow}u) % ${g.oh}u;\n  let b = m / ${g.ow * g.oh}u;\n` +
    `  let iy = i32(oy * ${g.sh}u + ky * ${g.dh}u) - ${g.padTop}i;\n  let ix = i32(ox * ${g.sw}u + kx * ${g.dw}u) - ${g.padLeft}i;\n` +
    `  if (iy < 0i || iy >= ${g.h}i || ix < 0i || ix >= ${g.w}i) { return 0.0; }\n` +
    `  return A[((b * ${g.h}u + u32(iy)) * ${g.w}u + u32(ix)) * ${g.c}u + ci];\n}\n`;
  const cfg = chooseConfig(M, N, 1, limits);
  return genMatmul(spec, limits, where, cfg, { code, element: (m, k) => `st_conv_a(${m}, ${k})`, label: `conv2d ${formatType(x)} * ${formatType(f)} (implicit GEMM)` });
}

function pool(op: string, x: TensorType, attrs: Attrs, out: TensorType, limits: WgslLimits, where: string): Made {
  const g = poolGeometry(op, x, attrs);
  const total = sizeOf(out.shape);
  if (total === 0) return { passes: [], scratch: [] };
  const T = storageType(x.dtype);
  const h = new Helpers();
  const isMax = op === "maxPool2d";
  let init: string;
  let upd: string;
  if (!isMax) {
    init = "0.0";
    upd = "acc += v;";
  } else if (T === "f32") {
    h.use("st_max");
    init = "-st_inf()";
    upd = "acc = st_max(acc, v);";
  } else {
    init = T === "i32" ? "(-2147483647i - 1i)" : "0u";
    upd = "acc = max(acc, v);";
  }
  // The window is clipped to the input: padded cells never enter the max or the mean.
  const body =
    pixel(g, g.c) +
    `  let ys = max(y0, 0i);\n  let ye = min(y0 + ${g.kh}i, ${g.h}i);\n  let xs = max(x0, 0i);\n  let xe = min(x0 + ${g.kw}i, ${g.w}i);\n` +
    `  var acc: ${isMax ? T : "f32"} = ${init};\n  for (var iy = ys; iy < ye; iy++) {\n    for (var ix = xs; ix < xe; ix++) {\n` +
    `      let v = in0[((b * ${g.h}u + u32(iy)) * ${g.w}u + u32(ix)) * ${g.c}u + ch];\n      ${upd}\n    }\n  }\n` +
    (isMax ? "  out0[i] = acc;\n" : "  out0[i] = acc / f32((ye - ys) * (xe - xs));\n");
  return { passes: [flatPass([inDecl(0, x), outDecl(0, out)], [IN(0), OUT(0)], total, body, limits, where, h, op)], scratch: [] };
}

function logSumExp(x: TensorType, attrs: Attrs, out: TensorType, limits: WgslLimits, where: string): Made {
  const axes = attrs["axes"] as readonly number[];
  const K = sizeOf(out.shape);
  if (K === 0) return { passes: [], scratch: [] };
  const isReduced = x.shape.map((_, d) => axes.includes(d));
  const keptDims = x.shape.filter((_, d) => !isReduced[d]);
  const redDims = x.shape.filter((_, d) => isReduced[d]);
  const st = stridesOf(x.shape);
  const R = sizeOf(redDims);
  const h = new Helpers();
  h.use("st_max");
  h.use("st_log");
  h.use("st_exp");
  const kc = coords("i", keptDims, "k", "  ");
  const base = offsetExpr(kc.names, st.filter((_, d) => !isReduced[d]));
  const rc = coords("r", redDims, "q", "    ");
  const roff = offsetExpr(rc.names, st.filter((_, d) => isReduced[d]));
  const load = `${storageType(x.dtype) === "f32" ? "" : "f32"}(in0[base + ${roff}])`;
  // m + log(sum(exp(x - m))) with m the NaN-propagating max; a non-finite m is the answer itself.
  const body =
    `${kc.lines}  let base = ${base};\n  var m = -st_inf();\n  for (var r = 0u; r < ${R}u; r++) {\n${rc.lines}    m = st_max(m, ${load});\n  }\n` +
    `  if (!st_isfinite(m)) { out0[i] = m; return; }\n  var s = 0.0;\n  for (var r = 0u; r < ${R}u; r++) {\n${rc.lines}    s += st_exp(${load} - m);\n  }\n  out0[i] = m + st_log(s);\n`;
  return { passes: [flatPass([inDecl(0, x), outDecl(0, out)], [IN(0), OUT(0)], K, body, limits, where, h, "logSumExp")], scratch: [] };
}

/** The kernel for a library op, or undefined when the GPU does not run it. */
export function genOp(op: OpDef, inputs: readonly TensorType[], attrs: Attrs, outputs: readonly TensorType[], limits: WgslLimits, where: string): Made | undefined {
  const out = outputs[0]!;
  switch (op.name) {
    case "gather":
      return gather(inputs, attrs, out, limits, where);
    case "oneHot":
      return oneHot(inputs, attrs, out, limits, where);
    case "argmax":
    case "argmin":
      return argExtreme(op.name, inputs[0]!, attrs, out, limits, where);
    case "cumsum":
    case "cumprod":
      return scan(op.name, inputs[0]!, attrs, out, limits, where);
    case "conv2d":
      return conv2d(inputs, attrs, out, limits, where);
    case "maxPool2d":
    case "avgPool2d":
      return pool(op.name, inputs[0]!, attrs, out, limits, where);
    case "logSumExp":
      return logSumExp(inputs[0]!, attrs, out, limits, where);
    case "dot":
      return genDot(inputs, outputs, limits, where);
  }
  return genRandom(op.name, inputs, attrs, outputs, limits, where) ?? shapeOp(op, inputs, attrs, outputs, limits, where);
}
