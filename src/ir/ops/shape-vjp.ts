/**
 * Reverse-mode rules of the shape and indexing ops (read by shape.ts when it defines each op).
 * gather's transpose is a scatter-add, built without a scatter op: the (normalized) indices become
 * a one-hot [depth, count] matrix that a matmul applies to the cotangent, so it costs
 * O(axis length * index count) memory. Indices (gather, oneHot) never get a cotangent.
 */
import { isFloat } from "../dtype.js";
import type { GradValue, VjpRule } from "../registry.js";
import { sizeOf } from "../shape.js";
import {
  add, floatRule, mul, op1, reshape, select, sub, transpose, unbroadcast, unslice, zeros,
} from "../autodiff/rule-helpers.js";

type G = GradValue;

const ints = (v: unknown): number[] => [...(v as readonly number[])];
const allAxes = (t: G): number[] => [...t.type.shape.keys()];
const total = (b: Parameters<VjpRule>[0], t: G): G => op1(b, "reduceSum", [t], { axes: allAxes(t), keepDims: false });

export const SHAPE_VJP = {
  reshape: floatRule((b, g, ops) => [reshape(b, g, ops[0]!.type.shape)]),
  transpose: floatRule((b, g, _ops, _out, attrs) => {
    const perm = ints(attrs["perm"]);
    return [transpose(b, g, perm.map((_, i) => perm.indexOf(i)))];
  }),
  broadcastTo: floatRule((b, g, ops) => [unbroadcast(b, g, ops[0]!.type)]),
  // Strided slices are undone by spreading g with zeros (pad + reshape), then padding to x's shape.
  slice: floatRule((b, g, ops, _out, attrs) => [unslice(b, g, ops[0]!.type, ints(attrs["begin"]), ints(attrs["strides"]))]),
  flip: floatRule((b, g, _ops, _out, attrs) => [ints(attrs["axes"]).length ? op1(b, "flip", [g], { axes: ints(attrs["axes"]) }) : g]),
  concat: floatRule((b, g, ops, _out, attrs) => {
    const axis = attrs["axis"] as number;
    const shape = g.type.shape;
    let at = 0;
    return ops.map((x) => {
      const n = x.type.shape[axis]!;
      const piece = op1(b, "slice", [g], {
        begin: shape.map((_, i) => (i === axis ? at : 0)),
        end: shape.map((d, i) => (i === axis ? at + n : d)),
        strides: shape.map(() => 1),
      });
      at += n;
      return piece;
    });
  }),
  // Several results: pieces without a cotangent contribute zeros.
  split: ((b, cts, ops, results, attrs) => {
    const x = ops[0]!;
    if (!isFloat(x.type.dtype) || cts.every((c) => !c)) return [null];
    const pieces = results.map((r, i) => cts[i] ?? zeros(b, r.type));
    return [pieces.length === 1 ? pieces[0]! : op1(b, "concat", pieces, { axis: attrs["axis"] as number })];
  }) satisfies VjpRule,
  gather: floatRule((b, g, ops, _out, attrs) => {
    const [x, idx] = ops as [G, G];
    const axis = attrs["axis"] as number;
    const n = x.type.shape[axis]!;
    const m = sizeOf(idx.type.shape);
    const flat = reshape(b, idx, [m]);
    const zero = b.scalar(0, "int32");
    const wrapped = select(b, op1(b, "less", [flat, zero]), add(b, flat, b.scalar(n, "int32")), flat);
    const dtype = x.type.dtype;
    const hot = op1(b, "oneHot", [wrapped, b.scalar(1, dtype), b.scalar(0, dtype)], { depth: n, axis: 0 });
    const p = sizeOf(x.type.shape.slice(0, axis));
    const q = sizeOf(x.type.shape.slice(axis + 1));
    const scattered = op1(b, "matmul", [hot, reshape(b, g, [p, m, q])]);
    return [reshape(b, scattered, x.type.shape), null];
  }),
  // The fill value receives the cotangent of every padded cell.
  pad: floatRule((b, g, ops, _out, attrs) => {
    const x = ops[0]!;
    const paddings = attrs["paddings"] as readonly (readonly number[])[];
    const inner = op1(b, "slice", [g], {
      begin: paddings.map((p) => p[0]!),
      end: paddings.map((p, i) => p[0]! + x.type.shape[i]!),
      strides: paddings.map(() => 1),
    });
    return [inner, sub(b, total(b, g), total(b, inner))];
  }),
  oneHot: floatRule((b, g, ops, _out, attrs) => {
    const idx = ops[0]!;
    const dtype = g.type.dtype;
    const hotMask = op1(b, "oneHot", [idx, b.scalar(1, dtype), b.scalar(0, dtype)], attrs);
    const coldMask = op1(b, "oneHot", [idx, b.scalar(0, dtype), b.scalar(1, dtype)], attrs);
    return [null, total(b, mul(b, g, hotMask)), total(b, mul(b, g, coldMask))];
  }),
} satisfies Record<string, VjpRule>;
