/**
 * Small pieces every WGSL generator shares: storage types, literals, bindings, dispatch geometry,
 * index arithmetic over static shapes, and the kernel hash.
 *
 * Storage: float32 is `f32`, int32 is `i32`, bool and uint8 are one `u32` per element (0/1 and
 * 0..255); WGSL has no 8-bit storage type that compute shaders may index. float64 does not exist
 * in WGSL, so every generator rejects it with a DTypeError naming the device.
 */
import type { DType } from "../../ir/dtype.js";
import { DTypeError, ValueError } from "../../ir/errors.js";
import { formatType, type TensorType } from "../../ir/types.js";

export type WgslScalar = "f32" | "i32" | "u32";

/** The WGSL element type a dtype is stored (and computed) as on the GPU. */
export function storageType(dtype: DType, what?: string): WgslScalar {
  switch (dtype) {
    case "float32":
      return "f32";
    case "int32":
      return "i32";
    case "bool":
    case "uint8":
      return "u32";
    default:
      throw new DTypeError(
        `${what ? `${what}: ` : ""}dtype ${dtype} is not supported on the webgpu device (WGSL has no 64-bit floats); cast to float32 first, or run on "cpu"`,
      );
  }
}

/** Checks every type of a kernel (inputs and outputs) is storable on the GPU; `where` names the kernel. */
export function checkTypes(types: readonly TensorType[], where: string): void {
  for (const t of types) storageType(t.dtype, `${where} (${formatType(t)})`);
}

/** A WGSL literal of `t` holding the JS number `v` (finite; infinities and NaN go through helpers). */
export function lit(v: number, t: WgslScalar): string {
  if (t === "u32") return `${v >>> 0}u`;
  if (t === "i32") return v === -2147483648 ? "i32(-2147483647 - 1)" : `${v | 0}i`;
  if (!Number.isFinite(v)) throw new Error(`lit: ${v} is not a finite f32 literal`);
  // Shortest round-trip text of the f32 value, always with a fraction or exponent so WGSL reads a float.
  const f = Math.fround(v);
  let s = String(f);
  if (Object.is(f, -0)) s = "-0.0";
  else if (!/[.eE]/.test(s)) s += ".0";
  return `f32(${s})`;
}

/** Ceiling division. */
export const cdiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/**
 * Workgroup counts for `groups` workgroups laid out in x (and y when x would pass the per-dimension
 * limit); the kernel reconstructs the linear group index as `wid.x + wid.y * nx`.
 */
export function grid(groups: number, maxPerDim: number, where: string): [number, number, number] {
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = cdiv(groups, maxPerDim);
  if (y > maxPerDim) throw new ValueError(`${where}: ${groups} workgroups exceed the device's dispatch limit (${maxPerDim}^2)`);
  return [maxPerDim, y, 1];
}

/** The linear workgroup index expression for a grid made by `grid`. */
export function groupIndex(g: readonly [number, number, number]): string {
  return g[1] === 1 ? "wid.x" : `(wid.x + wid.y * ${g[0]}u)`;
}

export interface BindingDecl {
  readonly name: string;
  readonly type: string;
  readonly write: boolean;
}

/** `@group(0) @binding(k)` declarations, in order. */
export function declareBindings(b: readonly BindingDecl[]): string {
  return b
    .map((x, k) => `@group(0) @binding(${k}) var<storage, ${x.write ? "read_write" : "read"}> ${x.name}: array<${x.type}>;\n`)
    .join("");
}

/**
 * Coordinates of a row-major flat index over static `dims`: `lines` declares `c0..c{r-1}` (as u32)
 * from the u32 expression `flat`; in an empty space every coordinate is the literal 0u.
 */
export function coords(flat: string, dims: readonly number[], prefix: string, pad: string): { lines: string; names: string[] } {
  const r = dims.length;
  const names: string[] = new Array<string>(r);
  if (r === 0) return { lines: "", names };
  let lines = "";
  // An empty space has no points, so code using these coordinates never runs; WGSL still rejects a
  // constant `% 0u`, so every coordinate is the literal 0.
  if (dims.includes(0)) return { lines, names: names.fill("0u") };
  if (r === 1) {
    names[0] = flat;
    return { lines, names };
  }
  lines += `${pad}var ${prefix}r = ${flat};\n`;
  for (let d = r - 1; d >= 0; d--) {
    const n = dims[d]!;
    const name = `${prefix}${d}`;
    names[d] = name;
    if (d === 0) {
      lines += `${pad}let ${name} = ${prefix}r;\n`;
    } else {
      lines += `${pad}let ${name} = ${prefix}r % ${n}u;\n${pad}${prefix}r = ${prefix}r / ${n}u;\n`;
    }
  }
  return { lines, names };
}

/** Σ coord_d * stride_d as a u32 expression ("0u" when every stride is 0). */
export function offsetExpr(names: readonly string[], strides: readonly number[], base = 0): string {
  const terms: string[] = [];
  strides.forEach((s, d) => {
    if (s === 0) return;
    terms.push(s === 1 ? names[d]! : `${names[d]} * ${s}u`);
  });
  if (base !== 0) terms.push(`${base}u`);
  return terms.length === 0 ? "0u" : terms.join(" + ");
}

/** Whether `strides` are the row-major strides of `dims` (the array is laid out like the space). */
export function isContiguous(dims: readonly number[], strides: readonly number[]): boolean {
  let acc = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    if (dims[d] !== 1 && strides[d] !== acc) return false;
    acc *= dims[d]!;
  }
  return true;
}

/** The structural hash the CPU generator uses, so a kernel has one name on every backend. */
export { hash53 } from "../cpu/codegen-fused.js";
