/**
 * What the CPU compiler asks of the WebAssembly path: a kernel for a spec (or none), and blocks of
 * WebAssembly memory for the executable's slots and constants. Which generator handles which spec
 * kind is decided here, in one place.
 */
import type { TypedArray } from "../../ir/dtype.js";
import type { Attrs } from "../../ir/registry.js";
import { sizeOf } from "../../ir/shape.js";
import type { TensorType } from "../../ir/types.js";
import { type CompiledKernel, hash53, type KernelSpec, specKey } from "../cpu/codegen-fused.js";
import type { SlotAllocator } from "../cpu/memory-plan.js";
import { LruCache } from "../lru-cache.js";
import type { WasmKernelPlan } from "./abi.js";
import { wasmElementwisePlan } from "./codegen-elementwise.js";
import { wasmReducePlan } from "./codegen-reduce.js";
import { allocateInWasm, clearLoadedKernels, wasmKernelFn } from "./executor.js";
import { wasmMatmulPlan } from "./gemm.js";
import { wasmConv2dPlan } from "./conv.js";
import { wasmTransposePlan } from "./transpose.js";
import { getWasmRuntime } from "./runtime.js";
import { emitWarning } from "../../ir/warnings.js";

export type WasmMode = "auto" | "always" | "never";

/**
 * Below this many elements read and written, a kernel stays JavaScript in "auto" mode: the copy
 * into WebAssembly memory and the call cost more than SIMD saves, and tiny graphs keep their
 * sub-microsecond call overhead.
 */
export const WASM_MIN_ELEMENTS = 4096;

/** Plans by spec (null: no generator takes it), least recently used dropped past the limit. */
const PLAN_CACHE_LIMIT = 2048;
const plans = new LruCache<WasmKernelPlan | null>(PLAN_CACHE_LIMIT);

/**
 * Forgets every generated plan and compiled module, so the next compile generates and compiles
 * again (a first call, for benchmarks). Modules already handed to executables stay with them.
 */
export function clearWasmPlanCache(): void {
  plans.clear();
  clearLoadedKernels();
}

function planFor(spec: KernelSpec, shared: boolean): WasmKernelPlan | undefined {
  const key = `${shared ? "s" : "u"}|${specKey(spec)}`;
  return plans.getOrCreate(key, () => generate(spec, { shared }) ?? null) ?? undefined;
}

function generate(spec: KernelSpec, opts: { shared: boolean }): WasmKernelPlan | undefined {
  return (spec.kind === "elementwise" ? wasmElementwisePlan(spec, opts) : spec.kind === "reduce" ? wasmReducePlan(spec, opts) : spec.kind === "matmul" ? wasmMatmulPlan(spec, opts) : undefined);
}

function elementsTouched(spec: KernelSpec): number {
  let n = 0;
  for (const t of spec.inputs) n += sizeOf(t.shape);
  for (const t of spec.outputs) n += sizeOf(t.shape);
  return n;
}

/** A WebAssembly kernel for `spec` in the compiler's kernel shape, or undefined (the JavaScript kernel runs). */
export function wasmKernelFor(spec: KernelSpec, mode: WasmMode): CompiledKernel | undefined {
  if (mode === "never") return undefined;
  const rt = getWasmRuntime();
  if (!rt) return undefined;
  if (mode === "auto" && elementsTouched(spec) < WASM_MIN_ELEMENTS) return undefined;
  const plan = planFor(spec, rt.shared);
  return plan ? asKernel(plan, spec.inputs, spec.outputs) : undefined;
}

/** Library ops with a WebAssembly kernel (not expressible as a KernelSpec): conv2d, transpose. */
const OP_PLANS: Readonly<Record<string, (inputs: readonly TensorType[], attrs: Attrs, outputs: readonly TensorType[], opts: { shared: boolean }) => WasmKernelPlan | undefined>> = {
  conv2d: (inputs, attrs, outputs, opts) => (inputs.length === 2 && outputs.length === 1 ? wasmConv2dPlan(inputs[0]!, inputs[1]!, attrs, outputs[0]!, opts) : undefined),
  transpose: (inputs, attrs, outputs, opts) => (inputs.length === 1 && outputs.length === 1 ? wasmTransposePlan(inputs[0]!, attrs, outputs[0]!, opts) : undefined),
};

/** Whether a library op (not a KernelSpec) has a WebAssembly generator. */
export function hasWasmOpKernel(op: string): boolean {
  return Object.hasOwn(OP_PLANS, op);
}

/** A WebAssembly kernel for one library op node, or undefined (its library kernel runs). */
export function wasmOpKernelFor(op: string, inputs: readonly TensorType[], attrs: Attrs, outputs: readonly TensorType[], mode: WasmMode): CompiledKernel | undefined {
  const make = OP_PLANS[op];
  if (make === undefined || mode === "never") return undefined;
  const rt = getWasmRuntime();
  if (!rt) return undefined;
  let elements = 0;
  for (const t of [...inputs, ...outputs]) elements += sizeOf(t.shape);
  if (mode === "auto" && elements < WASM_MIN_ELEMENTS) return undefined;
  const key = `${rt.shared ? "s" : "u"}|${op}|${JSON.stringify([inputs, attrs, outputs])}`;
  const plan = plans.getOrCreate(key, () => make(inputs, attrs, outputs, { shared: rt.shared }) ?? null);
  return plan ? asKernel(plan, inputs, outputs) : undefined;
}

/** Plan keys whose module the engine refused to compile (they run the JavaScript kernel). */
const refused = new Set<string>();
let refusalReported = false;

/**
 * The plan as a compiled kernel, or undefined when the engine refuses its module: Chrome compiles
 * modules over 4 KB synchronously only off the main thread (run symtensor in a Web Worker), and an
 * engine may lack an instruction. The JavaScript kernel then runs, and warning ST103 says why once.
 */
function asKernel(plan: WasmKernelPlan, inputs: readonly TensorType[], outputs: readonly TensorType[]): CompiledKernel | undefined {
  if (refused.has(plan.key)) return undefined;
  let fn: ReturnType<typeof wasmKernelFn>;
  try {
    fn = wasmKernelFn(plan, inputs, outputs);
  } catch (err) {
    if (!(err instanceof WebAssembly.CompileError || err instanceof RangeError)) throw err;
    refused.add(plan.key);
    if (!refusalReported) {
      refusalReported = true;
      emitWarning(
        "ST103",
        `a WebAssembly kernel could not be compiled here (${err.message}); such kernels run as JavaScript. In a browser, run symtensor in a Web Worker: the main thread compiles only small modules synchronously.`,
      );
    }
    return undefined;
  }
  const phases = plan.phases.map((p) => `${p.entry}: ${p.items} items in chunks of ${p.grain}`).join("; ");
  return {
    key: plan.key,
    hash: hash53(plan.key),
    source: `;; WebAssembly SIMD kernel (${plan.bytes.length} bytes; ${phases}; scratch ${plan.scratchBytes} bytes)\n;; ${plan.key}\n`,
    fn,
    scratchBytes: 0,
    // Vector kernels may load an operand after storing a lane of an output (a matmul writes
    // partial sums into its output): never in place.
    inPlace: outputs.map(() => []),
  };
}

/**
 * Slots for an executable with WebAssembly steps: blocks of the shared memory, freed with `owner`.
 * Undefined for a plain memory, whose views detach when it grows (its kernels copy instead).
 */
export function wasmSlotAllocator(owner: object): SlotAllocator | undefined {
  const rt = getWasmRuntime();
  if (!rt?.shared) return undefined;
  return (bytes) => allocateInWasm(rt, { dtype: "uint8", shape: [bytes] }, owner);
}

/** A copy of a constant in the shared WebAssembly memory (freed with `owner`), or the constant itself. */
export function stageConstant(data: TypedArray, type: TensorType, owner: object): TypedArray {
  const rt = getWasmRuntime();
  if (!rt?.shared || data.length === 0) return data;
  const copy = allocateInWasm(rt, type, owner);
  copy.set(data as never);
  return copy;
}
