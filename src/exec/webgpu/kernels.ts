/**
 * Running generated WGSL kernels: pipelines (cached by the kernel's structural key and pass index),
 * bind groups (binding k of @group(0) is `pass.bindings[k]`: inputs read-only storage, outputs and
 * scratch read-write storage), and dispatches. Choosing the kernel for a node lives here too, so
 * eager ops and compiled graphs pick kernels the same way.
 */
import { DeviceError } from "../../ir/errors.js";
import { FUSED_KINDS, type FusedKind } from "../../ir/ops/fused.js";
import type { Attrs, OpDef } from "../../ir/registry.js";
import { formatType, type TensorType } from "../../ir/types.js";
import { isGeneratedReduction, type KernelSpec } from "../cpu/codegen-fused.js";
import type { GpuStorage } from "./buffers.js";
import { generateOpWgsl, generateWgsl, type WgslKernel, type WgslLimits, type WgslPass } from "./codegen.js";
import { checkGpuDType } from "./transfer.js";
import { label, type WebGPURuntime, type WorkContext } from "./runtime.js";

export type { WgslKernel } from "./codegen.js";

/** Single ops that compile as one-node kernel specs (as the CPU compiler does); others ask generateOpWgsl. */
function singleOpKind(op: OpDef): FusedKind | undefined {
  if (op.kind === "elementwise") return "elementwise";
  if (isGeneratedReduction(op.name)) return "reduce";
  if (op.name === "matmul") return "matmul";
  return undefined;
}

export function wgslLimits(rt: WebGPURuntime): WgslLimits {
  return rt.limits;
}

/** The spec of one op as a kernel of its own. */
export function singleOpSpec(op: OpDef, inputs: readonly TensorType[], attrs: Attrs, outputs: readonly TensorType[]): KernelSpec | undefined {
  const kind = singleOpKind(op);
  if (!kind || outputs.length !== 1 || !(FUSED_KINDS as readonly string[]).includes(kind)) return undefined;
  return { kind, inputs, nodes: [{ op, operands: inputs.map((_, k) => ({ input: k })), attrs, type: outputs[0]! }], yields: [{ node: 0 }], outputs };
}

/** Refuses float64 operands or results, naming the op and the device. */
export function checkTypes(where: string, types: readonly TensorType[]): void {
  for (const t of types) checkGpuDType(t.dtype, `${where} (${formatType(t)})`);
}

/** The WGSL kernel for one op; DeviceError naming op and device when there is none. */
export function opKernel(rt: WebGPURuntime, op: OpDef, inputs: readonly TensorType[], attrs: Attrs, outputs: readonly TensorType[], where: string): WgslKernel {
  checkTypes(where, [...inputs, ...outputs]);
  const spec = singleOpSpec(op, inputs, attrs, outputs);
  const kernel = spec ? generateWgsl(spec, wgslLimits(rt)) : generateOpWgsl(op, inputs, attrs, outputs, wgslLimits(rt));
  if (!kernel) {
    throw new DeviceError(`${where}: op ${op.name} has no kernel on the webgpu device (${inputs.map(formatType).join(", ")}); compute it on the cpu (await t.to("cpu"))`);
  }
  return kernel;
}

/** A kernel with its pipelines created (at most once per kernel key and pass). */
export interface PreparedKernel {
  readonly kernel: WgslKernel;
  readonly pipelines: readonly GPUComputePipeline[];
  readonly ctx: WorkContext;
  /**
   * Per pass, the last bind group made and the buffers and sizes it binds: a compiled function
   * called on the same tensors (slots, constants, and pooled results that come back to the same
   * buffer) reuses it instead of creating one per dispatch.
   */
  readonly lastGroups: ({ buffers: GPUBuffer[]; sizes: number[]; group: GPUBindGroup } | undefined)[];
}

/**
 * Per binding, read-only or read-write storage, as the shader declares it (the explicit layout must
 * match the declaration exactly); bindings the text does not show default to their kind.
 */
function bindingKinds(pass: WgslPass): ("read" | "write")[] {
  const declared = new Map<number, "read" | "write">();
  for (const m of pass.code.matchAll(/@binding\((\d+)\)\s*var\s*<\s*storage\s*,\s*(read_write|read)\s*>/g)) {
    declared.set(Number(m[1]), m[2] === "read" ? "read" : "write");
  }
  return pass.bindings.map((b, k) => declared.get(k) ?? (b.kind === "input" ? "read" : "write"));
}

export function prepare(rt: WebGPURuntime, kernel: WgslKernel, op: string): PreparedKernel {
  const ctx: WorkContext = { op, kernel: kernel.hash };
  const pipelines = kernel.passes.map((pass, i) => rt.pipeline(`${kernel.key}#${i}`, pass.code, pass.entryPoint, bindingKinds(pass), ctx));
  return { kernel, pipelines, ctx, lastGroups: kernel.passes.map(() => undefined) };
}

/** Scratch buffers for a kernel (the caller releases them once the work is submitted, or keeps them). */
export function acquireScratch(rt: WebGPURuntime, k: PreparedKernel): GpuStorage[] {
  return k.kernel.scratch.map((bytes, i) => rt.pool.acquire(Math.max(4, bytes), `${k.ctx.op}: scratch ${i}`));
}

/**
 * Records a kernel's dispatches into `pass`. Zero-sized dispatches are skipped (an empty output
 * needs no work, and a binding of an empty tensor would still be 4 bytes).
 */
export function encode(rt: WebGPURuntime, pass: GPUComputePassEncoder, k: PreparedKernel, inputs: readonly GpuStorage[], outputs: readonly GpuStorage[], scratch: readonly GpuStorage[]): void {
  k.kernel.passes.forEach((p, i) => {
    const [x, y, z] = p.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const pick = (b: WgslPass["bindings"][number]): GpuStorage => {
      const s = b.kind === "input" ? inputs[b.index] : b.kind === "output" ? outputs[b.index] : scratch[b.index];
      if (!s) throw new DeviceError(`webgpu: kernel ${k.kernel.hash} binds ${b.kind} ${b.index}, which ${k.ctx.op} does not have`);
      return s;
    };
    const storages = p.bindings.map(pick);
    const buffers = storages.map((s) => s.buffer);
    // Whole 16-byte quads: vec4 kernels read (never write) the padding of a partial last quad;
    // pool buffers are at least 256 bytes and multiples of 16, so the rounded size fits.
    const sizes = storages.map((s) => Math.min(s.buffer.size, Math.ceil(s.bytes / 16) * 16));
    const last = k.lastGroups[i];
    let group: GPUBindGroup;
    if (last && last.buffers.every((b, j) => b === buffers[j]) && last.sizes.every((n, j) => n === sizes[j])) group = last.group;
    else {
      group = rt.device.createBindGroup({
        label: label(k.ctx),
        layout: k.pipelines[i]!.getBindGroupLayout(0),
        entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer, offset: 0, size: sizes[binding]! } })),
      });
      k.lastGroups[i] = { buffers, sizes, group };
    }
    pass.setPipeline(k.pipelines[i]!);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
  });
}
