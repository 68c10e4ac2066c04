/**
 * A tiny standalone WebGPU runner for the code generator's tests: it gets a device from the
 * `webgpu` package (Dawn for Node), runs a WgslKernel on host buffers and reads the outputs back.
 * It is independent of the WebGPU executor, so generator tests do not depend on it.
 *
 * Without an adapter the tests skip with one line saying why, unless SYMTENSOR_REQUIRE_WEBGPU=1
 * (then loading this module fails). On a machine without a GPU, SwiftShader from Debian's chromium
 * package provides one: VK_ICD_FILENAMES defaults to its ICD when that file exists.
 */
import { existsSync } from "node:fs";
import type { TypedArray } from "../../../src/ir/dtype.js";
import type { TensorType } from "../../../src/ir/types.js";
import type { HostBuffer } from "../../../src/exec/backend.js";
import type { WgslKernel, WgslLimits } from "../../../src/exec/webgpu/codegen.js";

const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

interface Loaded {
  readonly gpu: GPU | undefined;
  readonly device: GPUDevice | undefined;
  readonly reason: string | undefined;
}

async function load(): Promise<Loaded> {
  if (process.env["VK_ICD_FILENAMES"] === undefined && existsSync(SWIFTSHADER_ICD)) process.env["VK_ICD_FILENAMES"] = SWIFTSHADER_ICD;
  let gpu: GPU;
  try {
    const { create, globals } = await import("webgpu");
    Object.assign(globalThis, globals);
    gpu = create([]);
  } catch (err) {
    return { gpu: undefined, device: undefined, reason: `the webgpu package does not load (${err instanceof Error ? err.message : String(err)})` };
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { gpu, device: undefined, reason: "no WebGPU adapter (set VK_ICD_FILENAMES to a Vulkan ICD, e.g. SwiftShader's)" };
  // Ask for the adapter's maxima the generator benefits from.
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
    },
  });
  device.addEventListener("uncapturederror", (e) => {
    console.error(`webgpu uncaptured error: ${(e as GPUUncapturedErrorEvent).error.message}`);
  });
  return { gpu, device, reason: undefined };
}

/**
 * Loaded once per test process and never released: Dawn crashes if the GPU object is collected
 * while work is pending, so the instance stays reachable from this module-level constant.
 */
const LOADED: Loaded = await load();

if (LOADED.reason !== undefined) {
  if (process.env["SYMTENSOR_REQUIRE_WEBGPU"] === "1") throw new Error(`SYMTENSOR_REQUIRE_WEBGPU=1 but ${LOADED.reason}`);
  console.warn(`webgpu codegen tests skipped: ${LOADED.reason}`);
}

export const gpuDevice: GPUDevice | undefined = LOADED.device;
export const hasGpu: boolean = LOADED.device !== undefined;

/** A description of the adapter, for test names and benchmark lines. */
export function gpuName(): string {
  const info = LOADED.device?.adapterInfo;
  return info ? `${info.vendor} ${info.architecture} ${info.description}`.trim() : "none";
}

export function deviceLimits(): WgslLimits {
  const l = need().limits;
  return {
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
}

function need(): GPUDevice {
  if (!LOADED.device) throw new Error(`no WebGPU device: ${LOADED.reason}`);
  return LOADED.device;
}

const pipelines = new Map<string, GPUComputePipeline>();

async function pipelineFor(code: string, entryPoint: string): Promise<GPUComputePipeline> {
  const hit = pipelines.get(code);
  if (hit) return hit;
  const device = need();
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length > 0) {
    await device.popErrorScope();
    const numbered = code.split("\n").map((l, i) => `${String(i + 1).padStart(4)}  ${l}`).join("\n");
    throw new Error(`WGSL does not compile:\n${errors.map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`).join("\n")}\n${numbered}`);
  }
  const pipeline = await device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint } });
  const err = await device.popErrorScope();
  if (err) throw new Error(`pipeline creation failed: ${err.message}\n${code}`);
  pipelines.set(code, pipeline);
  return pipeline;
}

/** Host data as the GPU stores it: bool and uint8 widen to one u32 per element. */
function toGpuBytes(b: HostBuffer): ArrayBufferView {
  const d = b.type.dtype;
  if (d === "bool" || d === "uint8") return Uint32Array.from(b.data as Uint8Array);
  return b.data;
}

function fromGpu(t: TensorType, bytes: ArrayBuffer, n: number): TypedArray {
  const d = t.dtype;
  if (d === "bool" || d === "uint8") {
    const u = new Uint32Array(bytes, 0, n);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      // A value outside the dtype's range is a generator bug: keep it visible instead of wrapping it.
      if (u[i]! > (d === "bool" ? 1 : 255)) throw new Error(`GPU result ${formatDType(t)}[${i}] = ${u[i]}, outside the dtype's range`);
      out[i] = u[i]!;
    }
    return out;
  }
  return d === "float32" ? new Float32Array(bytes.slice(0, n * 4)) : new Int32Array(bytes.slice(0, n * 4));
}

const formatDType = (t: TensorType): string => `${t.dtype}[${t.shape.join(",")}]`;

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

interface Prepared {
  readonly buffers: { inputs: GPUBuffer[]; outputs: GPUBuffer[]; scratch: GPUBuffer[] };
  readonly encode: (enc: GPUCommandEncoder) => void;
  readonly destroy: () => void;
}

async function prepare(kernel: WgslKernel, inputs: readonly HostBuffer[], outputs: readonly TensorType[]): Promise<Prepared> {
  const device = need();
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const make = (bytes: number) => device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
  const ins = inputs.map((b) => {
    const buf = make(4 * b.data.length);
    const data = toGpuBytes(b);
    if (data.byteLength > 0) device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  });
  // Poison outputs and scratch so a kernel that skips elements fails loudly (NaN / large ints).
  const poison = (bytes: number) => {
    const buf = make(bytes);
    const fill = new Uint32Array(buf.size / 4).fill(0x7fc00001);
    device.queue.writeBuffer(buf, 0, fill);
    return buf;
  };
  const outs = outputs.map((t) => poison(4 * sizeOf(t.shape)));
  const scratch = kernel.scratch.map((bytes) => poison(bytes));
  const passes = await Promise.all(
    kernel.passes.map(async (p) => {
      const pipeline = await pipelineFor(p.code, p.entryPoint);
      const entries = p.bindings.map((b, k) => {
        const buffer = b.kind === "input" ? ins[b.index] : b.kind === "output" ? outs[b.index] : scratch[b.index];
        if (!buffer) throw new Error(`binding ${k} names ${b.kind} ${b.index}, which does not exist`);
        return { binding: k, resource: { buffer } };
      });
      device.pushErrorScope("validation");
      const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      const err = await device.popErrorScope();
      if (err) throw new Error(`bind group creation failed: ${err.message}\n${p.code}`);
      return { pipeline, group, workgroups: p.workgroups };
    }),
  );
  return {
    buffers: { inputs: ins, outputs: outs, scratch },
    encode(enc) {
      for (const p of passes) {
        const pass = enc.beginComputePass();
        pass.setPipeline(p.pipeline);
        pass.setBindGroup(0, p.group);
        pass.dispatchWorkgroups(...p.workgroups);
        pass.end();
      }
    },
    destroy() {
      for (const b of [...ins, ...outs, ...scratch]) b.destroy();
    },
  };
}

/** Runs `kernel` on host inputs and returns its outputs as host arrays of their dtypes. */
export async function runKernel(kernel: WgslKernel, inputs: readonly HostBuffer[], outputs: readonly TensorType[]): Promise<TypedArray[]> {
  const device = need();
  const prep = await prepare(kernel, inputs, outputs);
  device.pushErrorScope("validation");
  const enc = device.createCommandEncoder();
  prep.encode(enc);
  const reads = prep.buffers.outputs.map((b) => {
    const r = device.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.copyBufferToBuffer(b, 0, r, 0, b.size);
    return r;
  });
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`dispatch failed: ${err.message}`);
  const results = await Promise.all(
    reads.map(async (r, o) => {
      await r.mapAsync(GPUMapMode.READ);
      const t = outputs[o]!;
      const out = fromGpu(t, r.getMappedRange().slice(0), sizeOf(t.shape));
      r.unmap();
      r.destroy();
      return out;
    }),
  );
  prep.destroy();
  return results;
}

/**
 * Median milliseconds per run of `kernel` over `reps` timed samples, buffers staying on the GPU.
 * A sample records `inner` runs in one command buffer and waits for onSubmittedWorkDone, with
 * `inner` chosen so a sample takes about 20 ms: a single short run would mostly time the submit
 * and the wait. Warm-up runs first for at least 100 ms (at least two runs): a GPU that was idle
 * (the host generating data between sizes) clocks down, and a lone warm-up run does not bring
 * it back, which is what made the 4096 tile sweep report a quarter of the real throughput.
 */
export async function timeKernel(kernel: WgslKernel, inputs: readonly HostBuffer[], outputs: readonly TensorType[], reps: number): Promise<number> {
  const device = need();
  const prep = await prepare(kernel, inputs, outputs);
  const sample = async (inner: number): Promise<number> => {
    const enc = device.createCommandEncoder();
    for (let r = 0; r < inner; r++) prep.encode(enc);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / inner;
  };
  let one = await sample(1);
  const warm = performance.now();
  for (let i = 0; i < 50 && (i < 1 || performance.now() - warm < 100); i++) one = Math.min(one, await sample(1));
  const inner = Math.max(1, Math.min(256, Math.round(20 / Math.max(one, 1e-3))));
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await sample(inner));
  prep.destroy();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
