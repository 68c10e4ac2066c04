/**
 * The user-facing Tensor. One abstract class with two kinds: EagerTensor (holds a device buffer)
 * and, once tracing exists, SymbolicTensor (stands for a value of a graph being traced). Every op is
 * available as a function and as a method; methods are installed in one place (methods.ts).
 */
import { copyArray, type DType, type TypedArray } from "../ir/dtype.js";
import { DeviceSyncError, DisposedTensorError, ValueError } from "../ir/errors.js";
import { sizeOf } from "../ir/shape.js";
import { formatType, type TensorType } from "../ir/types.js";
import { formatNDArray } from "../interop/format.js";
import { NDArray, type NestedList } from "../interop/ndarray.js";
import type { GpuStorage } from "../exec/webgpu/buffers.js";
import { releaseTensorData, retainTensorData } from "../exec/wasm/executor.js";
import { requireWebGPU } from "../exec/webgpu/runtime.js";
import { readback, upload } from "../exec/webgpu/transfer.js";
import { checkDevice, countDeviceToHost, countHostToDevice } from "./device.js";

/** Where a tensor's data lives: "cpu" (typed arrays) or "webgpu" (GPU buffers, read asynchronously). */
export type Device = "cpu" | "webgpu";

export abstract class Tensor {
  abstract get shape(): readonly number[];
  abstract get dtype(): DType;
  abstract get device(): Device;

  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
  get type(): TensorType {
    return { dtype: this.dtype, shape: this.shape };
  }

  /** An independent host copy of the value: mutating it never changes the tensor. */
  abstract numpy(): NDArray;
  abstract dispose(): void;

  /**
   * The value as a host NDArray, on every device (a GPU tensor is read back; a cpu tensor resolves
   * at once). Always a copy.
   */
  async numpyAsync(): Promise<NDArray> {
    return this.numpy();
  }
  /** The elements as a fresh typed array of the tensor's dtype, on every device. */
  async data(): Promise<TypedArray> {
    return (await this.numpyAsync()).data;
  }
  /** This tensor on `device` (itself when it is already there). Async: leaving a GPU needs a readback. */
  async to(device: Device): Promise<Tensor> {
    checkDevice(device, "to");
    return this;
  }

  /** The value of a size-1 tensor as a JS number (boolean for bool tensors). */
  item(): number | boolean {
    return this.numpy().item();
  }
  tolist(): NestedList {
    return this.numpy().tolist();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * JS coercion. Strings describe the tensor; numbers (`Number(t)`, `+t`, `t > 0`) work for
   * one-element eager tensors, like PyTorch's float(t). Symbolic tensors throw instead.
   */
  [Symbol.toPrimitive](hint: string): string | number {
    if (hint === "string") return this.toString();
    return this.valueOf();
  }
  valueOf(): number {
    if (this.size !== 1) {
      throw new ValueError(`only a tensor with exactly one element converts to a JS number; this one is ${formatType(this.type)}. Use item() on a reduction (reduceSum(t).item()) or numpy() for the whole array`);
    }
    return Number(this.item());
  }
  /** Iterates over the first axis (as NumPy does); installed with the other methods in methods.ts. */
  [Symbol.iterator](): Iterator<Tensor> {
    throw new Error("Tensor methods are not installed: import symtensor from its package entry point");
  }
}

let nextId = 0;

/** Forgotten GPU tensors give their buffer back when collected (dispose() does it at once). */
let gpuFinalizer: FinalizationRegistry<GpuStorage> | undefined;

export class EagerTensor extends Tensor {
  readonly #type: TensorType;
  readonly #device: Device;
  #data: TypedArray | null;
  /** The GPU buffer of a webgpu tensor (then #data is null). */
  #gpu: GpuStorage | null = null;
  /** A small id for messages (`tensor #12 was disposed`). */
  readonly id = nextId++;

  /** Takes ownership of `data` (not copied): callers pass freshly allocated or immutable buffers. */
  constructor(data: TypedArray, type: TensorType, device: Device = "cpu") {
    super();
    this.#data = data;
    retainTensorData(data);
    // Types from graphs are already frozen: share them instead of copying on every result.
    this.#type = Object.isFrozen(type) && Object.isFrozen(type.shape) ? type : { dtype: type.dtype, shape: Object.freeze([...type.shape]) };
    this.#device = device;
  }

  /**
   * A tensor on the webgpu device owning `storage` (one reference, released by dispose() or when
   * the tensor is collected).
   */
  static onGpu(storage: GpuStorage, type: TensorType): EagerTensor {
    const t = new EagerTensor(EMPTY, type, "webgpu");
    t.#data = null;
    t.#gpu = storage;
    (gpuFinalizer ??= new FinalizationRegistry((s) => s.release())).register(t, storage, t);
    return t;
  }

  /** The GPU buffer of a webgpu tensor (shared, never to be written). Throws if disposed. */
  gpuStorage(): GpuStorage {
    if (this.#gpu === null) {
      if (this.#device === "webgpu") throw this.#disposedError();
      throw new ValueError(`tensor #${this.id} is on ${this.#device}, not on webgpu`);
    }
    return this.#gpu;
  }

  #disposedError(): DisposedTensorError {
    return new DisposedTensorError(`tensor #${this.id} (${formatType(this.#type)}) was used after dispose()`);
  }

  #signature: string | undefined;
  /** `T:float32[2,3]@cpu`: this tensor's part of a fn() cache key (memoized: types never change). */
  get signatureKey(): string {
    return (this.#signature ??= `T:${this.#type.dtype}[${this.#type.shape.join(",")}]@${this.#device}`);
  }

  get shape(): readonly number[] {
    return this.#type.shape;
  }
  get dtype(): DType {
    return this.#type.dtype;
  }
  get device(): Device {
    return this.#device;
  }
  override get type(): TensorType {
    return this.#type;
  }
  get isDisposed(): boolean {
    return this.#data === null && this.#gpu === null;
  }

  /**
   * The backing host buffer (shared, never to be mutated). Throws if the tensor was disposed, and
   * DeviceSyncError for a GPU tensor, whose data the host cannot read synchronously.
   */
  buffer(): TypedArray {
    if (this.#data === null) throw this.#unreadable();
    return this.#data;
  }

  #unreadable(): Error {
    if (this.#gpu === null) return this.#disposedError();
    return new DeviceSyncError(
      this.#device,
      `tensor #${this.id} (${formatType(this.#type)}) lives on the ${this.#device} device, whose data cannot be read synchronously here (the GPU works asynchronously); read it with \`await t.numpyAsync()\` or \`await t.data()\`, or move it with \`await t.to("cpu")\``,
    );
  }

  numpy(): NDArray {
    const data = copyArray(this.buffer());
    countDeviceToHost("cpu", data.byteLength, false);
    return new NDArray(data, this.#type.shape, this.#type.dtype);
  }

  override async numpyAsync(): Promise<NDArray> {
    if (this.#gpu === null) return this.numpy();
    return new NDArray(await this.#readGpu("numpyAsync"), this.#type.shape, this.#type.dtype);
  }

  async #readGpu(where: string): Promise<TypedArray> {
    const storage = this.#gpu;
    if (storage === null) throw this.#disposedError();
    const rt = requireWebGPU(where);
    // Keep the buffer while the copy is in flight, even if the tensor is disposed meanwhile.
    storage.retain();
    try {
      const data = await readback(rt, storage, this.#type, `${where} of tensor #${this.id}`);
      countDeviceToHost("webgpu", sizeOf(this.#type.shape) * 4, true);
      return data;
    } finally {
      storage.release();
    }
  }

  override async to(device: Device): Promise<Tensor> {
    const to = checkDevice(device, "to");
    if (to === this.#device) {
      if (this.isDisposed) throw this.#disposedError();
      return this;
    }
    if (to === "cpu") return new EagerTensor(await this.#readGpu("to(\"cpu\")"), this.#type, "cpu");
    return EagerTensor.onGpu(uploadHost(this.buffer(), this.#type, "to(\"webgpu\")"), this.#type);
  }

  dispose(): void {
    if (this.#data !== null) releaseTensorData(this.#data);
    this.#data = null;
    if (this.#gpu !== null) {
      gpuFinalizer?.unregister(this);
      this.#gpu.release();
      this.#gpu = null;
    }
  }

  override toString(): string {
    if (this.#gpu !== null) return `Tensor(${formatType(this.#type)}, device=${this.#device}; read it with await t.numpyAsync())`;
    if (this.#data === null) return `Tensor(${formatType(this.#type)}, disposed)`;
    return formatNDArray(this.numpy(), "tensor");
  }
}

const EMPTY = new Float32Array(0);

/** Copies host data into a new GPU buffer, counted as a host-to-device transfer on webgpu. */
export function uploadHost(data: TypedArray, type: TensorType, where: string): GpuStorage {
  const storage = upload(requireWebGPU(where), data, type, where);
  countHostToDevice("webgpu", sizeOf(type.shape) * 4);
  return storage;
}

/**
 * A tensor on `device` holding `data` (owned, not copied, on the cpu; uploaded on webgpu). Counts
 * nothing on the cpu: callers that copy user data in count it (tensor()).
 */
export function tensorOn(data: TypedArray, type: TensorType, device: Device, where: string): EagerTensor {
  if (device === "cpu") return new EagerTensor(data, type, "cpu");
  return EagerTensor.onGpu(uploadHost(data, type, where), type);
}
