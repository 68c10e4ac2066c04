/**
 * The user-facing Tensor. One abstract class with two kinds: EagerTensor (holds a device buffer)
 * and, once tracing exists, SymbolicTensor (stands for a value of a graph being traced). Every op is
 * available as a function and as a method; methods are installed in one place (methods.ts).
 */
import type { DType, TypedArray } from "../ir/dtype.js";
import { DisposedTensorError, ValueError } from "../ir/errors.js";
import { formatType, type TensorType } from "../ir/types.js";
import { formatNDArray } from "../interop/format.js";
import { NDArray, type NestedList } from "../interop/ndarray.js";

export type Device = "cpu";

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

export class EagerTensor extends Tensor {
  readonly #type: TensorType;
  readonly #device: Device;
  #data: TypedArray | null;
  /** A small id for messages (`tensor #12 was disposed`). */
  readonly id = nextId++;

  /** Takes ownership of `data` (not copied): callers pass freshly allocated or immutable buffers. */
  constructor(data: TypedArray, type: TensorType, device: Device = "cpu") {
    super();
    this.#data = data;
    // Types from graphs are already frozen: share them instead of copying on every result.
    this.#type = Object.isFrozen(type) && Object.isFrozen(type.shape) ? type : { dtype: type.dtype, shape: Object.freeze([...type.shape]) };
    this.#device = device;
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
    return this.#data === null;
  }

  /** The backing buffer (shared, never to be mutated). Throws if the tensor was disposed. */
  buffer(): TypedArray {
    if (this.#data === null) {
      throw new DisposedTensorError(`tensor #${this.id} (${formatType(this.#type)}) was used after dispose()`);
    }
    return this.#data;
  }

  numpy(): NDArray {
    return new NDArray(this.buffer().slice(), this.#type.shape, this.#type.dtype);
  }

  dispose(): void {
    this.#data = null;
  }

  override toString(): string {
    if (this.#data === null) return `Tensor(${formatType(this.#type)}, disposed)`;
    return formatNDArray(this.numpy(), "tensor");
  }
}
