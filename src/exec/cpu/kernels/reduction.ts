/**
 * CPU kernels for reductions and scans.
 *
 * Every reduction views its input as [outer, reduced, inner] (row-major). When the reduced axes
 * are not one contiguous block (ignoring length-1 axes), they are first moved to the end with one
 * strided copy, which gives [kept, reduced, 1]. Kernels then walk rows of `inner` elements, so
 * memory is read in order; floats accumulate in float64 locals or scratch rows and are rounded
 * once when stored into the output array.
 */
import { allocate, type DType, isFloat, type TypedArray } from "../../../ir/dtype.js";
import type { Attrs } from "../../../ir/registry.js";
import { sizeOf, stridesOf } from "../../../ir/shape.js";
import type { TensorType } from "../../../ir/types.js";
import type { HostBuffer } from "../../backend.js";
import { registerCpuKernel } from "../backend.js";

/** The input as a dense [outer, red, inner] block. */
interface Layout {
  readonly data: TypedArray;
  readonly outer: number;
  readonly red: number;
  readonly inner: number;
}

/** A copy of `src` (shape `shape`) with its axes reordered by `perm`. */
function permuteCopy(src: TypedArray, dtype: DType, shape: readonly number[], perm: readonly number[]): TypedArray {
  const n = src.length;
  const out = allocate(dtype, n);
  if (n === 0) return out;
  const strides = stridesOf(shape);
  const rank = perm.length;
  const oshape = perm.map((p) => shape[p]!);
  const ostr = perm.map((p) => strides[p]!);
  const last = rank - 1;
  const run = oshape[last]!;
  const step = ostr[last]!;
  const idx = new Int32Array(rank);
  let off = 0;
  for (let base = 0; base < n; base += run) {
    let j = off;
    for (let k = 0; k < run; k++) {
      out[base + k] = src[j]!;
      j += step;
    }
    // Odometer over the outer output axes: advance the input offset by each axis's stride.
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      off += ostr[d]!;
      if (idx[d]! < oshape[d]!) break;
      off -= ostr[d]! * oshape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Views `x` as [outer, reduced, inner] for the given sorted axes, copying only when it must. */
function reduceLayout(x: HostBuffer, axes: readonly number[]): Layout {
  const shape = x.type.shape;
  const isReduced = shape.map(() => false);
  for (const a of axes) isReduced[a] = true;
  let kept = 1;
  let red = 1;
  for (let d = 0; d < shape.length; d++) {
    if (isReduced[d]) red *= shape[d]!;
    else kept *= shape[d]!;
  }
  // Nothing is read when either extent is empty, and a length-1 reduction keeps element order.
  if (kept === 0 || red <= 1) return { data: x.data, outer: kept, red, inner: 1 };
  // Length-1 axes do not affect the memory order, so only longer ones decide contiguity.
  const dims = shape.map((_, d) => d).filter((d) => shape[d]! > 1);
  const first = dims.findIndex((d) => isReduced[d]);
  let last = first;
  while (last + 1 < dims.length && isReduced[dims[last + 1]!]) last++;
  const contiguous = dims.slice(last + 1).every((d) => !isReduced[d]);
  if (contiguous) {
    let outer = 1;
    for (let k = 0; k < first; k++) outer *= shape[dims[k]!]!;
    return { data: x.data, outer, red, inner: kept / outer };
  }
  const perm = [...dims.filter((d) => !isReduced[d]), ...dims.filter((d) => isReduced[d])];
  const sub = dims.map((d) => shape[d]!);
  const subPerm = perm.map((d) => dims.indexOf(d));
  return { data: permuteCopy(x.data, x.type.dtype, sub, subPerm), outer: kept, red, inner: 1 };
}

/** Views `x` as [outer, n, inner] along one axis; null means the flattened input. */
function axisLayout(x: HostBuffer, axis: number | null): Layout {
  const shape = x.type.shape;
  if (axis === null) return { data: x.data, outer: 1, red: x.data.length, inner: 1 };
  return {
    data: x.data,
    outer: sizeOf(shape.slice(0, axis)),
    red: shape[axis]!,
    inner: sizeOf(shape.slice(axis + 1)),
  };
}

// ---- sums, products, means ------------------------------------------------------------------------

/** Float sum (divided by `divisor`, 1 for a sum and the count for a mean), accumulated in float64. */
function sumFloat(L: Layout, out: TypedArray, divisor: number): void {
  const { data: x, outer, red, inner } = L;
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++) {
      let s = 0;
      for (let r = 0; r < red; r++) s += x[p++]!;
      out[o] = s / divisor;
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0, p = 0; o < outer; o++) {
    acc.fill(0);
    for (let r = 0; r < red; r++) {
      for (let i = 0; i < inner; i++) acc[i]! += x[p + i]!;
      p += inner;
    }
    const q = o * inner;
    for (let i = 0; i < inner; i++) out[q + i] = acc[i]! / divisor;
  }
}

/** Integer sum into int32, wrapping on overflow (an Int32Array store wraps, as `| 0` does). */
function sumInt(L: Layout, out: TypedArray): void {
  const { data: x, outer, red, inner } = L;
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++) {
      let s = 0;
      for (let r = 0; r < red; r++) s = (s + x[p++]!) | 0;
      out[o] = s;
    }
    return;
  }
  for (let o = 0, p = 0; o < outer; o++) {
    const q = o * inner;
    for (let r = 0; r < red; r++) {
      for (let i = 0; i < inner; i++) out[q + i] = out[q + i]! + x[p + i]!;
      p += inner;
    }
  }
}

function prodFloat(L: Layout, out: TypedArray): void {
  const { data: x, outer, red, inner } = L;
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++) {
      let s = 1;
      for (let r = 0; r < red; r++) s *= x[p++]!;
      out[o] = s;
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0, p = 0; o < outer; o++) {
    acc.fill(1);
    for (let r = 0; r < red; r++) {
      for (let i = 0; i < inner; i++) acc[i]! *= x[p + i]!;
      p += inner;
    }
    const q = o * inner;
    for (let i = 0; i < inner; i++) out[q + i] = acc[i]!;
  }
}

/** Integer product into int32 with wrapping (Math.imul: a float64 product would lose low bits). */
function prodInt(L: Layout, out: TypedArray): void {
  const { data: x, outer, red, inner } = L;
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++) {
      let s = 1;
      for (let r = 0; r < red; r++) s = Math.imul(s, x[p++]!);
      out[o] = s;
    }
    return;
  }
  out.fill(1);
  for (let o = 0, p = 0; o < outer; o++) {
    const q = o * inner;
    for (let r = 0; r < red; r++) {
      for (let i = 0; i < inner; i++) out[q + i] = Math.imul(out[q + i]!, x[p + i]!);
      p += inner;
    }
  }
}

// ---- max, min, any, all -----------------------------------------------------------------------

/**
 * Max (or min) with NaN propagation: `v !== v` takes a NaN, and once the running value is NaN no
 * comparison replaces it. The output has the input's dtype, so it serves as the accumulator.
 * Callers guarantee red > 0 (the op rule rejects empty reduced axes).
 */
function extreme(L: Layout, out: TypedArray, isMax: boolean): void {
  const { data: x, outer, red, inner } = L;
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++, p += red) {
      let a = x[p]!;
      if (isMax) {
        for (let r = 1; r < red; r++) {
          const v = x[p + r]!;
          if (v > a || v !== v) a = v;
        }
      } else {
        for (let r = 1; r < red; r++) {
          const v = x[p + r]!;
          if (v < a || v !== v) a = v;
        }
      }
      out[o] = a;
    }
    return;
  }
  for (let o = 0, p = 0; o < outer; o++) {
    const q = o * inner;
    for (let i = 0; i < inner; i++) out[q + i] = x[p + i]!;
    p += inner;
    for (let r = 1; r < red; r++) {
      if (isMax) {
        for (let i = 0; i < inner; i++) {
          const v = x[p + i]!;
          if (v > out[q + i]! || v !== v) out[q + i] = v;
        }
      } else {
        for (let i = 0; i < inner; i++) {
          const v = x[p + i]!;
          if (v < out[q + i]! || v !== v) out[q + i] = v;
        }
      }
      p += inner;
    }
  }
}

/** any/all: truthy means nonzero, so NaN is true (`NaN !== 0`) and -0 is false. */
function anyAll(L: Layout, out: TypedArray, isAll: boolean): void {
  const { data: x, outer, red, inner } = L;
  const init = isAll ? 1 : 0;
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++, p += red) {
      let flag = init;
      if (isAll) {
        for (let r = 0; r < red; r++) if (x[p + r] === 0) { flag = 0; break; }
      } else {
        for (let r = 0; r < red; r++) if (x[p + r] !== 0) { flag = 1; break; }
      }
      out[o] = flag;
    }
    return;
  }
  out.fill(init);
  for (let o = 0, p = 0; o < outer; o++) {
    const q = o * inner;
    for (let r = 0; r < red; r++) {
      if (isAll) {
        for (let i = 0; i < inner; i++) if (x[p + i] === 0) out[q + i] = 0;
      } else {
        for (let i = 0; i < inner; i++) if (x[p + i] !== 0) out[q + i] = 1;
      }
      p += inner;
    }
  }
}

// ---- logSumExp ------------------------------------------------------------------------------------

/**
 * log(sum(exp(x))) as m + log(sum(exp(x - m))) with m the NaN-propagating max. A non-finite m is
 * the answer itself: NaN, +inf (some element is +inf), or -inf (every element is -inf, or none).
 */
function logSumExp(L: Layout, out: TypedArray): void {
  const { data: x, outer, red, inner } = L;
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++, p += red) {
      let m = -Infinity;
      for (let r = 0; r < red; r++) {
        const v = x[p + r]!;
        if (v > m || v !== v) m = v;
      }
      if (m - m !== 0) {
        out[o] = m;
        continue;
      }
      let s = 0;
      for (let r = 0; r < red; r++) s += Math.exp(x[p + r]! - m);
      out[o] = m + Math.log(s);
    }
    return;
  }
  const mx = new Float64Array(inner);
  const sum = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const start = o * red * inner;
    mx.fill(-Infinity);
    for (let r = 0, p = start; r < red; r++, p += inner) {
      for (let i = 0; i < inner; i++) {
        const v = x[p + i]!;
        if (v > mx[i]! || v !== v) mx[i] = v;
      }
    }
    sum.fill(0);
    // Columns with a non-finite max accumulate garbage here; their result is the max itself.
    for (let r = 0, p = start; r < red; r++, p += inner) {
      for (let i = 0; i < inner; i++) sum[i]! += Math.exp(x[p + i]! - mx[i]!);
    }
    const q = o * inner;
    for (let i = 0; i < inner; i++) {
      const m = mx[i]!;
      out[q + i] = m - m === 0 ? m + Math.log(sum[i]!) : m;
    }
  }
}

// ---- argmax, argmin ---------------------------------------------------------------------------------

/** Index of the first extreme; the first NaN wins and ends the search, as in NumPy. Requires red > 0. */
function argExtreme(L: Layout, out: TypedArray, isMax: boolean): void {
  const { data: x, outer, red, inner } = L;
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++, p += red) {
      let b = x[p]!;
      let bi = 0;
      if (b === b) {
        for (let r = 1; r < red; r++) {
          const v = x[p + r]!;
          if (isMax ? v > b : v < b) {
            b = v;
            bi = r;
          } else if (v !== v) {
            bi = r;
            break;
          }
        }
      }
      out[o] = bi;
    }
    return;
  }
  const best = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const start = o * red * inner;
    const q = o * inner;
    for (let i = 0; i < inner; i++) best[i] = x[start + i]!;
    // out[q + i] starts at 0 (fresh allocation) and holds the running index.
    for (let r = 1, p = start + inner; r < red; r++, p += inner) {
      for (let i = 0; i < inner; i++) {
        const b = best[i]!;
        if (b !== b) continue;
        const v = x[p + i]!;
        if ((isMax ? v > b : v < b) || v !== v) {
          best[i] = v;
          out[q + i] = r;
        }
      }
    }
  }
}

// ---- scans --------------------------------------------------------------------------------------------

interface ScanFlags {
  readonly isProd: boolean;
  readonly isInt: boolean;
  readonly exclusive: boolean;
  readonly reverse: boolean;
}

/** Running sum/product along the middle axis of [outer, n, inner]; in = out layout. */
function scan(L: Layout, out: TypedArray, f: ScanFlags): void {
  const { data: x, outer, red: n, inner } = L;
  const { isProd, isInt, exclusive, reverse } = f;
  const id = isProd ? 1 : 0;
  if (inner === 1) {
    const step = reverse ? -1 : 1;
    for (let o = 0; o < outer; o++) {
      let p = reverse ? o * n + n - 1 : o * n;
      let s = id;
      // One loop per operation so the per-element work is a single add or multiply.
      if (!isProd && !isInt) {
        for (let k = 0; k < n; k++, p += step) {
          const t = s + x[p]!;
          out[p] = exclusive ? s : t;
          s = t;
        }
      } else if (!isProd) {
        for (let k = 0; k < n; k++, p += step) {
          const t = (s + x[p]!) | 0;
          out[p] = exclusive ? s : t;
          s = t;
        }
      } else if (!isInt) {
        for (let k = 0; k < n; k++, p += step) {
          const t = s * x[p]!;
          out[p] = exclusive ? s : t;
          s = t;
        }
      } else {
        for (let k = 0; k < n; k++, p += step) {
          const t = Math.imul(s, x[p]!);
          out[p] = exclusive ? s : t;
          s = t;
        }
      }
    }
    return;
  }
  // An Int32Array accumulator wraps sums on store; products still need Math.imul.
  const acc = isInt ? new Int32Array(inner) : new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(id);
    for (let k = 0; k < n; k++) {
      const p = (o * n + (reverse ? n - 1 - k : k)) * inner;
      if (exclusive) for (let i = 0; i < inner; i++) out[p + i] = acc[i]!;
      if (!isProd) for (let i = 0; i < inner; i++) acc[i]! += x[p + i]!;
      else if (isInt) for (let i = 0; i < inner; i++) acc[i] = Math.imul(acc[i]!, x[p + i]!);
      else for (let i = 0; i < inner; i++) acc[i]! *= x[p + i]!;
      if (!exclusive) for (let i = 0; i < inner; i++) out[p + i] = acc[i]!;
    }
  }
}

// ---- registration ---------------------------------------------------------------------------------

type Body = (L: Layout, out: TypedArray, outType: TensorType) => void;

/** Registers a reduction over attribute `axes`; the op rule has already validated the attributes. */
function reductionKernel(name: string, body: Body): void {
  registerCpuKernel(name, (inputs: readonly HostBuffer[], attrs: Attrs, outTypes: readonly TensorType[]) => {
    const t = outTypes[0]!;
    const out = allocate(t.dtype, sizeOf(t.shape));
    body(reduceLayout(inputs[0]!, attrs["axes"] as readonly number[]), out, t);
    return [out];
  });
}

reductionKernel("reduceSum", (L, out, t) => (isFloat(t.dtype) ? sumFloat(L, out, 1) : sumInt(L, out)));
reductionKernel("reduceMean", (L, out) => sumFloat(L, out, L.red));
reductionKernel("reduceProd", (L, out, t) => (isFloat(t.dtype) ? prodFloat(L, out) : prodInt(L, out)));
reductionKernel("reduceMax", (L, out) => extreme(L, out, true));
reductionKernel("reduceMin", (L, out) => extreme(L, out, false));
reductionKernel("reduceAny", (L, out) => anyAll(L, out, false));
reductionKernel("reduceAll", (L, out) => anyAll(L, out, true));
reductionKernel("logSumExp", (L, out) => logSumExp(L, out));

for (const [name, isMax] of [["argmax", true], ["argmin", false]] as const) {
  registerCpuKernel(name, (inputs, attrs, outTypes) => {
    const out = allocate("int32", sizeOf(outTypes[0]!.shape));
    argExtreme(axisLayout(inputs[0]!, attrs["axis"] as number | null), out, isMax);
    return [out];
  });
}

for (const [name, isProd] of [["cumsum", false], ["cumprod", true]] as const) {
  registerCpuKernel(name, (inputs, attrs, outTypes) => {
    const t = outTypes[0]!;
    const out = allocate(t.dtype, sizeOf(t.shape));
    const flags = { isProd, isInt: !isFloat(t.dtype), exclusive: attrs["exclusive"] === true, reverse: attrs["reverse"] === true };
    scan(axisLayout(inputs[0]!, attrs["axis"] as number | null), out, flags);
    return [out];
  });
}
