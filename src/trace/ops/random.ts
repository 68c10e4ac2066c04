/**
 * Public random functions. Randomness comes from explicit keys (int32[2] tensors), as in JAX:
 * the same key always gives the same numbers, and `splitKey` makes independent new keys. The
 * exact scheme is documented in src/ir/ops/random.ts.
 */
import { type DType, parseDType } from "../../ir/dtype.js";
import { ValueError } from "../../ir/errors.js";
import { checkShape, describe } from "../../ir/shape.js";
import { fromBuffer } from "../create.js";
import { bind, bind1 } from "../dispatch.js";
import { type TensorLike, toTensor } from "../promote.js";
import type { Tensor } from "../tensor.js";

export interface RandomUniformOptions {
  /** float32 (default) or float64. */
  dtype?: DType;
  /** Inclusive lower bound, default 0. */
  minval?: number;
  /** Exclusive upper bound, default 1. */
  maxval?: number;
}

export interface RandomNormalOptions {
  /** float32 (default) or float64. */
  dtype?: DType;
  mean?: number;
  stddev?: number;
}

export interface RandomIntOptions {
  /** int32 (default) or uint8. */
  dtype?: DType;
}

/**
 * A key as a tensor. JS arrays have no dtype of their own, so `[0, 42]` is read as int32; typed
 * data and tensors keep theirs, and the op rejects anything that is not int32[2].
 */
function toKey(key: TensorLike, where: string): Tensor {
  const weak = typeof key === "number" || typeof key === "boolean" || Array.isArray(key);
  return weak ? toTensor(key, where, "int32") : toTensor(key, where);
}

/** A numeric option (or its default); range and finiteness are checked by the op's rule. */
function numberOption(v: unknown, fallback: number | undefined, where: string, name: string): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "number") throw new ValueError(`${where}: ${name} must be a number, got ${describe(v)}`);
  return v;
}

function dtypeOption(v: unknown, fallback: DType, where: string): DType {
  return v === undefined ? fallback : parseDType(v, where);
}

/**
 * A key from an integer seed 0 <= seed < 2^53: int32[2] holding [seed >> 32, seed & 0xffffffff]
 * as bit patterns, like JAX's raw PRNGKey.
 */
export function randomKey(seed: number): Tensor {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw new ValueError(`randomKey: seed must be an integer in 0..2^53-1, got ${describe(seed)}`);
  }
  const hi = Math.floor(seed / 2 ** 32);
  const lo = seed - hi * 2 ** 32;
  return fromBuffer(new Int32Array([hi, lo | 0]), [2], "int32");
}

/** `n` (default 2) new keys, independent of each other and of `key`'s own numbers. */
export function splitKey(key: TensorLike, n = 2): Tensor[] {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new ValueError(`splitKey: n must be a non-negative integer, got ${describe(n)}`);
  }
  return bind("randomSplit", [toKey(key, "splitKey")], { n });
}

/** The raw 32-bit words of the key's stream, as int32 bit patterns (read unsigned with `>>> 0`). */
export function randomBits(key: TensorLike, shape: readonly number[] = []): Tensor {
  const where = "randomBits";
  return bind1("randomBits", [toKey(key, where)], { shape: checkShape(shape, where) });
}

/**
 * Uniform floats in [minval, maxval) (default [0, 1)). float32 values carry 23 random bits,
 * float64 values 52. Integer dtypes are refused: use randomInt.
 */
export function randomUniform(key: TensorLike, shape: readonly number[] = [], options: RandomUniformOptions = {}): Tensor {
  const where = "randomUniform";
  return bind1(where, [toKey(key, where)], {
    shape: checkShape(shape, where),
    dtype: dtypeOption(options.dtype, "float32", where),
    minval: numberOption(options.minval, 0, where, "minval"),
    maxval: numberOption(options.maxval, 1, where, "maxval"),
  });
}

/** Normally distributed floats with the given mean (default 0) and stddev (default 1). */
export function randomNormal(key: TensorLike, shape: readonly number[] = [], options: RandomNormalOptions = {}): Tensor {
  const where = "randomNormal";
  return bind1(where, [toKey(key, where)], {
    shape: checkShape(shape, where),
    dtype: dtypeOption(options.dtype, "float32", where),
    mean: numberOption(options.mean, 0, where, "mean"),
    stddev: numberOption(options.stddev, 1, where, "stddev"),
  });
}

/** A bool tensor whose elements are true with probability p (a number in [0, 1]). */
export function randomBernoulli(key: TensorLike, p = 0.5, shape: readonly number[] = []): Tensor {
  const where = "randomBernoulli";
  return bind1(where, [toKey(key, where)], { shape: checkShape(shape, where), p: numberOption(p, 0.5, where, "p") });
}

/** Uniform integers in [minval, maxval) (maxval exclusive, as NumPy's randint), int32 by default. */
export function randomInt(key: TensorLike, shape: readonly number[], minval: number, maxval: number, options: RandomIntOptions = {}): Tensor {
  const where = "randomInt";
  return bind1(where, [toKey(key, where)], {
    shape: checkShape(shape, where),
    dtype: dtypeOption(options.dtype, "int32", where),
    minval: numberOption(minval, undefined, where, "minval"),
    maxval: numberOption(maxval, undefined, where, "maxval"),
  });
}
