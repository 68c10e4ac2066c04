/**
 * Eager ops on the webgpu device: one kernel per (op, attributes, types), found once and cached,
 * one command buffer per op. Results are fresh pooled buffers; nothing waits for the GPU.
 */
import type { Attrs, OpDef } from "../../ir/registry.js";
import { formatType, type TensorType } from "../../ir/types.js";
import type { GpuStorage } from "./buffers.js";
import { acquireScratch, encode, opKernel, prepare, type PreparedKernel } from "./kernels.js";
import { label, type WebGPURuntime } from "./runtime.js";
import { gpuBytes } from "./transfer.js";

const kernels = new WeakMap<WebGPURuntime, Map<string, PreparedKernel>>();

function typeKey(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(",")}]`;
}

function kernelFor(rt: WebGPURuntime, op: OpDef, inputs: readonly TensorType[], attrs: Attrs, outTypes: readonly TensorType[]): PreparedKernel {
  let cache = kernels.get(rt);
  if (!cache) kernels.set(rt, (cache = new Map()));
  const key = `${op.name}|${JSON.stringify(attrs)}|${inputs.map(typeKey).join(",")}|${outTypes.map(typeKey).join(",")}`;
  let k = cache.get(key);
  if (!k) {
    const kernel = opKernel(rt, op, inputs, attrs, outTypes, op.name);
    k = prepare(rt, kernel, op.name);
    cache.set(key, k);
  }
  return k;
}

/**
 * Ops whose result is the operand's buffer read with another shape (the GPU rule table's view
 * entries, as the CPU reshape kernel shares its input's array): no kernel, no copy.
 */
export const VIEW_OPS: ReadonlySet<string> = new Set(["reshape"]);

/** Runs one op on GPU buffers; returns its results' buffers (the caller owns one reference each). */
export function executeOnGpu(rt: WebGPURuntime, op: OpDef, inputs: readonly { storage: GpuStorage; type: TensorType }[], attrs: Attrs, outTypes: readonly TensorType[]): GpuStorage[] {
  rt.checkAlive();
  if (VIEW_OPS.has(op.name) && inputs.length === 1 && outTypes.length === 1) return [inputs[0]!.storage.retain()];
  const k = kernelFor(
    rt,
    op,
    inputs.map((i) => i.type),
    attrs,
    outTypes,
  );
  const outs = outTypes.map((t, i) => rt.pool.acquire(gpuBytes(t), `${op.name} result ${i} (${formatType(t)})`));
  const scratch = acquireScratch(rt, k);
  const storages = inputs.map((i) => i.storage);
  try {
    rt.scoped(k.ctx, () => {
      const enc = rt.device.createCommandEncoder({ label: label(k.ctx) });
      const pass = enc.beginComputePass({ label: label(k.ctx) });
      encode(rt, pass, k, storages, outs, scratch);
      pass.end();
      rt.device.queue.submit([enc.finish()]);
    });
  } catch (err) {
    for (const o of outs) o.release();
    throw err;
  } finally {
    // Safe at once: later work that reuses these buffers is queued after this op.
    for (const s of scratch) s.release();
  }
  return outs;
}
