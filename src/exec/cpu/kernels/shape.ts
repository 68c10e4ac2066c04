/**
 * CPU kernels for shape and indexing ops. Most of them are one strided copy (`copyView`): a view
 * is an offset plus per-axis strides (negative for flips, 0 for broadcasts), so transpose,
 * broadcastTo, slice, flip, concat, split and pad differ only in how they compute those numbers.
 * Attributes were validated by the op's infer rule before a kernel runs.
 */
import { allocate, type TypedArray } from "../../../ir/dtype.js";
import { IndexError } from "../../../ir/errors.js";
import type { Attrs } from "../../../ir/registry.js";
import { broadcastStrides, sizeOf, stridesOf } from "../../../ir/shape.js";
import { formatType } from "../../../ir/types.js";
import type { HostBuffer } from "../../backend.js";
import { registerCpuKernel } from "../backend.js";

/** Below this run length a plain loop beats the call overhead of TypedArray.set. */
const BULK_COPY_MIN = 64;

/**
 * Copies a `shape`-sized block: dst[dOff + Σ i_k·dStr_k] = src[sOff + Σ i_k·sStr_k], for every
 * index i in row-major order. Size-1 axes are dropped and axes both sides walk contiguously are
 * merged first, so the inner loop is as long as possible.
 */
function copyView(
  src: TypedArray, sOff: number, sStr: readonly number[],
  dst: TypedArray, dOff: number, dStr: readonly number[],
  shape: readonly number[],
): void {
  const dims: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 0) return;
    if (n === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && ss[last] === sStr[d]! * n && ds[last] === dStr[d]! * n) {
      dims[last]! *= n;
      ss[last] = sStr[d]!;
      ds[last] = dStr[d]!;
    } else {
      dims.push(n);
      ss.push(sStr[d]!);
      ds.push(dStr[d]!);
    }
  }
  const r = dims.length;
  if (r === 0) {
    dst[dOff] = src[sOff]!;
    return;
  }
  const inner = dims[r - 1]!;
  const si = ss[r - 1]!;
  const di = ds[r - 1]!;
  const bulk = si === 1 && di === 1 && inner >= BULK_COPY_MIN;
  let outer = 1;
  for (let d = 0; d < r - 1; d++) outer *= dims[d]!;
  const idx = new Int32Array(r);
  let so = sOff;
  let dO = dOff;
  for (let k = 0; k < outer; k++) {
    if (bulk) dst.set(src.subarray(so, so + inner), dO);
    else {
      let a = so;
      let b = dO;
      for (let j = 0; j < inner; j++) {
        dst[b] = src[a]!;
        a += si;
        b += di;
      }
    }
    for (let d = r - 2; d >= 0; d--) {
      idx[d]!++;
      so += ss[d]!;
      dO += ds[d]!;
      if (idx[d]! < dims[d]!) break;
      so -= ss[d]! * dims[d]!;
      dO -= ds[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

const nums = (attrs: Attrs, name: string): readonly number[] => attrs[name] as readonly number[];

// Tensors are immutable, so a reshape shares its input's buffer.
registerCpuKernel("reshape", (inputs) => [inputs[0]!.data]);

registerCpuKernel("transpose", (inputs, attrs, outTypes) => {
  const x = inputs[0]!;
  const out = outTypes[0]!;
  const st = stridesOf(x.type.shape);
  const data = allocate(out.dtype, sizeOf(out.shape));
  copyView(x.data, 0, nums(attrs, "perm").map((p) => st[p]!), data, 0, stridesOf(out.shape), out.shape);
  return [data];
});

registerCpuKernel("broadcastTo", (inputs, _attrs, outTypes) => {
  const x = inputs[0]!;
  const out = outTypes[0]!;
  const data = allocate(out.dtype, sizeOf(out.shape));
  copyView(x.data, 0, broadcastStrides(x.type.shape, out.shape), data, 0, stridesOf(out.shape), out.shape);
  return [data];
});

registerCpuKernel("slice", (inputs, attrs, outTypes) => {
  const x = inputs[0]!;
  const out = outTypes[0]!;
  const data = allocate(out.dtype, sizeOf(out.shape));
  if (data.length === 0) return [data];
  const st = stridesOf(x.type.shape);
  const begin = nums(attrs, "begin");
  const steps = nums(attrs, "strides");
  let off = 0;
  for (let d = 0; d < st.length; d++) off += begin[d]! * st[d]!;
  copyView(x.data, off, st.map((s, d) => s * steps[d]!), data, 0, stridesOf(out.shape), out.shape);
  return [data];
});

registerCpuKernel("flip", (inputs, attrs, outTypes) => {
  const x = inputs[0]!;
  const out = outTypes[0]!;
  const data = allocate(out.dtype, sizeOf(out.shape));
  if (data.length === 0) return [data];
  const shape = x.type.shape;
  const st = stridesOf(shape);
  let off = 0;
  for (const a of nums(attrs, "axes")) {
    off += (shape[a]! - 1) * st[a]!;
    st[a] = -st[a]!;
  }
  copyView(x.data, off, st, data, 0, stridesOf(shape), shape);
  return [data];
});

registerCpuKernel("concat", (inputs, attrs, outTypes) => {
  const out = outTypes[0]!;
  const axis = attrs["axis"] as number;
  const data = allocate(out.dtype, sizeOf(out.shape));
  const ost = stridesOf(out.shape);
  let pos = 0;
  for (const x of inputs) {
    copyView(x.data, 0, stridesOf(x.type.shape), data, pos * ost[axis]!, ost, x.type.shape);
    pos += x.type.shape[axis]!;
  }
  return [data];
});

registerCpuKernel("split", (inputs, attrs, outTypes) => {
  const x = inputs[0]!;
  const axis = attrs["axis"] as number;
  const st = stridesOf(x.type.shape);
  let pos = 0;
  return outTypes.map((t) => {
    const data = allocate(t.dtype, sizeOf(t.shape));
    copyView(x.data, pos * st[axis]!, st, data, 0, stridesOf(t.shape), t.shape);
    pos += t.shape[axis]!;
    return data;
  });
});

registerCpuKernel("pad", (inputs, attrs, outTypes) => {
  const [x, value] = inputs as [HostBuffer, HostBuffer];
  const out = outTypes[0]!;
  const data = allocate(out.dtype, sizeOf(out.shape));
  data.fill(value.data[0]!);
  const ost = stridesOf(out.shape);
  const paddings = attrs["paddings"] as readonly (readonly number[])[];
  let off = 0;
  for (let d = 0; d < ost.length; d++) off += paddings[d]![0]! * ost[d]!;
  copyView(x.data, 0, stridesOf(x.type.shape), data, off, ost, x.type.shape);
  return [data];
});

registerCpuKernel("gather", (inputs, attrs, outTypes) => {
  const [x, indices] = inputs as [HostBuffer, HostBuffer];
  const out = outTypes[0]!;
  const axis = attrs["axis"] as number;
  const shape = x.type.shape;
  const n = shape[axis]!;
  const src = x.data;
  const idx = indices.data;
  const m = idx.length;
  // Validate every index before writing anything, so the error names the first bad one.
  for (let k = 0; k < m; k++) {
    const v = idx[k]!;
    if (v < -n || v >= n) {
      throw new IndexError(`gather: index ${v} (at flat position ${k} of the indices) is out of bounds for axis ${axis} with size ${n} of ${formatType(x.type)}`);
    }
  }
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  const data = allocate(out.dtype, sizeOf(out.shape));
  let p = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let k = 0; k < m; k++) {
      const v = idx[k]!;
      const from = base + (v < 0 ? v + n : v) * inner;
      if (inner >= BULK_COPY_MIN) {
        data.set(src.subarray(from, from + inner), p);
        p += inner;
      } else {
        for (let j = 0; j < inner; j++) data[p++] = src[from + j]!;
      }
    }
  }
  return [data];
});

registerCpuKernel("oneHot", (inputs, attrs, outTypes) => {
  const [indices, on, off] = inputs as [HostBuffer, HostBuffer, HostBuffer];
  const out = outTypes[0]!;
  const depth = attrs["depth"] as number;
  const axis = attrs["axis"] as number;
  const ishape = indices.type.shape;
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= ishape[d]!;
  let inner = 1;
  for (let d = axis; d < ishape.length; d++) inner *= ishape[d]!;
  const data = allocate(out.dtype, sizeOf(out.shape));
  data.fill(off.data[0]!);
  const onValue = on.data[0]!;
  const idx = indices.data;
  // Output index (o, v, i) with the new depth axis between the outer and inner index axes.
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const v = idx[o * inner + i]!;
      if (v >= 0 && v < depth) data[(o * depth + v) * inner + i] = onValue;
    }
  }
  return [data];
});
