/**
 * Reverse-mode rules of the elementwise ops (read by elementwise.ts when it defines each op).
 * Conventions follow JAX: piecewise-constant ops (sign, floor, ceil, round, floorDiv) and ops with
 * bool results give no gradient (null, which the transform reads as zero); maximum/minimum split
 * the cotangent equally between tied operands; integer and bool operands never get a cotangent.
 */
import { isFloat } from "../dtype.js";
import type { GradBuilder, GradValue, VjpRule } from "../registry.js";
import {
  add, binaryRule, div, floatRule, mul, neg, noGrad, op1, scalarLike, scale, select, sub, unaryRule, unbroadcast,
} from "../autodiff/rule-helpers.js";

type G = GradValue;
const k = scalarLike;
const u = (b: GradBuilder, name: string, x: G): G => op1(b, name, [x]);
const eq = (b: GradBuilder, x: G, y: G): G => op1(b, "equal", [x, y]);

/** 1 - x*x, shared by asin/acos/tanh. */
const oneMinusSq = (b: GradBuilder, x: G): G => sub(b, k(b, 1, x), mul(b, x, x));

/** d/dx of gelu's erf form: Phi(x) + x * phi(x). */
function geluErfDeriv(b: GradBuilder, x: G): G {
  const cdf = scale(b, add(b, k(b, 1, x), u(b, "erf", scale(b, x, Math.SQRT1_2))), 0.5);
  const pdf = scale(b, u(b, "exp", scale(b, mul(b, x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return add(b, cdf, mul(b, x, pdf));
}

/** d/dx of gelu's tanh form 0.5x(1 + tanh(c(x + 0.044715x^3))). */
function geluTanhDeriv(b: GradBuilder, x: G): G {
  const c = Math.sqrt(2 / Math.PI);
  const x2 = mul(b, x, x);
  const inner = scale(b, add(b, x, scale(b, mul(b, x2, x), 0.044715)), c);
  const t = u(b, "tanh", inner);
  const dInner = scale(b, add(b, k(b, 1, x), scale(b, x2, 3 * 0.044715)), c);
  const left = scale(b, add(b, k(b, 1, x), t), 0.5);
  const right = mul(b, scale(b, x, 0.5), mul(b, oneMinusSq(b, t), dInner));
  return add(b, left, right);
}

/** The share of the cotangent that `mine` gets from max/min: 1 if it was chosen, 0.5 on a tie (as JAX). */
function chosenWeight(b: GradBuilder, mine: G, other: G, out: G): G {
  const tie = select(b, eq(b, other, out), k(b, 0.5, out), k(b, 1, out));
  return select(b, eq(b, mine, out), tie, k(b, 0, out));
}

export const ELEMENTWISE_VJP: Readonly<Record<string, VjpRule>> = {
  neg: unaryRule((b, g) => neg(b, g)),
  abs: unaryRule((b, g, x) => mul(b, g, u(b, "sign", x))),
  sign: noGrad,
  floor: noGrad,
  ceil: noGrad,
  round: noGrad,
  square: unaryRule((b, g, x) => mul(b, g, scale(b, x, 2))),
  relu: unaryRule((b, g, x) => select(b, op1(b, "greater", [x, k(b, 0, x)]), g, k(b, 0, g))),
  exp: unaryRule((b, g, _x, y) => mul(b, g, y)),
  expm1: unaryRule((b, g, _x, y) => mul(b, g, add(b, y, k(b, 1, y)))),
  log: unaryRule((b, g, x) => div(b, g, x)),
  log1p: unaryRule((b, g, x) => div(b, g, add(b, x, k(b, 1, x)))),
  sqrt: unaryRule((b, g, _x, y) => div(b, g, scale(b, y, 2))),
  // d/dx x^-1/2 = -0.5 * y / x
  rsqrt: unaryRule((b, g, x, y) => mul(b, g, div(b, scale(b, y, -0.5), x))),
  reciprocal: unaryRule((b, g, _x, y) => neg(b, mul(b, g, mul(b, y, y)))),
  sin: unaryRule((b, g, x) => mul(b, g, u(b, "cos", x))),
  cos: unaryRule((b, g, x) => neg(b, mul(b, g, u(b, "sin", x)))),
  tan: unaryRule((b, g, _x, y) => mul(b, g, add(b, k(b, 1, y), mul(b, y, y)))),
  asin: unaryRule((b, g, x) => mul(b, g, u(b, "rsqrt", oneMinusSq(b, x)))),
  acos: unaryRule((b, g, x) => neg(b, mul(b, g, u(b, "rsqrt", oneMinusSq(b, x))))),
  atan: unaryRule((b, g, x) => div(b, g, add(b, k(b, 1, x), mul(b, x, x)))),
  sinh: unaryRule((b, g, x) => mul(b, g, u(b, "cosh", x))),
  cosh: unaryRule((b, g, x) => mul(b, g, u(b, "sinh", x))),
  tanh: unaryRule((b, g, _x, y) => mul(b, g, oneMinusSq(b, y))),
  sigmoid: unaryRule((b, g, _x, y) => mul(b, g, mul(b, y, sub(b, k(b, 1, y), y)))),
  erf: unaryRule((b, g, x) => mul(b, g, scale(b, u(b, "exp", neg(b, mul(b, x, x))), 2 / Math.sqrt(Math.PI)))),
  gelu: unaryRule((b, g, x, _y, attrs) => mul(b, g, attrs["approximate"] === true ? geluTanhDeriv(b, x) : geluErfDeriv(b, x))),
  logicalNot: noGrad,
  isNaN: noGrad,
  isFinite: noGrad,
  // float -> float casts the cotangent back; casts to or from integers and bool carry no gradient.
  cast: (b, cts, operands, results) => {
    const g = cts[0];
    const x = operands[0]!;
    if (!g || !isFloat(x.type.dtype) || !isFloat(results[0]!.type.dtype)) return [null];
    return [g.type.dtype === x.type.dtype ? g : op1(b, "cast", [g], { dtype: x.type.dtype })];
  },

  add: binaryRule((_b, g) => [g, g]),
  sub: binaryRule((b, g) => [g, neg(b, g)]),
  mul: binaryRule((b, g, x, y) => [mul(b, g, y), mul(b, g, x)]),
  div: binaryRule((b, g, _x, y, out) => [div(b, g, y), neg(b, div(b, mul(b, g, out), y))]),
  // As JAX: x's partial y*x^(y-1) is 0 where y == 0 (no 0*inf at x == 0); y's partial
  // x^y*log(x) uses log(1) where x <= 0, so it is 0 there instead of NaN (documented).
  pow: binaryRule((b, g, x, y, out) => {
    const zero = k(b, 0, out);
    const dx = select(b, eq(b, y, zero), zero, mul(b, y, op1(b, "pow", [x, sub(b, y, k(b, 1, y))])));
    const positive = op1(b, "greater", [x, zero]);
    const safeLog = u(b, "log", select(b, positive, x, k(b, 1, x)));
    return [mul(b, g, dx), mul(b, g, mul(b, out, safeLog))];
  }),
  maximum: binaryRule((b, g, x, y, out) => [mul(b, g, chosenWeight(b, x, y, out)), mul(b, g, chosenWeight(b, y, x, out))]),
  minimum: binaryRule((b, g, x, y, out) => [mul(b, g, chosenWeight(b, x, y, out)), mul(b, g, chosenWeight(b, y, x, out))]),
  // mod(x, y) = x - floor(x / y) * y
  mod: binaryRule((b, g, x, y) => [g, neg(b, mul(b, g, u(b, "floor", div(b, x, y))))]),
  floorDiv: noGrad,
  // atan2(x, y): d/dx = y / (x^2 + y^2), d/dy = -x / (x^2 + y^2)
  atan2: binaryRule((b, g, x, y) => {
    const r2 = add(b, mul(b, x, x), mul(b, y, y));
    const gr = div(b, g, r2);
    return [mul(b, gr, y), neg(b, mul(b, gr, x))];
  }),
  equal: noGrad,
  notEqual: noGrad,
  less: noGrad,
  lessEqual: noGrad,
  greater: noGrad,
  greaterEqual: noGrad,
  logicalAnd: noGrad,
  logicalOr: noGrad,
  logicalXor: noGrad,
  // The cotangent goes to the branch the condition chose; the condition gets none.
  where: floatRule((b, g, operands) => {
    const [c, x, y] = operands as [G, G, G];
    const zero = k(b, 0, g);
    return [null, unbroadcast(b, select(b, c, g, zero), x.type), unbroadcast(b, select(b, c, zero, g), y.type)];
  }),
};
