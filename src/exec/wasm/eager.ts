/**
 * Eager ops on the WebAssembly kernels: a large enough elementwise op, reduction, matmul or library
 * op with a WebAssembly generator (conv2d, transpose) runs the same kernel a compiled one-op graph
 * would, so eager and fn() results agree and eager code gets SIMD and threads too. Everything else (and every small op, where a call into WebAssembly
 * costs more than it saves) stays on the JavaScript kernels.
 */
import type { TypedArray } from "../../ir/dtype.js";
import type { Attrs, OpDef } from "../../ir/registry.js";
import { sizeOf } from "../../ir/shape.js";
import type { TensorType } from "../../ir/types.js";
import type { HostBuffer } from "../backend.js";
import { isGeneratedReduction, type KernelSpec, specKey } from "../cpu/codegen-fused.js";
import { hasWasmOpKernel, WASM_MIN_ELEMENTS, wasmKernelFor, wasmOpKernelFor } from "./compile-hooks.js";
import { allocateTensorData, type WasmKernelFn } from "./executor.js";
import { LruCache } from "../lru-cache.js";
import { getWasmRuntime } from "./runtime.js";

const CACHE_LIMIT = 512;
/** Kernel functions by spec key; null: no WebAssembly kernel for that spec. */
const kernels = new LruCache<WasmKernelFn | null>(CACHE_LIMIT);

function kindOf(op: OpDef): KernelSpec["kind"] | undefined {
  if (op.kind === "elementwise") return "elementwise";
  if (isGeneratedReduction(op.name)) return "reduce";
  if (op.name === "matmul") return "matmul";
  return undefined;
}

/** Runs `op` on WebAssembly kernels when it is worth it; undefined means: use the JavaScript kernel. */
export function executeEagerWasm(op: OpDef, inputs: readonly HostBuffer[], attrs: Attrs, outTypes: readonly TensorType[]): TypedArray[] | undefined {
  if (outTypes.length !== 1) return undefined;
  const kind = kindOf(op);
  if (kind === undefined && !hasWasmOpKernel(op.name)) return undefined;
  const out = outTypes[0]!;
  let elements = sizeOf(out.shape);
  for (const b of inputs) elements += b.data.length;
  if (elements < WASM_MIN_ELEMENTS || getWasmRuntime() === undefined) return undefined;
  const types = inputs.map((b) => b.type);
  const spec: KernelSpec | undefined = kind && { kind, inputs: types, nodes: [{ op, operands: types.map((_, k) => ({ input: k })), attrs, type: out }], yields: [{ node: 0 }], outputs: [out] };
  const key = spec ? specKey(spec) : `${op.name}|${JSON.stringify([types, attrs, out])}`;
  const fn = kernels.getOrCreate(key, () => (spec ? wasmKernelFor(spec, "always") : wasmOpKernelFor(op.name, types, attrs, outTypes, "always"))?.fn ?? null);
  if (fn === null) return undefined;
  const result = allocateTensorData(out.dtype, sizeOf(out.shape), false);
  const env = [...inputs.map((b) => b.data), result];
  fn(env, SLOTS[env.length] ?? Int32Array.from(env, (_, i) => i));
  return [result];
}

const SLOTS = Array.from({ length: 9 }, (_, n) => Int32Array.from({ length: n }, (_, i) => i));
