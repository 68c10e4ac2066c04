/**
 * Host <-> GPU copies. On the GPU every element takes 4 bytes: float32 as f32, int32 as i32, bool
 * and uint8 as one u32 each (WGSL has no 8-bit storage). float64 has no WGSL type: it is refused
 * with a DTypeError naming the device, never truncated to f32.
 */
import { allocate, copyArray, type DType, type TypedArray } from "../../ir/dtype.js";
import { DTypeError, WebGPUError } from "../../ir/errors.js";
import { sizeOf } from "../../ir/shape.js";
import { formatType, type TensorType } from "../../ir/types.js";
import type { GpuStorage } from "./buffers.js";
import { MAP_READ, USAGE, type WebGPURuntime } from "./runtime.js";

/** Throws DTypeError for a dtype the webgpu device cannot hold. */
export function checkGpuDType(dtype: DType, where: string): void {
  if (dtype === "float64") {
    throw new DTypeError(`${where}: float64 is not supported on the webgpu device (WGSL has no 64-bit floats); cast to float32 first (x.cast("float32")) or keep the tensor on the cpu`);
  }
}

/** The bytes a tensor of this type takes on the GPU. */
export function gpuBytes(type: TensorType): number {
  return sizeOf(type.shape) * 4;
}

/** The host data as the GPU stores it (a view when the layout already matches). */
function toGpuLayout(data: TypedArray, dtype: DType): Float32Array | Int32Array | Uint32Array {
  if (dtype === "float32") return data as Float32Array;
  if (dtype === "int32") return data as Int32Array;
  return Uint32Array.from(data as Uint8Array);
}

/** Copies host data into a new GPU buffer (queue.writeBuffer: no wait for the GPU). */
export function upload(rt: WebGPURuntime, data: TypedArray, type: TensorType, where: string): GpuStorage {
  checkGpuDType(type.dtype, where);
  rt.checkAlive();
  const storage = rt.pool.acquire(gpuBytes(type), `${where}: ${formatType(type)}`);
  if (data.length > 0) {
    let src = toGpuLayout(data, type.dtype);
    // Tensor data may live in the WebAssembly kernels' shared memory; writeBuffer takes only
    // unshared buffers.
    if (typeof SharedArrayBuffer !== "undefined" && src.buffer instanceof SharedArrayBuffer) src = copyArray(src);
    rt.device.queue.writeBuffer(storage.buffer, 0, src.buffer, src.byteOffset, src.byteLength);
  }
  return storage;
}

/** A fresh GPU buffer with `src`'s first `bytes` copied into it (GPU to GPU). */
export function copyOnDevice(rt: WebGPURuntime, src: GpuStorage, type: TensorType, where: string): GpuStorage {
  const dst = rt.pool.acquire(gpuBytes(type), `${where}: ${formatType(type)}`);
  const bytes = gpuBytes(type);
  if (bytes > 0) {
    rt.scoped({ op: where }, () => {
      const enc = rt.device.createCommandEncoder();
      enc.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, bytes);
      rt.device.queue.submit([enc.finish()]);
    });
  }
  return dst;
}

/**
 * Reads a GPU buffer back into a fresh host array of the tensor's dtype: a copy into a mappable
 * staging buffer, then mapAsync (one synchronization). Reports any GPU error raised by earlier work.
 */
export async function readback(rt: WebGPURuntime, storage: GpuStorage, type: TensorType, where: string): Promise<TypedArray> {
  rt.checkAlive();
  const n = sizeOf(type.shape);
  const bytes = n * 4;
  if (bytes === 0) {
    await rt.settle();
    return allocate(type.dtype, 0);
  }
  const staging = rt.device.createBuffer({ size: bytes, usage: USAGE.MAP_READ | USAGE.COPY_DST, label: `st:readback:${where}` });
  try {
    rt.scoped({ op: where }, () => {
      const enc = rt.device.createCommandEncoder();
      enc.copyBufferToBuffer(storage.buffer, 0, staging, 0, bytes);
      rt.device.queue.submit([enc.finish()]);
    });
    let mapFailed: unknown;
    await staging.mapAsync(MAP_READ).catch((err: unknown) => {
      mapFailed = err;
    });
    // A GPU error from the work that produced this buffer explains a failed map better than the map.
    await rt.settle();
    if (mapFailed !== undefined) {
      rt.checkAlive();
      throw new WebGPUError("internal", `webgpu: ${where}: reading the buffer back failed: ${mapFailed instanceof Error ? mapFailed.message : String(mapFailed)}`, where);
    }
    const mapped = staging.getMappedRange(0, bytes);
    const out = allocate(type.dtype, n);
    if (type.dtype === "float32") (out as Float32Array).set(new Float32Array(mapped));
    else if (type.dtype === "int32") (out as Int32Array).set(new Int32Array(mapped));
    else out.set(new Uint32Array(mapped));
    staging.unmap();
    return out;
  } finally {
    staging.destroy();
  }
}
