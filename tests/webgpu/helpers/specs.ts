/**
 * Building KernelSpecs by hand, deterministic test data, the CPU reference (the JavaScript kernel
 * generator and CPU library kernels), and a comparison with stated tolerances.
 */
import "../../../src/ir/ops/index.js";
import "../../../src/exec/cpu/kernels/index.js";
import { cpuBackend } from "../../../src/exec/cpu/backend.js";
import { compileKernel, type KernelSpec, type Ref, type SpecNode } from "../../../src/exec/cpu/codegen-fused.js";
import { allocate, type DType, dtypeInfo, type TypedArray } from "../../../src/ir/dtype.js";
import type { FusedKind } from "../../../src/ir/ops/fused.js";
import { type Attrs, getOp } from "../../../src/ir/registry.js";
import { formatType, type TensorType } from "../../../src/ir/types.js";
import type { HostBuffer } from "../../../src/exec/backend.js";

export const t = (dtype: DType, shape: readonly number[]): TensorType => ({ dtype, shape: [...shape] });
export const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Appends body nodes with types from each op's own rule. */
export class SpecBuilder {
  readonly nodes: SpecNode[] = [];
  constructor(readonly inputs: readonly TensorType[]) {}
  typeOf(r: Ref): TensorType {
    return "input" in r ? this.inputs[r.input]! : this.nodes[r.node]!.type;
  }
  add(op: string, operands: readonly Ref[], attrs: Attrs = {}): Ref {
    const def = getOp(op);
    const type = def.infer(operands.map((r) => this.typeOf(r)), attrs)[0]!;
    this.nodes.push({ op: def, operands, attrs, type });
    return { node: this.nodes.length - 1 };
  }
  build(kind: FusedKind, yields: readonly Ref[]): KernelSpec {
    return { kind, inputs: this.inputs, nodes: this.nodes, yields, outputs: yields.map((r) => this.typeOf(r)) };
  }
}

export const input = (k: number): Ref => ({ input: k });

/** The CPU generator's result for `spec` (the semantic reference). */
export function cpuSpec(spec: KernelSpec, inputs: readonly TypedArray[]): TypedArray[] {
  const k = compileKernel(spec, "test reference");
  const outs = spec.outputs.map((o) => allocate(o.dtype, size(o.shape)));
  const env = [...inputs, ...outs];
  k.fn(env, Int32Array.from(env.keys()));
  return outs;
}

/** The CPU backend's kernel for one library op. */
export function cpuOp(op: string, inputs: readonly HostBuffer[], attrs: Attrs): { outs: TypedArray[]; types: TensorType[] } {
  const def = getOp(op);
  const types = def.infer(inputs.map((b) => b.type), attrs);
  return { outs: cpuBackend.execute(def, inputs, attrs, types), types };
}

/** A small deterministic generator (LCG), so failures reproduce. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed * 2654435761) >>> 0 || 1;
  }
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s / 2 ** 32;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

const FLOAT_SPECIALS = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.5, -0.5, 2, 100, -100, 1e-3, -1e-3];
const INT_SPECIALS = [0, 1, -1, 2, -2, 2147483647, -2147483648, 31, 32, -31, 7, -7];

export interface DataOptions {
  /** floats only: no NaN/inf/-0 specials */
  readonly finite?: boolean;
  /** floats: values drawn from (-scale, scale) */
  readonly scale?: number;
  /** floats: positive values only */
  readonly positive?: boolean;
}

/** Deterministic data with each dtype's edge values mixed in. */
export function randomData(dtype: DType, n: number, seed: number, opts: DataOptions = {}): TypedArray {
  const a = allocate(dtype, n);
  const r = new Rng(seed);
  const scale = opts.scale ?? 3;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    if (dtype === "bool") a[i] = u < 0.5 ? 0 : 1;
    else if (dtype === "uint8") a[i] = Math.floor(u * 256);
    else if (dtype === "int32") {
      if (i % 5 === 0) a[i] = INT_SPECIALS[r.int(0, INT_SPECIALS.length - 1)]!;
      else if (i % 3 === 0) a[i] = Math.floor((u - 0.5) * 2 ** 32);
      else a[i] = Math.floor((u - 0.5) * 20);
    } else {
      let v: number;
      if (!opts.finite && i % 7 === 3) v = FLOAT_SPECIALS[r.int(0, FLOAT_SPECIALS.length - 1)]!;
      else if (i % 5 === 1) v = r.int(-4, 4); // integral values (pow exponents, mod, floor)
      else v = (u - 0.5) * 2 * scale;
      a[i] = opts.positive ? Math.abs(v) : v;
    }
  }
  return a;
}

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

export const EXACT: Tolerance = { rtol: 0, atol: 0 };

/**
 * Compares `got` with `want`: integers and bools exactly; floats within atol + rtol*|want|, NaN
 * matching NaN, infinities matching exactly, and -0 equal to 0 (GPUs need not keep zero signs).
 * Returns a description of the first mismatches, or undefined.
 */
export function mismatch(got: TypedArray, want: TypedArray, type: TensorType, tol: Tolerance, context?: (i: number) => string): string | undefined {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  const float = dtypeInfo(type.dtype).kind === "float";
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    let ok: boolean;
    if (!float) ok = g === w;
    else if (Number.isNaN(w)) ok = Number.isNaN(g);
    else if (!Number.isFinite(w)) ok = g === w;
    else ok = Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w);
    if (!ok) {
      count++;
      if (bad.length < 6) bad.push(`[${i}] got ${g}, want ${w}${context ? ` (${context(i)})` : ""}`);
    }
  }
  return count === 0 ? undefined : `${count} of ${want.length} elements of ${formatType(type)} differ (rtol ${tol.rtol}, atol ${tol.atol}):\n  ${bad.join("\n  ")}`;
}

export const host = (type: TensorType, data: TypedArray): HostBuffer => ({ type, data });
