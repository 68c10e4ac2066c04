/**
 * Every op that has a natural `self` operand is also a Tensor method: `x.add(y)` is `add(x, y)`.
 * This is the one table that installs them; the method types are derived from the functions, so
 * a function's signature and its method can never drift apart. Ops without a natural self
 * (`where`, `concat`, `stack`, creation and random functions) are functions only.
 */
import * as ad from "./autodiff.js";
import * as ew from "./ops/elementwise.js";
import * as la from "./ops/linalg.js";
import * as red from "./ops/reduction.js";
import * as sh from "./ops/shape.js";
import type { SliceSpec } from "./ops/shape.js";
import { ValueError } from "../ir/errors.js";
import { formatType } from "../ir/types.js";
import { Tensor } from "./tensor.js";

const METHODS = {
  neg: ew.neg, abs: ew.abs, sign: ew.sign, exp: ew.exp, expm1: ew.expm1, log: ew.log, log1p: ew.log1p,
  sqrt: ew.sqrt, rsqrt: ew.rsqrt, square: ew.square, reciprocal: ew.reciprocal, sin: ew.sin, cos: ew.cos,
  tan: ew.tan, asin: ew.asin, acos: ew.acos, atan: ew.atan, sinh: ew.sinh, cosh: ew.cosh, tanh: ew.tanh,
  sigmoid: ew.sigmoid, relu: ew.relu, gelu: ew.gelu, erf: ew.erf, floor: ew.floor, ceil: ew.ceil,
  round: ew.round, logicalNot: ew.logicalNot, isNaN: ew.isNaN, isFinite: ew.isFinite,
  add: ew.add, sub: ew.sub, mul: ew.mul, div: ew.div, pow: ew.pow, maximum: ew.maximum, minimum: ew.minimum,
  mod: ew.mod, floorDiv: ew.floorDiv, atan2: ew.atan2, equal: ew.equal, notEqual: ew.notEqual, less: ew.less,
  lessEqual: ew.lessEqual, greater: ew.greater, greaterEqual: ew.greaterEqual, logicalAnd: ew.logicalAnd,
  logicalOr: ew.logicalOr, logicalXor: ew.logicalXor, clip: ew.clip, cast: ew.cast,
  reduceSum: red.reduceSum, reduceMean: red.reduceMean, reduceMax: red.reduceMax, reduceMin: red.reduceMin,
  reduceProd: red.reduceProd, reduceAny: red.reduceAny, reduceAll: red.reduceAll, logSumExp: red.logSumExp,
  argmax: red.argmax, argmin: red.argmin, cumsum: red.cumsum, cumprod: red.cumprod,
  reshape: sh.reshape, transpose: sh.transpose, expandDims: sh.expandDims, squeeze: sh.squeeze,
  broadcastTo: sh.broadcastTo, split: sh.split, unstack: sh.unstack, gather: sh.gather, pad: sh.pad,
  tile: sh.tile, flip: sh.flip, oneHot: sh.oneHot,
  matmul: la.matmul, dot: la.dot, softmax: la.softmax, logSoftmax: la.logSoftmax, layerNorm: la.layerNorm,
  conv2d: la.conv2d, maxPool2d: la.maxPool2d, avgPool2d: la.avgPool2d,
  stopGradient: ad.stopGradient,
} as const;

type DropSelf<F> = F extends (self: never, ...rest: infer R) => infer O ? (...rest: R) => O : never;
type DerivedMethods = { readonly [K in keyof typeof METHODS]: DropSelf<(typeof METHODS)[K]> };

declare module "./tensor.js" {
  interface Tensor extends DerivedMethods {
    /** `slice(begin, size)` as tf.slice, or a NumPy-style spec: numbers, null, {start, stop, step}, "...", "newaxis". */
    slice(begin: readonly number[], size: readonly number[]): Tensor;
    slice(spec: readonly SliceSpec[]): Tensor;
  }
}

function install(name: string, f: (self: Tensor, ...rest: never[]) => unknown): void {
  Object.defineProperty(Tensor.prototype, name, {
    value: function (this: Tensor, ...rest: never[]) {
      return f(this, ...rest);
    },
    writable: true,
    configurable: true,
  });
}

for (const [name, f] of Object.entries(METHODS)) install(name, f as (self: Tensor, ...rest: never[]) => unknown);
install("slice", sh.slice as (self: Tensor, ...rest: never[]) => unknown);

Object.defineProperty(Tensor.prototype, Symbol.iterator, {
  value: function* (this: Tensor): Generator<Tensor> {
    if (this.rank === 0) throw new ValueError(`iteration over a 0-d tensor (${formatType(this.type)}); use item() for its value`);
    yield* sh.unstack(this, 0);
  },
  writable: true,
  configurable: true,
});

/**
 * The class the methods are installed on. Exported as a type so that the emitted .d.ts keeps its
 * import of Tensor, which the inferred method types above refer to.
 */
export type MethodTarget = Tensor;

/** The method names, for tests and docs. */
export const TENSOR_METHODS: readonly string[] = [...Object.keys(METHODS), "slice"];
