/**
 * Random ops: counter-based, splittable random numbers from explicit keys (as in JAX).
 *
 * The scheme, exactly (it is part of the format: the same key must give the same numbers forever):
 *
 * - A key is an int32[2] tensor [k0, k1] holding the two 32-bit words of a Threefry-2x32 key.
 *   `randomKey(seed)` for an integer 0 <= seed < 2^53 gives [floor(seed / 2^32), seed mod 2^32],
 *   as JAX's raw `PRNGKey` does for 64-bit seeds.
 * - T(key, [c0, c1]) is threefry2x32 with 20 rounds (src/ir/threefry.ts), giving two words.
 * - The stream of a key is the sequence of 32-bit words w_0, w_1, ... where w_k is word (k mod 2)
 *   of T(key, [floor(k / 2), 0]). Counter word c1 = 0 is the "values" domain.
 * - An op that needs W words per element builds element i (row-major flat index) from the words
 *   w_{iW}, ..., w_{iW+W-1} only. So element i depends on (key, i) and the op's attributes, never
 *   on the shape: element i of shape [10] equals element i of shape [2,5] and of shape [3].
 *     randomBits       W=1  the word itself as an int32 bit pattern.
 *     randomUniform    f32: W=1, u = (w >>> 9) * 2^-23 (23 bits); f64: W=2, u = ((w0 >>> 12) *
 *                      2^32 + w1) * 2^-52 (52 bits). u is in [0, 1); the value is
 *                      minval + u * (maxval - minval) rounded to the dtype, and a result that
 *                      rounds up to maxval is replaced by the largest value below maxval.
 *     randomNormal     Box-Muller, cosine branch: z = sqrt(-2 ln u1) * cos(2 pi u2) with u1 in
 *                      (0, 1] (never log 0) and u2 in [0, 1). f32: W=2, u1 = (w0 + 1) * 2^-32,
 *                      u2 = w1 * 2^-32; f64: W=4, u1 = (m(w0, w1) + 1) * 2^-52, u2 = m(w2, w3) *
 *                      2^-52 with m as for f64 uniforms. Value mean + stddev * z, computed in
 *                      float64 and rounded to the dtype.
 *     randomBernoulli  W=1, true iff w < p * 2^32 (exact: p = 0 never, p = 1 always).
 *     randomInt        W=2, minval + ((w0 * 2^32 + w1) mod (maxval - minval)), with 64-bit
 *                      exact arithmetic; the bias is below 2^-32 for every range.
 * - randomSplit(key, n): new key i is T(key, [i, 1]). Counter word c1 = 1 is the split domain,
 *   disjoint from the values domain, so no split key ever equals a block of its parent's stream.
 * - One stream may hold up to 2^33 words (block counters are 32-bit); ops check this.
 *
 * Ops that read the same key read the same stream (randomUniform and randomNormal of one key are
 * correlated), so use each key once and split it for more. The Threefry function is the same as
 * JAX's, but the stream layout and split are not JAX's, so values differ from jax.random's.
 */
import { type DType, DTYPES, isDType } from "../dtype.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { type AttrValue, type Attrs, defineOp } from "../registry.js";
import { noGrad } from "../autodiff/rule-helpers.js";
import { checkShape, describe, sizeOf } from "../shape.js";
import { formatType, type TensorType } from "../types.js";

/** Counter word c1 of the values stream and of split keys. */
export const VALUES_DOMAIN = 0;
export const SPLIT_DOMAIN = 1;

/** The most 32-bit words one stream can give: 2^32 blocks of two words. */
export const MAX_STREAM_WORDS = 2 ** 33;

/** Checks that operand 0 is a key: int32[2]. */
function checkKey(op: string, inputs: readonly TensorType[]): void {
  const key = inputs[0]!;
  if (key.dtype !== "int32") {
    throw new DTypeError(`${op}: key must be an int32[2] tensor (from randomKey or splitKey), got ${formatType(key)}`);
  }
  if (key.shape.length !== 1 || key.shape[0] !== 2) {
    throw new ShapeError(`${op}: key must have shape [2] (two 32-bit words), got ${formatType(key)}`);
  }
}

/** The output shape attribute, checking that its stream fits in one key's counter range. */
function readShape(op: string, attrs: Attrs, wordsPerElement: number): number[] {
  const shape = checkShape(attrs["shape"], op);
  const words = sizeOf(shape) * wordsPerElement;
  if (words > MAX_STREAM_WORDS) {
    throw new ValueError(`${op}: shape [${shape.join(",")}] needs ${words} random words, more than one key gives (2^33); split the key and generate in parts`);
  }
  return shape;
}

function readDType(op: string, attrs: Attrs, allowed: readonly DType[], hint: string): DType {
  const d = attrs["dtype"];
  if (!isDType(d)) throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(d ?? null)}; expected one of ${DTYPES.join(", ")}`);
  if (!allowed.includes(d)) throw new DTypeError(`${op}: dtype ${d} is not supported; expected ${allowed.join(" or ")}${hint}`);
  return d;
}

function readFinite(op: string, attrs: Attrs, name: string): number {
  const v: AttrValue | undefined = attrs[name];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ValueError(`${op}: ${name} must be a finite number, got ${describe(v)}`);
  return v;
}

function readInteger(op: string, attrs: Attrs, name: string): number {
  const v = attrs[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new ValueError(`${op}: ${name} must be an integer, got ${describe(v)}`);
  return v;
}

/** A finite number rounded to a float dtype, as the kernel will store it. */
export function roundToFloat(v: number, dtype: DType): number {
  return dtype === "float32" ? Math.fround(v) : v;
}

const SHAPE_ATTR = { type: "int[]", doc: "the result shape (non-negative sizes)" } as const;

const FLOATS: readonly DType[] = ["float32", "float64"];
const INT_RANGE: Partial<Record<DType, [number, number]>> = { uint8: [0, 255], int32: [-2147483648, 2147483647] };

defineOp({
  name: "randomSplit",
  vjp: noGrad, // random values depend only on the key, which has no gradient
  kind: "creation",
  arity: 1,
  doc: "n new keys from a key: result i is threefry2x32(key, [i, 1]); attribute n >= 0",
  attributes: { n: { type: "int", doc: "number of keys (results), in 0..2^32-1" } },
  infer(inputs, attrs) {
    checkKey("randomSplit", inputs);
    const n = attrs["n"];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n >= 2 ** 32) {
      throw new ValueError(`randomSplit: n must be an integer in 0..2^32-1, got ${describe(n)}`);
    }
    return Array.from({ length: n }, (): TensorType => ({ dtype: "int32", shape: [2] }));
  },
});

defineOp({
  name: "randomBits",
  vjp: noGrad, // random values depend only on the key, which has no gradient
  kind: "creation",
  arity: 1,
  doc: "raw 32-bit words of the key's stream as int32 bit patterns; attribute shape",
  attributes: { shape: SHAPE_ATTR },
  infer(inputs, attrs) {
    checkKey("randomBits", inputs);
    return [{ dtype: "int32", shape: readShape("randomBits", attrs, 1) }];
  },
});

/** Words per element of a float op, by dtype. */
const uniformWords = (d: DType): number => (d === "float64" ? 2 : 1);
const normalWords = (d: DType): number => (d === "float64" ? 4 : 2);

defineOp({
  name: "randomUniform",
  vjp: noGrad, // random values depend only on the key, which has no gradient
  kind: "creation",
  arity: 1,
  doc: "uniform floats in [minval, maxval); attributes shape, dtype (float32 | float64), minval, maxval",
  attributes: {
    shape: SHAPE_ATTR,
    dtype: { type: "dtype", doc: "float32 or float64" },
    minval: { type: "number", doc: "inclusive lower bound, finite" },
    maxval: { type: "number", doc: "exclusive upper bound, finite, > minval in dtype" },
  },
  infer(inputs, attrs) {
    const op = "randomUniform";
    checkKey(op, inputs);
    const dtype = readDType(op, attrs, FLOATS, " (use randomInt for integers)");
    const lo = readFinite(op, attrs, "minval");
    const hi = readFinite(op, attrs, "maxval");
    if (!(roundToFloat(lo, dtype) < roundToFloat(hi, dtype))) {
      throw new ValueError(`${op}: minval must be less than maxval in ${dtype}, got minval ${lo} and maxval ${hi}`);
    }
    return [{ dtype, shape: readShape(op, attrs, uniformWords(dtype)) }];
  },
});

defineOp({
  name: "randomNormal",
  vjp: noGrad, // random values depend only on the key, which has no gradient
  kind: "creation",
  arity: 1,
  doc: "normal floats (Box-Muller); attributes shape, dtype (float32 | float64), mean, stddev >= 0",
  attributes: {
    shape: SHAPE_ATTR,
    dtype: { type: "dtype", doc: "float32 or float64" },
    mean: { type: "number", doc: "the mean, finite" },
    stddev: { type: "number", doc: "the standard deviation, finite, >= 0" },
  },
  infer(inputs, attrs) {
    const op = "randomNormal";
    checkKey(op, inputs);
    const dtype = readDType(op, attrs, FLOATS, "");
    readFinite(op, attrs, "mean");
    const sd = readFinite(op, attrs, "stddev");
    if (sd < 0) throw new ValueError(`${op}: stddev must be non-negative, got ${sd}`);
    return [{ dtype, shape: readShape(op, attrs, normalWords(dtype)) }];
  },
});

defineOp({
  name: "randomBernoulli",
  vjp: noGrad, // random values depend only on the key, which has no gradient
  kind: "creation",
  arity: 1,
  doc: "bool tensor, each element true with probability p; attributes shape, p in [0, 1]",
  attributes: {
    shape: SHAPE_ATTR,
    p: { type: "number", doc: "probability of true, in [0, 1]" },
  },
  infer(inputs, attrs) {
    const op = "randomBernoulli";
    checkKey(op, inputs);
    const p = readFinite(op, attrs, "p");
    if (p < 0 || p > 1) throw new ValueError(`${op}: p must be a probability in [0, 1], got ${p}`);
    return [{ dtype: "bool", shape: readShape(op, attrs, 1) }];
  },
});

defineOp({
  name: "randomInt",
  vjp: noGrad, // random values depend only on the key, which has no gradient
  kind: "creation",
  arity: 1,
  doc: "uniform integers in [minval, maxval); attributes shape, dtype (int32 | uint8), minval, maxval",
  attributes: {
    shape: SHAPE_ATTR,
    dtype: { type: "dtype", doc: "int32 or uint8" },
    minval: { type: "int", doc: "inclusive lower bound, representable in dtype" },
    maxval: { type: "int", doc: "exclusive upper bound, > minval, at most the dtype's maximum + 1" },
  },
  infer(inputs, attrs) {
    const op = "randomInt";
    checkKey(op, inputs);
    const dtype = readDType(op, attrs, ["int32", "uint8"], " (use randomUniform for floats)");
    const lo = readInteger(op, attrs, "minval");
    const hi = readInteger(op, attrs, "maxval");
    const [min, max] = INT_RANGE[dtype]!;
    if (lo < min || lo > max) throw new ValueError(`${op}: minval ${lo} is out of range for ${dtype} (${min}..${max})`);
    if (hi - 1 < min || hi - 1 > max) throw new ValueError(`${op}: maxval ${hi} is out of range for ${dtype} (maxval is exclusive: ${min + 1}..${max + 1})`);
    if (lo >= hi) throw new ValueError(`${op}: minval must be less than maxval, got minval ${lo} and maxval ${hi}`);
    return [{ dtype, shape: readShape(op, attrs, 2) }];
  },
});
