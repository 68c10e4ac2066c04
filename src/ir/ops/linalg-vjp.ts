/**
 * Reverse-mode rules of matmul, dot, conv2d and the pools (read by linalg.ts). Every rule is built
 * from registry ops: conv2d's input gradient is a conv2d of the zero-spread cotangent with the
 * flipped, channel-swapped filter, and its filter gradient a conv2d of the input with the
 * cotangent as filter (strides and dilations swap roles); pooling gradients visit each window
 * offset as a strided slice and put the cotangent back with the slice transpose. maxPool2d sends
 * a window's cotangent to its first maximum (as XLA's select-and-scatter); a NaN maximum gets none.
 */
import type { GradBuilder, GradValue, VjpRule } from "../registry.js";
import { sizeOf } from "../shape.js";
import type { TensorType } from "../types.js";
import {
  add, div, floatRule, interleaveZeros, op1, reshape, select, transpose, unbroadcast, unslice, zeros,
} from "../autodiff/rule-helpers.js";
import { convGeometry, dotPlan, matmulPlan, poolGeometry, type WindowGeometry } from "./linalg.js";

type G = GradValue;

/** The permutation that swaps the last two axes of a rank-`rank` tensor. */
function swapLast(rank: number): number[] {
  const p = [...Array(rank).keys()];
  [p[rank - 2], p[rank - 1]] = [p[rank - 1]!, p[rank - 2]!];
  return p;
}

function matmulRule(b: GradBuilder, g: G, ops: readonly G[]): (G | null)[] {
  const [a, c] = ops as [G, G];
  const plan = matmulPlan(a.type, c.type);
  const a2: TensorType = { dtype: a.type.dtype, shape: a.type.shape.length === 1 ? [1, plan.k] : a.type.shape };
  const c2: TensorType = { dtype: c.type.dtype, shape: c.type.shape.length === 1 ? [plan.k, 1] : c.type.shape };
  const g2 = reshape(b, g, [...plan.batch, plan.m, plan.n]);
  const cT = transpose(b, reshape(b, c, c2.shape), swapLast(c2.shape.length));
  const aT = transpose(b, reshape(b, a, a2.shape), swapLast(a2.shape.length));
  const ga = unbroadcast(b, op1(b, "matmul", [g2, cT]), a2);
  const gc = unbroadcast(b, op1(b, "matmul", [aT, g2]), c2);
  return [reshape(b, ga, a.type.shape), reshape(b, gc, c.type.shape)];
}

/** dot reads a as [p, k] and b as [q, k, n]; the output is [p, q, n] in memory. */
function dotRule(b: GradBuilder, g: G, ops: readonly G[]): (G | null)[] {
  const [a, c] = ops as [G, G];
  const { p, q, k, n } = dotPlan(a.type, c.type);
  const g2 = reshape(b, g, [p, q * n]);
  const c3 = reshape(b, c, [q, k, n]);
  const cFlat = reshape(b, transpose(b, c3, [0, 2, 1]), [q * n, k]);
  const ga = op1(b, "matmul", [g2, cFlat]);
  const gcKqn = reshape(b, op1(b, "matmul", [transpose(b, reshape(b, a, [p, k]), [1, 0]), g2]), [k, q, n]);
  return [reshape(b, ga, a.type.shape), reshape(b, transpose(b, gcKqn, [1, 0, 2]), c.type.shape)];
}

/** Crops rows [begin, begin + size) of axes 1 and 2 out of `t`, zero-filling what `t` lacks. */
function cropSpatial(b: GradBuilder, t: G, top: number, left: number, h: number, w: number): G {
  const [n, th, tw, c] = t.type.shape as unknown as [number, number, number, number];
  const bh = Math.min(top, th);
  const eh = Math.min(th, top + h);
  const bw = Math.min(left, tw);
  const ew = Math.min(tw, left + w);
  let out = t;
  if (bh !== 0 || eh !== th || bw !== 0 || ew !== tw) {
    out = op1(b, "slice", [t], { begin: [0, bh, bw, 0], end: [n, eh, ew, c], strides: [1, 1, 1, 1] });
  }
  const missH = h - (eh - bh);
  const missW = w - (ew - bw);
  if (missH === 0 && missW === 0) return out;
  return op1(b, "pad", [out, b.scalar(0, t.type.dtype)], { paddings: [[0, 0], [0, missH], [0, missW], [0, 0]] });
}

/** The operand as NHWC (an HWC image gets a batch of 1). */
const asNhwc = (b: GradBuilder, t: G, geo: WindowGeometry, c: number, h: number, w: number): G => reshape(b, t, [geo.batch, h, w, c]);

function conv2dRule(b: GradBuilder, g: G, ops: readonly G[], attrs: Parameters<VjpRule>[4]): (G | null)[] {
  const [x, f] = ops as [G, G];
  const geo = convGeometry(x.type, f.type, attrs);
  if (sizeOf(g.type.shape) === 0 || sizeOf(x.type.shape) === 0) return [zeros(b, x.type), zeros(b, f.type)];
  const { h, w, c, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow, outC } = geo;
  const x4 = asNhwc(b, x, geo, c, h, w);
  const g4 = asNhwc(b, g, geo, outC, oh, ow);

  // Input: spread g by the strides, then a full correlation with the flipped filter.
  const spread = interleaveZeros(b, interleaveZeros(b, g4, 1, sh), 2, sw);
  const flipped = transpose(b, op1(b, "flip", [f], { axes: [0, 1] }), [0, 1, 3, 2]);
  const eh = (kh - 1) * dh;
  const ew = (kw - 1) * dw;
  const full = op1(b, "conv2d", [spread, flipped], { strides: [1, 1], dilations: [dh, dw], padding: [[eh, eh], [ew, ew]] });
  const gx = reshape(b, cropSpatial(b, full, padTop, padLeft, h, w), x.type.shape);

  // Filter: the batch axis becomes the channel axis and g the filter; strides and dilations swap.
  const padBottom = Math.max(0, (oh - 1) * sh + eh + 1 - h - padTop);
  const padRight = Math.max(0, (ow - 1) * sw + ew + 1 - w - padLeft);
  const xs = transpose(b, x4, [3, 1, 2, 0]);
  const gs = transpose(b, g4, [1, 2, 0, 3]);
  const corr = op1(b, "conv2d", [xs, gs], { strides: [dh, dw], dilations: [sh, sw], padding: [[padTop, padBottom], [padLeft, padRight]] });
  const [, ch, cw] = corr.type.shape as unknown as [number, number, number, number];
  const cropped = ch === kh && cw === kw ? corr : op1(b, "slice", [corr], { begin: [0, 0, 0, 0], end: [c, kh, kw, outC], strides: [1, 1, 1, 1] });
  return [gx, transpose(b, cropped, [1, 2, 0, 3])];
}

/** The padded NHWC extent that holds every window, and each window offset's strided slice attributes. */
function windows(geo: WindowGeometry): { padded: [number, number]; offsets: { begin: number[]; end: number[]; strides: number[] }[] } {
  const { batch, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow } = geo;
  const hp = Math.max(h + padTop, (oh - 1) * sh + kh);
  const wp = Math.max(w + padLeft, (ow - 1) * sw + kw);
  const offsets = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      offsets.push({ begin: [0, i, j, 0], end: [batch, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c], strides: [1, sh, sw, 1] });
    }
  }
  return { padded: [hp, wp], offsets };
}

/** Pads an NHWC tensor to the window extent with `fill`. */
function padWindows(b: GradBuilder, t: G, geo: WindowGeometry, padded: [number, number], fill: number): G {
  const paddings = [[0, 0], [geo.padTop, padded[0] - geo.h - geo.padTop], [geo.padLeft, padded[1] - geo.w - geo.padLeft], [0, 0]];
  return op1(b, "pad", [t, b.scalar(fill, t.type.dtype)], { paddings });
}

/** Sums the slice transposes of `parts` (one per window offset) and crops the padding away. */
function gatherWindows(b: GradBuilder, parts: readonly G[], geo: WindowGeometry, padded: [number, number], x: G, offsets: ReturnType<typeof windows>["offsets"]): G {
  const paddedType: TensorType = { dtype: x.type.dtype, shape: [geo.batch, padded[0], padded[1], geo.c] };
  let acc: G | null = null;
  parts.forEach((part, i) => {
    const back = unslice(b, part, paddedType, offsets[i]!.begin, offsets[i]!.strides);
    acc = acc ? add(b, acc, back) : back;
  });
  return reshape(b, cropSpatial(b, acc!, geo.padTop, geo.padLeft, geo.h, geo.w), x.type.shape);
}

function poolRule(kind: "max" | "avg"): VjpRule {
  const name = kind === "max" ? "maxPool2d" : "avgPool2d";
  return floatRule((b, g, ops, out, attrs) => {
    const x = ops[0]!;
    const geo = poolGeometry(name, x.type, attrs);
    if (sizeOf(g.type.shape) === 0 || sizeOf(x.type.shape) === 0) return [zeros(b, x.type)];
    const { padded, offsets } = windows(geo);
    const x4 = asNhwc(b, x, geo, geo.c, geo.h, geo.w);
    const g4 = asNhwc(b, g, geo, geo.c, geo.oh, geo.ow);
    const zero = b.scalar(0, g.type.dtype);
    if (kind === "avg") {
      const ones = op1(b, "broadcastTo", [b.scalar(1, x.type.dtype)], { shape: [...x4.type.shape] });
      const onesPadded = padWindows(b, ones, geo, padded, 0);
      let count: G | null = null;
      for (const o of offsets) {
        const s = op1(b, "slice", [onesPadded], o);
        count = count ? add(b, count, s) : s;
      }
      const share = div(b, g4, count!);
      return [gatherWindows(b, offsets.map(() => share), geo, padded, x, offsets)];
    }
    const xp = padWindows(b, x4, geo, padded, -Infinity);
    const out4 = asNhwc(b, out, geo, geo.c, geo.oh, geo.ow);
    let taken: G | null = null;
    const parts = offsets.map((o) => {
      const hit = op1(b, "equal", [op1(b, "slice", [xp], o), out4]);
      const first = taken ? op1(b, "logicalAnd", [hit, op1(b, "logicalNot", [taken])]) : hit;
      taken = taken ? op1(b, "logicalOr", [taken, hit]) : hit;
      return select(b, first, g4, zero);
    });
    return [gatherWindows(b, parts, geo, padded, x, offsets)];
  });
}

export const LINALG_VJP = {
  matmul: floatRule((b, g, ops) => matmulRule(b, g, ops)),
  dot: floatRule((b, g, ops) => dotRule(b, g, ops)),
  conv2d: floatRule((b, g, ops, _out, attrs) => conv2dRule(b, g, ops, attrs)),
  maxPool2d: poolRule("max"),
  avgPool2d: poolRule("avg"),
} satisfies Record<string, VjpRule>;
