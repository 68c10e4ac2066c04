/**
 * Shared building blocks for VJP rules (the rules themselves live next to their ops in
 * src/ir/ops/*.ts). Everything here appends registry ops through a GradBuilder, so gradients are
 * ordinary IR: differentiable again, optimizable, and runnable by every backend.
 */
import { isFloat } from "../dtype.js";
import type { Attrs, GradBuilder, GradValue, VjpRule } from "../registry.js";
import { sizeOf } from "../shape.js";
import type { TensorType } from "../types.js";

type G = GradValue;

/** Appends one single-result op and returns its result. */
export function op1(b: GradBuilder, name: string, operands: readonly G[], attrs: Attrs = {}): G {
  return b.op(name, operands, attrs)[0]!;
}

export const add = (b: GradBuilder, x: G, y: G): G => op1(b, "add", [x, y]);
export const sub = (b: GradBuilder, x: G, y: G): G => op1(b, "sub", [x, y]);
export const mul = (b: GradBuilder, x: G, y: G): G => op1(b, "mul", [x, y]);
export const div = (b: GradBuilder, x: G, y: G): G => op1(b, "div", [x, y]);
export const neg = (b: GradBuilder, x: G): G => op1(b, "neg", [x]);
export const select = (b: GradBuilder, c: G, x: G, y: G): G => op1(b, "where", [c, x, y]);
export const reshape = (b: GradBuilder, x: G, shape: readonly number[]): G => (sameShape(x.type.shape, shape) ? x : op1(b, "reshape", [x], { shape: [...shape] }));
export const transpose = (b: GradBuilder, x: G, perm: readonly number[]): G => (perm.every((p, i) => p === i) ? x : op1(b, "transpose", [x], { perm: [...perm] }));

/** A 0-d constant with `like`'s dtype (broadcasts against anything). */
export const scalarLike = (b: GradBuilder, value: number, like: G): G => b.scalar(value, like.type.dtype);

/** g * scalar, with the scalar in g's dtype. */
export const scale = (b: GradBuilder, g: G, k: number): G => mul(b, g, scalarLike(b, k, g));

function sameShape(a: readonly number[], c: readonly number[]): boolean {
  return a.length === c.length && a.every((d, i) => d === c[i]);
}

/** A tensor of zeros of `type`. */
export function zeros(b: GradBuilder, type: TensorType): G {
  return op1(b, "broadcastTo", [b.scalar(0, type.dtype)], { shape: [...type.shape] });
}

/** Broadcasts `x` to `shape` (no node when it already has that shape). */
export function broadcastTo(b: GradBuilder, x: G, shape: readonly number[]): G {
  return sameShape(x.type.shape, shape) ? x : op1(b, "broadcastTo", [x], { shape: [...shape] });
}

/**
 * The cotangent of a broadcast operand: sums `g` over the axes that broadcasting added (leading
 * axes and size-1 axes that grew), then reshapes to `to`'s shape.
 */
export function unbroadcast(b: GradBuilder, g: G, to: TensorType): G {
  const gs = g.type.shape;
  const ts = to.shape;
  if (sameShape(gs, ts)) return g;
  const lead = gs.length - ts.length;
  const axes: number[] = [];
  for (let i = 0; i < gs.length; i++) {
    if (i < lead || (ts[i - lead] === 1 && gs[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? op1(b, "reduceSum", [g], { axes, keepDims: false }) : g;
  return reshape(b, summed, ts);
}

/** `shape` with each axis in `axes` set to 1 (the keepDims shape of a reduction). */
export function keepDimsShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** A reduction's cotangent (or result) brought back to the operand's shape by broadcasting. */
export function unreduce(b: GradBuilder, g: G, x: TensorType, axes: readonly number[]): G {
  return broadcastTo(b, reshape(b, g, keepDimsShape(x.shape, axes)), x.shape);
}

/** The number of elements one reduction over `axes` combines. */
export function reducedCount(x: TensorType, axes: readonly number[]): number {
  return sizeOf(axes.map((a) => x.shape[a]!));
}

/**
 * Spreads `g` along `axis` with `step - 1` zeros after each element (the last one's trailing zeros
 * cut off): length c becomes (c - 1) * step + 1. This is the transpose of a strided slice along
 * one axis, built from reshape + pad + slice so no scatter op is needed.
 */
export function interleaveZeros(b: GradBuilder, g: G, axis: number, step: number): G {
  const shape = g.type.shape;
  const c = shape[axis]!;
  if (step === 1 || c === 0) return g;
  const withUnit = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
  const paddings = withUnit.map((_, i) => (i === axis + 1 ? [0, step - 1] : [0, 0]));
  const padded = op1(b, "pad", [reshape(b, g, withUnit), scalarLike(b, 0, g)], { paddings });
  const merged = [...shape];
  merged[axis] = c * step;
  const flat = reshape(b, padded, merged);
  const len = (c - 1) * step + 1;
  return op1(b, "slice", [flat], {
    begin: merged.map(() => 0),
    end: merged.map((d, i) => (i === axis ? len : d)),
    strides: merged.map(() => 1),
  });
}

/** The transpose of `slice(x, begin, end, strides)`: `g` placed back into zeros of `x`'s shape. */
export function unslice(b: GradBuilder, g: G, x: TensorType, begin: readonly number[], strides: readonly number[]): G {
  const counts = g.type.shape;
  const flipAxes = strides.flatMap((s, i) => (s < 0 && counts[i]! > 1 ? [i] : []));
  let h = flipAxes.length ? op1(b, "flip", [g], { axes: flipAxes }) : g;
  const paddings: [number, number][] = [];
  for (let i = 0; i < x.shape.length; i++) {
    const n = x.shape[i]!;
    const c = counts[i]!;
    const s = strides[i]!;
    const step = Math.abs(s);
    h = interleaveZeros(b, h, i, step);
    if (c === 0) {
      paddings.push([n, 0]);
      continue;
    }
    const start = s > 0 ? begin[i]! : begin[i]! + (c - 1) * s;
    const len = (c - 1) * step + 1;
    paddings.push([start, n - start - len]);
  }
  if (paddings.every(([lo, hi]) => lo === 0 && hi === 0)) return h;
  return op1(b, "pad", [h, scalarLike(b, 0, g)], { paddings });
}

/** The rule of an op with no gradient to any operand (bool outputs, integer-valued or piecewise-constant ops). */
export const noGrad: VjpRule = (_b, _cts, operands) => operands.map(() => null);

/** The identity rule (debugPrint): the cotangent passes through unchanged. */
export const identityGrad: VjpRule = (_b, cts, operands) => [operands[0] && isFloat(operands[0].type.dtype) ? (cts[0] ?? null) : null];

/**
 * A rule for a single-result op that only differentiates float values: no node is built when
 * the cotangent is absent or the result is not float, and operands that are not float get null.
 */
export function floatRule(f: (b: GradBuilder, g: G, operands: readonly G[], result: G, attrs: Attrs) => (G | null)[]): VjpRule {
  return (b, cts, operands, results, attrs) => {
    const g = cts[0];
    const y = results[0]!;
    if (!g || !isFloat(y.type.dtype) || !operands.some((x) => isFloat(x.type.dtype))) return operands.map(() => null);
    const out = f(b, g, operands, y, attrs);
    return operands.map((x, i) => (isFloat(x.type.dtype) ? (out[i] ?? null) : null));
  };
}

/** A rule for a unary float op from its derivative: x's cotangent is `g * f'(x)`. */
export function unaryRule(f: (b: GradBuilder, g: G, x: G, y: G, attrs: Attrs) => G): VjpRule {
  return floatRule((b, g, ops, y, attrs) => [f(b, g, ops[0]!, y, attrs)]);
}

/** A rule for a broadcasting binary op from its two partial products (already times g, output-shaped). */
export function binaryRule(f: (b: GradBuilder, g: G, x: G, y: G, out: G) => [G | null, G | null]): VjpRule {
  return floatRule((b, g, ops, out) => {
    const [x, y] = ops as [G, G];
    const [gx, gy] = f(b, g, x, y, out);
    return [gx && unbroadcast(b, gx, x.type), gy && unbroadcast(b, gy, y.type)];
  });
}
