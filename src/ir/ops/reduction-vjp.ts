/**
 * Reverse-mode rules of the reductions and scans (read by reduction.ts when it defines each op).
 * reduceMax/reduceMin share the cotangent equally among tied maxima (as JAX); argmax, argmin,
 * reduceAny and reduceAll have integer or bool results and give no gradient. cumprod divides by
 * the operand, so an operand with zeros along the scanned axis gets a non-finite gradient there.
 */
import type { Attrs, GradBuilder, GradValue, VjpRule } from "../registry.js";
import {
  div, floatRule, mul, noGrad, op1, reducedCount, reshape, scale, scalarLike, select, sub, transpose, unreduce,
} from "../autodiff/rule-helpers.js";

type G = GradValue;

const axesOf = (attrs: Attrs): number[] => [...(attrs["axes"] as readonly number[])];

/** Every element's share of a max/min: 1/(number of ties) where it equals the result, else 0. */
function chooserRule(): VjpRule {
  return floatRule((b, g, ops, out, attrs) => {
    const x = ops[0]!;
    const axes = axesOf(attrs);
    const hit = op1(b, "equal", [x, unreduce(b, out, x.type, axes)]);
    const mask = select(b, hit, scalarLike(b, 1, x), scalarLike(b, 0, x));
    const ties = op1(b, "reduceSum", [mask], { axes, keepDims: true });
    return [mul(b, unreduce(b, g, x.type, axes), div(b, mask, ties))];
  });
}

/**
 * The product of all other elements of each reduced group, without dividing (zeros are fine): the
 * reduced axes are moved last and flattened, and an exclusive cumprod from each side is multiplied.
 */
function productOfOthers(b: GradBuilder, x: G, axes: readonly number[]): G {
  const rank = x.type.shape.length;
  const kept = [...Array(rank).keys()].filter((a) => !axes.includes(a));
  const perm = [...kept, ...axes];
  const moved = transpose(b, x, perm);
  const keptShape = kept.map((a) => x.type.shape[a]!);
  const flat = reshape(b, moved, [...keptShape, reducedCount(x.type, axes)]);
  const axis = keptShape.length;
  const left = op1(b, "cumprod", [flat], { axis, exclusive: true, reverse: false });
  const right = op1(b, "cumprod", [flat], { axis, exclusive: true, reverse: true });
  const others = reshape(b, mul(b, left, right), moved.type.shape);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return transpose(b, others, inverse);
}

/** The scan's axis in g's shape (a null axis scans the flattened operand, so g is 1-D). */
const scanAxis = (attrs: Attrs): number => (typeof attrs["axis"] === "number" ? attrs["axis"] : 0);

/** The cotangent of a scan's input: the running sum of `h` in the opposite direction. */
function reverseCumsum(b: GradBuilder, h: G, attrs: Attrs): G {
  return op1(b, "cumsum", [h], { axis: scanAxis(attrs), exclusive: attrs["exclusive"] === true, reverse: attrs["reverse"] !== true });
}

export const REDUCTION_VJP: Readonly<Record<string, VjpRule>> = {
  reduceSum: floatRule((b, g, ops, _out, attrs) => [unreduce(b, g, ops[0]!.type, axesOf(attrs))]),
  reduceMean: floatRule((b, g, ops, _out, attrs) => {
    const x = ops[0]!;
    const axes = axesOf(attrs);
    const n = reducedCount(x.type, axes);
    const spread = unreduce(b, g, x.type, axes);
    // n == 0 only when x has no elements, and then there is nothing to scale.
    return [n > 0 ? scale(b, spread, 1 / n) : spread];
  }),
  reduceMax: chooserRule(),
  reduceMin: chooserRule(),
  reduceProd: floatRule((b, g, ops, _out, attrs) => {
    const x = ops[0]!;
    const axes = axesOf(attrs);
    return [mul(b, unreduce(b, g, x.type, axes), productOfOthers(b, x, axes))];
  }),
  // d logSumExp / dx = softmax(x) = exp(x - result)
  logSumExp: floatRule((b, g, ops, out, attrs) => {
    const x = ops[0]!;
    const axes = axesOf(attrs);
    const soft = op1(b, "exp", [sub(b, x, unreduce(b, out, x.type, axes))]);
    return [mul(b, unreduce(b, g, x.type, axes), soft)];
  }),
  reduceAny: noGrad,
  reduceAll: noGrad,
  argmax: noGrad,
  argmin: noGrad,
  cumsum: floatRule((b, g, ops, _out, attrs) => [reshape(b, reverseCumsum(b, g, attrs), ops[0]!.type.shape)]),
  // y_i = prod x_j over the scanned prefix: dx_j = sum over later i of g_i * y_i / x_j.
  cumprod: floatRule((b, g, ops, out, attrs) => {
    const x = ops[0]!;
    const back = reverseCumsum(b, mul(b, g, out), attrs);
    return [reshape(b, div(b, back, reshape(b, x, g.type.shape)), x.type.shape)];
  }),
};
