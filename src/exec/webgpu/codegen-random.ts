/**
 * WGSL kernels for the random ops (randomSplit, randomBits, randomUniform, randomNormal,
 * randomBernoulli, randomInt). The scheme (which stream words make which element) is specified at
 * the top of src/ir/ops/random.ts; the CPU kernels in src/exec/cpu/kernels/random.ts are the
 * reference. Threefry-2x32-20 runs in u32 arithmetic (WGSL's u32 `+` wraps, rotations are two
 * shifts), so the words equal the CPU's exactly. A key is int32[2], stored on the GPU as i32 and
 * read through bitcast<u32>.
 *
 * One invocation per element: element i of an op with W words per element reads words iW..iW+W-1.
 * With W = 1 that is word i & 1 of block i >> 1 (half of each block is recomputed by the neighbour:
 * cheaper than a second pass); with W = 2 it is both words of block i.
 *
 * Exactness against the CPU:
 * - randomSplit, randomBits, randomBernoulli and randomInt are bit-identical (integer recipes; the
 *   Bernoulli threshold p * 2^32 becomes the integer ceil(p * 2^32) on the host, randomInt's 64-bit
 *   (w0 * 2^32 + w1) mod r is a 32-step double-and-add modular product in u32).
 * - randomUniform: the CPU computes lo + u * (hi - lo) in float64 and rounds once; here it is two
 *   f32 operations, so values may differ by about one ulp of max(|lo|, |hi - lo|). When hi - lo is
 *   a power of two (the default [0, 1), [-1, 1), [5, 5.5) ...) u * (hi - lo) is exact and the one
 *   correctly rounded f32 add equals the CPU's rounding (lo + u (hi - lo) is exact in float64
 *   unless |lo| dwarfs the span by 2^29), so values are bit-identical. The "rounds up to maxval" replacement is the same.
 * - randomNormal: Box-Muller in f32 (the CPU works in float64); -ln(u1) goes through log1p where
 *   u1 is near 1 and cos through the Cody-Waite helper, so values agree to a few 1e-6 relative
 *   (tested: 2e-5 * (|mean| + stddev * (1 + |z|))).
 * - float64 results are refused before this module runs (WGSL has no f64).
 */
import { getOp, type Attrs } from "../../ir/registry.js";
import { sizeOf } from "../../ir/shape.js";
import { THREEFRY_PARITY, THREEFRY_ROTATIONS } from "../../ir/threefry.js";
import type { TensorType } from "../../ir/types.js";
import { roundToFloat, SPLIT_DOMAIN, VALUES_DOMAIN } from "../../ir/ops/random.js";
import type { WgslBinding, WgslLimits, WgslPass } from "./codegen.js";
import { flatWorkgroup } from "./codegen-elementwise.js";
import { cdiv, declareBindings, grid, groupIndex, storageType } from "./wgsl-common.js";
import { Helpers } from "./wgsl-scalar.js";

type Made = { passes: WgslPass[]; scratch: number[] };

/** The op names this module generates kernels for. */
export const RANDOM_OPS: ReadonlySet<string> = new Set(["randomSplit", "randomBits", "randomUniform", "randomNormal", "randomBernoulli", "randomInt"]);

/** threefry2x32_20 in WGSL, generated from the same rotation table as the CPU's. */
export function threefryWgsl(): string {
  const ks = ["k0", "k1", "ks2"];
  let s =
    `fn st_threefry(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2<u32> {\n` +
    `  let ks2 = ${THREEFRY_PARITY >>> 0}u ^ k0 ^ k1;\n  var x0 = c0 + k0;\n  var x1 = c1 + k1;\n`;
  for (let g = 0; g < 5; g++) {
    for (let r = 0; r < 4; r++) {
      const rot = THREEFRY_ROTATIONS[(g % 2) * 4 + r]!;
      s += `  x0 += x1; x1 = ((x1 << ${rot}u) | (x1 >> ${32 - rot}u)) ^ x0;\n`;
    }
    const inj = g + 1;
    s += `  x0 += ${ks[inj % 3]}; x1 += ${ks[(inj + 1) % 3]} + ${inj}u;\n`;
  }
  return `${s}  return vec2<u32>(x0, x1);\n}\n`;
}

const KEY = `  let k0 = bitcast<u32>(key[0]);\n  let k1 = bitcast<u32>(key[1]);\n`;

/** One pass over `count` elements: `body` sees the element index `i`, the key words k0, k1. */
function elementPass(out: TensorType, count: number, body: string, limits: WgslLimits, where: string, note: string, h?: Helpers, extra = ""): WgslPass {
  const wg = flatWorkgroup(limits);
  const g = grid(cdiv(count, wg), limits.maxComputeWorkgroupsPerDimension, where);
  const decls = [
    { name: "key", type: "i32", write: false },
    { name: "out0", type: storageType(out.dtype), write: true },
  ];
  const code =
    `// ${note}\n${declareBindings(decls)}${h ? h.code() : ""}${threefryWgsl()}${extra}` +
    `@compute @workgroup_size(${wg})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n` +
    `  let i = ${groupIndex(g)} * ${wg}u + lid;\n  if (i >= ${count}u) { return; }\n${KEY}${body}}\n`;
  return { code, entryPoint: "main", workgroups: g, bindings: [{ kind: "input", index: 0 }, { kind: "output", index: 0 }] };
}

/** Word i of the values stream (one word per element). */
const WORD1 = `  let blk = st_threefry(k0, k1, i >> 1u, ${VALUES_DOMAIN}u);\n  let w = select(blk.x, blk.y, (i & 1u) == 1u);\n`;
/** Words 2i and 2i+1 of the values stream (two words per element). */
const WORD2 = `  let blk = st_threefry(k0, k1, i, ${VALUES_DOMAIN}u);\n  let w0 = blk.x;\n  let w1 = blk.y;\n`;

/** A WGSL f32 expression with exactly the bits of `v` rounded to float32 (subnormals and -0 kept). */
function f32Bits(v: number): string {
  const b = new Uint32Array(Float32Array.of(v).buffer)[0]!;
  return `bitcast<f32>(${b}u)`;
}

/** The largest float32 below x (x finite), as the CPU's nextDown. */
function nextDownF32(x: number): number {
  if (x === 0) return -(2 ** -149);
  const f = Float32Array.of(x);
  const b = new Int32Array(f.buffer);
  b[0]! += x > 0 ? -1 : 1;
  return f[0]!;
}

function randomSplit(outputs: readonly TensorType[], limits: WgslLimits): Made {
  // One invocation writes every key of a pass; a pass binds the key plus at most maxBuffers - 1 outputs.
  const per = Math.max(1, (limits.maxStorageBuffersPerShaderStage ?? 8) - 1);
  const passes: WgslPass[] = [];
  for (let first = 0; first < outputs.length; first += per) {
    const count = Math.min(per, outputs.length - first);
    const decls = [{ name: "key", type: "i32", write: false }];
    const bindings: WgslBinding[] = [{ kind: "input", index: 0 }];
    let body = "";
    for (let j = 0; j < count; j++) {
      const o = first + j;
      decls.push({ name: `out${o}`, type: "i32", write: true });
      bindings.push({ kind: "output", index: o });
      body += `  let r${o} = st_threefry(k0, k1, ${o}u, ${SPLIT_DOMAIN}u);\n  out${o}[0] = bitcast<i32>(r${o}.x);\n  out${o}[1] = bitcast<i32>(r${o}.y);\n`;
    }
    const code = `// randomSplit keys ${first}..${first + count - 1}\n${declareBindings(decls)}${threefryWgsl()}@compute @workgroup_size(1)\nfn main() {\n${KEY}${body}}\n`;
    passes.push({ code, entryPoint: "main", workgroups: [1, 1, 1], bindings });
  }
  return { passes, scratch: [] };
}

function uniform(out: TensorType, attrs: Attrs, n: number, limits: WgslLimits, where: string): WgslPass {
  const lo = roundToFloat(attrs["minval"] as number, "float32");
  const hi = roundToFloat(attrs["maxval"] as number, "float32");
  // Exact in float64 for float32 bounds of similar magnitude; rounded to f32 it is the GPU's scale.
  const span = hi - lo;
  const u = `f32(w >> 9u) * ${f32Bits(2 ** -23)}`;
  let value: string;
  if (Math.abs(Math.fround(span)) === Infinity) {
    // hi - lo overflows f32 (the CPU's float64 does not): interpolate between the halves.
    value = `max(${f32Bits(lo)}, 2.0 * (${f32Bits(0.5 * lo)} + ${u} * ${f32Bits(0.5 * hi - 0.5 * lo)}))`;
  } else {
    const scaled = span === 1 ? u : `${u} * ${f32Bits(span)}`;
    value = lo === 0 ? scaled : `${f32Bits(lo)} + ${scaled}`;
  }
  // A value that rounds up to maxval becomes the largest float below it (as on the CPU).
  const body = `${WORD1}  let v = ${value};\n  out0[i] = select(${f32Bits(nextDownF32(hi))}, v, v < ${f32Bits(hi)});\n`;
  return elementPass(out, n, body, limits, where, "randomUniform float32");
}

function normal(out: TensorType, attrs: Attrs, n: number, limits: WgslLimits, where: string): WgslPass {
  const mean = attrs["mean"] as number;
  const sd = attrs["stddev"] as number;
  const h = new Helpers();
  h.use("st_log");
  h.use("st_sqrt");
  h.use("st_trig");
  // u1 = (w0 + 1) 2^-32 in (0, 1]. Near 1, -ln(u1) = -log1p(-(1 - u1)) with 1 - u1 = ~w0 * 2^-32
  // (exact up to the f32 rounding of ~w0), so small radii keep their relative accuracy.
  const body =
    `${WORD2}  let d = ~w0;\n  var l: f32;\n` +
    `  if (d < 0x40000000u) { l = -st_log1p(-(f32(d) * ${f32Bits(2 ** -32)})); } else { l = -st_log(f32(w0 + 1u) * ${f32Bits(2 ** -32)}); }\n` +
    `  let u2 = f32(w1) * ${f32Bits(2 ** -32)};\n` +
    `  let z = st_sqrt(2.0 * l) * st_cos(${f32Bits(2 * Math.PI)} * u2);\n` +
    `  out0[i] = ${f32Bits(mean)} + ${f32Bits(sd)} * z;\n`;
  return elementPass(out, n, body, limits, where, "randomNormal float32 (Box-Muller)", h);
}

function bernoulli(out: TensorType, attrs: Attrs, n: number, limits: WgslLimits, where: string): WgslPass {
  // w < p * 2^32 (exact in float64) is, for an integer w, w < ceil(p * 2^32).
  const c = Math.ceil((attrs["p"] as number) * 2 ** 32);
  const cond = c >= 2 ** 32 ? "true" : c <= 0 ? "false" : `w < ${c}u`;
  const body = `${WORD1}  out0[i] = select(0u, 1u, ${cond});\n`;
  return elementPass(out, n, body, limits, where, "randomBernoulli");
}

/** (a * b + c) mod r for a, b, c < r < 2^32 without 64-bit integers: double-and-add over a's bits. */
const MULMOD = `fn st_addmod(x: u32, y: u32, r: u32) -> u32 {
  // x + y may pass 2^32: compare with r - y instead of adding first.
  if (x >= r - y) { return x - (r - y); }
  return x + y;
}
fn st_mulmod(a: u32, b: u32, r: u32) -> u32 {
  var acc = 0u;
  for (var bit = 31i; bit >= 0i; bit--) {
    acc = st_addmod(acc, acc, r);
    if (((a >> u32(bit)) & 1u) == 1u) { acc = st_addmod(acc, b, r); }
  }
  return acc;
}
`;

function randomInt(out: TensorType, attrs: Attrs, n: number, limits: WgslLimits, where: string): WgslPass {
  const lo = attrs["minval"] as number;
  const r = (attrs["maxval"] as number) - lo;
  const base = `${lo >>> 0}u`;
  // lo + x wraps in u32 to the right bit pattern for int32 and to the value for uint8 (no overflow there).
  const store = (x: string): string => (out.dtype === "int32" ? `bitcast<i32>(${base} + ${x})` : `${base} + ${x}`);
  let body: string;
  if (r === 2 ** 32) {
    // The full int32 range: (w0 * 2^32 + w1) mod 2^32 is w1.
    body = `${WORD2}  out0[i] = ${store("w1")};\n`;
  } else {
    const scale = 2 ** 32 % r; // (a * 2^32 + b) mod r = (a * scale + b) mod r
    body = `${WORD2}  let m = st_addmod(st_mulmod(w0 % ${r}u, ${scale}u, ${r}u), w1 % ${r}u, ${r}u);\n  out0[i] = ${store("m")};\n`;
  }
  return elementPass(out, n, body, limits, where, `randomInt ${out.dtype} [${lo}, ${lo + r})`, undefined, MULMOD);
}

/** The kernel for a random op (attributes were validated by the op's rule), or undefined for other ops. */
export function genRandom(opName: string, inputs: readonly TensorType[], attrs: Attrs, outputs: readonly TensorType[], limits: WgslLimits, where: string): Made | undefined {
  if (!RANDOM_OPS.has(opName)) return undefined;
  // Re-check key and attributes through the op's rule: a kernel is never made for unvalidated input.
  getOp(opName).infer(inputs, attrs);
  if (opName === "randomSplit") return randomSplit(outputs, limits);
  const out = outputs[0]!;
  const n = sizeOf(out.shape);
  if (n === 0) return { passes: [], scratch: [] };
  const one = (p: WgslPass): Made => ({ passes: [p], scratch: [] });
  switch (opName) {
    case "randomBits":
      return one(elementPass(out, n, `${WORD1}  out0[i] = bitcast<i32>(w);\n`, limits, where, "randomBits"));
    case "randomUniform":
      return one(uniform(out, attrs, n, limits, where));
    case "randomNormal":
      return one(normal(out, attrs, n, limits, where));
    case "randomBernoulli":
      return one(bernoulli(out, attrs, n, limits, where));
    default:
      return one(randomInt(out, attrs, n, limits, where));
  }
}
