/**
 * NDArray: what `.numpy()` returns. A dense, C-ordered host array that owns its data (always a
 * copy of the tensor's), with NumPy's vocabulary: dtype, shape, strides (in bytes, as NumPy),
 * size, ndim, get/set, tolist, item, reshape, astype, toString in NumPy's repr style, and .npy bytes.
 */
import { allocate, copyArray, type DType, dtypeInfo, dtypeOfTypedArray, isFloat, parseDType, type TypedArray } from "../ir/dtype.js";
import { DTypeError, IndexError, ShapeError, ValueError } from "../ir/errors.js";
import * as M from "../ir/scalar-math.js";
import { checkShape, describe, sizeOf, stridesOf } from "../ir/shape.js";
import { formatNDArray } from "./format.js";
import { decodeNpy, encodeNpy } from "./npy.js";

export type NestedList = number | boolean | NestedList[];

export class NDArray {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;

  /**
   * Wraps `data` without copying. Prefer `asarray(x)` or `tensor.numpy()`, which copy; this
   * constructor is for code that has just allocated `data` and hands it over.
   */
  constructor(data: TypedArray, shape: readonly number[], dtype?: DType) {
    const d = dtype ?? dtypeOfTypedArray(data);
    if (!d) throw new DTypeError(`NDArray: cannot infer a dtype from ${describe(data)}`);
    const expected = dtypeInfo(d).array;
    if (!(data instanceof expected)) {
      throw new DTypeError(`NDArray: dtype ${d} needs a ${expected.name}, got ${describe(data)}`);
    }
    const s = checkShape(shape, "NDArray");
    if (sizeOf(s) !== data.length) {
      throw new ShapeError(`NDArray: shape [${s.join(",")}] has ${sizeOf(s)} elements but the data has ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze(s);
    this.dtype = d;
  }

  get size(): number {
    return this.data.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get itemsize(): number {
    return dtypeInfo(this.dtype).itemsize;
  }
  get nbytes(): number {
    return this.size * this.itemsize;
  }
  /** Byte strides, as NumPy reports them for a C-contiguous array. */
  get strides(): readonly number[] {
    return stridesOf(this.shape).map((s) => s * this.itemsize);
  }

  /** The flat position of `index`; out-of-range indices throw IndexError (ST406), as in NumPy. */
  private offset(index: readonly number[], where: string): number {
    if (index.length !== this.ndim) {
      throw new IndexError(`NDArray.${where}: expected ${this.ndim} indices for shape [${this.shape.join(",")}], got ${index.length}`);
    }
    let off = 0;
    let stride = 1;
    for (let i = index.length - 1; i >= 0; i--) {
      const n = this.shape[i]!;
      let k = index[i]!;
      if (typeof k !== "number" || !Number.isInteger(k)) {
        throw new ValueError(`NDArray.${where}: index ${describe(k)} on axis ${i} is not an integer`);
      }
      if (k < 0) k += n;
      if (k < 0 || k >= n) throw new IndexError(`NDArray.${where}: index ${index[i]} is out of bounds for axis ${i} with size ${n}`);
      off += k * stride;
      stride *= n;
    }
    return off;
  }

  /** The element at `index` (negative indices count from the end). Bool arrays give booleans. */
  get(...index: number[]): number | boolean {
    const v = this.data[this.offset(index, "get")]!;
    return this.dtype === "bool" ? v !== 0 : v;
  }

  /** Sets one element, converting the value with the same rules as `astype` (a JS number is a float64). */
  set(value: number | boolean, ...index: number[]): void {
    if (typeof value !== "number" && typeof value !== "boolean") {
      throw new ValueError(`NDArray.set: value must be a number or boolean, got ${describe(value)}`);
    }
    this.data[this.offset(index, "set")] = convertScalar(Number(value), this.dtype);
  }

  /**
   * The element at `index` as a JS number (boolean for bool arrays); with no index, the only
   * element of a size-1 array, as NumPy's `a.item()`.
   */
  item(...index: number[]): number | boolean {
    if (index.length === 0) {
      if (this.size !== 1) {
        throw new ValueError(`item(): only arrays of size 1 convert to a scalar, this one has shape [${this.shape.join(",")}] (size ${this.size})`);
      }
      const v = this.data[0]!;
      return this.dtype === "bool" ? v !== 0 : v;
    }
    const v = this.data[this.offset(index, "item")]!;
    return this.dtype === "bool" ? v !== 0 : v;
  }

  /** The values as nested JS arrays (numbers, or booleans for bool arrays); a 0-d array gives a scalar. */
  tolist(): NestedList {
    const isBool = this.dtype === "bool";
    const data = this.data;
    const shape = this.shape;
    let pos = 0;
    const build = (axis: number): NestedList => {
      if (axis === shape.length) {
        const v = data[pos++]!;
        return isBool ? v !== 0 : v;
      }
      const out: NestedList[] = [];
      for (let i = 0; i < shape[axis]!; i++) out.push(build(axis + 1));
      return out;
    };
    return build(0);
  }

  /** A reshaped copy; one dimension may be -1. */
  reshape(...shape: number[] | [readonly number[]]): NDArray {
    const dims = (Array.isArray(shape[0]) ? shape[0] : shape) as readonly number[];
    const resolved = resolveReshape(this.shape, dims, "NDArray.reshape");
    return new NDArray(copyArray(this.data), resolved, this.dtype);
  }

  /**
   * A converted copy (always a copy, even to the same dtype). float -> int truncates toward zero,
   * saturating at the target's range, NaN -> 0; int -> int wraps; anything -> bool is `!= 0`.
   */
  astype(dtype: DType): NDArray {
    const to = parseDType(dtype, "NDArray.astype");
    return new NDArray(castArray(this.data, this.dtype, to), this.shape, to);
  }

  /** An independent copy with the same dtype and shape. */
  copy(): NDArray {
    return new NDArray(this.data.slice(), this.shape, this.dtype);
  }

  /** NumPy's repr: `array([[1., 2.], [3., 4.]], dtype=float32)`. */
  toString(): string {
    return formatNDArray(this, "array");
  }

  /** The array as .npy file bytes (format 1.0, C order, little-endian), byte-identical to np.save. */
  toNpy(): Uint8Array {
    return encodeNpy(this.data, this.shape, this.dtype);
  }

  /**
   * Reads .npy file bytes (format 1.0-3.0, either byte order, C or Fortran order) of a symtensor
   * dtype; anything else, including pickled object arrays, throws FormatError (ST501).
   */
  static fromNpy(bytes: Uint8Array): NDArray {
    const { data, shape, dtype } = decodeNpy(bytes);
    return new NDArray(data, shape, dtype);
  }
}

/** Converts one number to what a typed array of `to` stores, with symtensor's cast rules. */
export function convertScalar(v: number, to: DType, from?: DType): number {
  switch (to) {
    case "bool":
      return v !== 0 ? 1 : 0;
    case "int32":
      return from !== undefined && !isFloat(from) ? v | 0 : M.toInt32(v);
    case "uint8":
      return from !== undefined && !isFloat(from) ? v & 255 : M.toUint8(v);
    default:
      return v;
  }
}

/** A new typed array holding `src` (of dtype `from`) converted to `to`, with the rules of `convertScalar`. */
export function castArray(src: TypedArray, from: DType, to: DType): TypedArray {
  const n = src.length;
  const out = allocate(to, n);
  if (to === "bool") {
    for (let i = 0; i < n; i++) out[i] = src[i] !== 0 ? 1 : 0;
  } else if (isFloat(from) && to === "int32") {
    for (let i = 0; i < n; i++) out[i] = M.toInt32(src[i]!);
  } else if (isFloat(from) && to === "uint8") {
    for (let i = 0; i < n; i++) out[i] = M.toUint8(src[i]!);
  } else {
    // The typed-array store does the rest: int -> int wraps (ToUint8/ToInt32 are modular),
    // float64 -> float32 rounds to nearest, and every other pair is exact.
    out.set(src);
  }
  return out;
}

/** Resolves a reshape target with at most one -1 against an element count. */
export function resolveReshape(from: readonly number[], to: readonly number[], where: string): number[] {
  const size = sizeOf(from);
  let infer = -1;
  let known = 1;
  for (const [i, d] of to.entries()) {
    if (d === -1) {
      if (infer >= 0) throw new ValueError(`${where}: only one dimension may be -1, got [${to.join(",")}]`);
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ValueError(`${where}: dimension ${i} of the new shape must be a non-negative integer or -1, got ${describe(d)}`);
    } else known *= d;
  }
  const out = [...to];
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(`${where}: cannot reshape [${from.join(",")}] (size ${size}) into [${to.join(",")}]`);
    }
    out[infer] = size / known;
  } else if (known !== size) {
    throw new ShapeError(`${where}: cannot reshape [${from.join(",")}] (size ${size}) into [${to.join(",")}] (size ${known})`);
  }
  return out;
}
