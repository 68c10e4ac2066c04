/**
 * WGSL code generation for the WebGPU executor: each KernelSpec (a fused node, or a lone
 * elementwise op, reduction or matmul) becomes one or more compute passes specialized to its
 * static shapes; library ops that are not KernelSpecs (shape ops, gathers, scans, conv, pools, dot, random) get
 * their own kernels from `generateOpWgsl`.
 *
 * The CPU generator (src/exec/cpu/codegen-fused.ts) defines the semantics; the scalar templates in
 * wgsl-scalar.ts mirror the registry's JavaScript templates. Every pass declares only the buffers
 * it uses, each statically used by its entry point (so `layout: "auto"` keeps every binding), and
 * writes every element of its outputs and scratch buffers (nothing is zero-initialized for it).
 */
import type { DType } from "../../ir/dtype.js";
import { ValueError } from "../../ir/errors.js";
import type { Attrs, OpDef } from "../../ir/registry.js";
import { formatType, type TensorType } from "../../ir/types.js";
import { type KernelSpec, specKey } from "../cpu/codegen-fused.js";
import { checkSpec } from "./codegen-body.js";
import { genElementwise } from "./codegen-elementwise.js";
import { genMatmul } from "./codegen-matmul.js";
import { genOp } from "./codegen-ops.js";
import { genReduce } from "./codegen-reduce.js";
import { hash53, storageType } from "./wgsl-common.js";
import { LruCache } from "../lru-cache.js";

export interface WgslLimits {
  maxComputeWorkgroupSizeX: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  /** Storage buffers one pass may bind (WebGPU's default is 8; request the adapter's maximum). */
  maxStorageBuffersPerShaderStage?: number;
}

export type WgslBinding = { kind: "input"; index: number } | { kind: "output"; index: number } | { kind: "scratch"; index: number };

export interface WgslPass {
  code: string;
  entryPoint: string;
  workgroups: [number, number, number];
  /** binding k of @group(0) is bindings[k]; all are storage buffers (inputs read-only). */
  bindings: WgslBinding[];
}

export interface WgslKernel {
  key: string;
  hash: string;
  passes: WgslPass[];
  /** bytes of each scratch buffer */
  scratch: number[];
}

/** The WGSL storage type of a dtype: bool and uint8 are one u32 per element; float64 is a DTypeError naming "webgpu". */
export function gpuStorageDType(dtype: DType): "f32" | "i32" | "u32" {
  return storageType(dtype);
}

/** Bytes a tensor of `t` occupies on the GPU (4 per element, whatever the dtype). */
export function gpuByteSize(t: TensorType): number {
  storageType(t.dtype);
  return 4 * t.shape.reduce((a, b) => a * b, 1);
}

// ---- the cache ------------------------------------------------------------------------------------

/** Most kernels kept; past it the least recently used is dropped. */
export const WGSL_CACHE_LIMIT = 2048;
/** `null`: the GPU has no kernel for that library op. */
const CACHE = new LruCache<WgslKernel | null>(WGSL_CACHE_LIMIT);

export function wgslCacheStats(): { readonly size: number; readonly hits: number; readonly misses: number } {
  return CACHE.stats();
}

export function clearWgslCache(): void {
  CACHE.clear();
}

function limitsKey(l: WgslLimits): string {
  return [
    l.maxComputeWorkgroupSizeX,
    l.maxComputeInvocationsPerWorkgroup,
    l.maxComputeWorkgroupsPerDimension,
    l.maxStorageBufferBindingSize,
    l.maxComputeWorkgroupStorageSize,
    l.maxStorageBuffersPerShaderStage ?? 8,
  ].join(",");
}

/** Checks a generated kernel against the device limits and names it. */
function finish(key: string, made: Omit<WgslKernel, "key" | "hash">, limits: WgslLimits, where: string): WgslKernel {
  const maxBuffers = limits.maxStorageBuffersPerShaderStage ?? 8;
  for (const p of made.passes) {
    if (p.bindings.length > maxBuffers) {
      throw new ValueError(`${where}: a pass binds ${p.bindings.length} storage buffers, more than the device allows per shader stage (${maxBuffers}); request a higher maxStorageBuffersPerShaderStage or split the kernel`);
    }
  }
  return { key, hash: hash53(key), ...made };
}

/** Checks that each tensor fits one storage binding (4 bytes per element). */
function checkSizes(types: readonly TensorType[], limits: WgslLimits, where: string): void {
  for (const t of types) {
    const bytes = gpuByteSize(t);
    if (bytes > limits.maxStorageBufferBindingSize) {
      throw new ValueError(`${where}: ${formatType(t)} needs ${bytes} bytes on the GPU, more than one storage binding allows on this device (${limits.maxStorageBufferBindingSize})`);
    }
  }
}

/** The WGSL kernel for `spec`, generated on first use and cached by the spec's structural key and the limits. */
export function generateWgsl(spec: KernelSpec, limits: WgslLimits): WgslKernel {
  const key = `wgsl:${specKey(spec)}|${limitsKey(limits)}`;
  const where = `webgpu ${spec.kind} kernel (${spec.outputs.map(formatType).join(", ")})`;
  const kernel = CACHE.getOrCreate(key, () => {
    checkSpec(spec, where);
    checkSizes([...spec.inputs, ...spec.outputs], limits, where);
    const made = spec.kind === "elementwise" ? genElementwise(spec, limits, where) : spec.kind === "reduce" ? genReduce(spec, limits, where) : genMatmul(spec, limits, where);
    return finish(key, made, limits, where);
  });
  return kernel!; // only library-op keys ("wgsl-op:") hold null
}

/**
 * A kernel for one library op (not expressible as a KernelSpec): shape ops, gather, oneHot,
 * argmax/argmin, cumsum/cumprod, conv2d, pools, logSumExp, dot, and the random family (Threefry
 * on the GPU; codegen-random.ts states which are bit-exact with the CPU). Undefined for ops the GPU
 * does not run (debugPrint, control flow); the caller raises a typed error naming the op and the device.
 */
export function generateOpWgsl(op: OpDef, inputs: readonly TensorType[], attrs: Attrs, outputs: readonly TensorType[], limits: WgslLimits): WgslKernel | undefined {
  const where = `webgpu ${op.name} (${outputs.map(formatType).join(", ")} <- ${inputs.map(formatType).join(", ")})`;
  const key = `wgsl-op:${JSON.stringify([op.name, inputs.map(formatType), canonical(attrs), outputs.map(formatType)])}|${limitsKey(limits)}`;
  const kernel = CACHE.getOrCreate(key, () => {
    for (const t of [...inputs, ...outputs]) storageType(t.dtype, where);
    checkSizes([...inputs, ...outputs], limits, where);
    const made = genOp(op, inputs, attrs, outputs, limits, where);
    return made === undefined ? null : finish(key, made, limits, where);
  });
  return kernel ?? undefined;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.keys(o).sort().map((k) => [k, canonical(o[k])]);
  }
  return v;
}
