/**
 * conv2d (im2col + gemm) and 2-D pooling (direct loops) on NHWC data. Geometry (output size,
 * padding before) comes from the registry's rule, so kernel and shape rule cannot disagree.
 */
import { allocate, type DType, type TypedArray } from "../../../ir/dtype.js";
import type { WindowGeometry } from "../../../ir/ops/linalg.js";
import { gemm } from "./matmul.js";

/** Upper bound on im2col buffer elements: output pixels are processed in chunks below this. */
const IM2COL_ELEMS = 1 << 20;

/**
 * out[b, oy, ox, o] = sum over ky, kx, ci of x[b, oy*sh - padTop + ky*dh, ox*sw - padLeft + kx*dw, ci]
 * * filter[ky, kx, ci, o], with zeros outside x. The filter, HWIO, is already the K x O matrix
 * that gemm wants (K = kh*kw*c), and each output pixel's patch is one row of the im2col matrix.
 */
export function conv2dKernel(dtype: DType, x: TypedArray, filter: TypedArray, g: WindowGeometry, outC: number): TypedArray {
  const { batch, h, w, c, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow } = g;
  const rows = batch * oh * ow;
  const out = allocate(dtype, rows * outC);
  if (out.length === 0) return out;
  const K = kh * kw * c;
  // A 1x1 stride-1 unpadded convolution is a plain matmul of the pixels by the filter.
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && padTop === 0 && padLeft === 0 && oh === h && ow === w) {
    gemm(dtype, x, 0, c, filter, 0, outC, out, 0, outC, rows, outC, K);
    return out;
  }
  const chunk = Math.max(1, Math.min(rows, Math.floor(IM2COL_ELEMS / Math.max(K, 1))));
  const patches = allocate(dtype, chunk * K);
  let filled = 0;
  let firstRow = 0;
  for (let b = 0; b < batch; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - padTop;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - padLeft;
        let dst = filled * K;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y0 + ky * dh;
          const rowInside = iy >= 0 && iy < h;
          for (let kx = 0; kx < kw; kx++) {
            const ix = x0 + kx * dw;
            if (rowInside && ix >= 0 && ix < w) {
              const src = xb + (iy * w + ix) * c;
              for (let ci = 0; ci < c; ci++) patches[dst + ci] = x[src + ci]!;
            } else {
              for (let ci = 0; ci < c; ci++) patches[dst + ci] = 0;
            }
            dst += c;
          }
        }
        if (++filled === chunk) {
          gemm(dtype, patches, 0, K, filter, 0, outC, out, firstRow * outC, outC, filled, outC, K);
          firstRow += filled;
          filled = 0;
        }
      }
    }
  }
  if (filled > 0) gemm(dtype, patches, 0, K, filter, 0, outC, out, firstRow * outC, outC, filled, outC, K);
  return out;
}

/**
 * Max or average over each window. Padded cells are ignored: the window is clipped to the input,
 * so max never sees a pad value and the mean divides by the number of real cells (TensorFlow's
 * "same" pooling). NaN propagates through max.
 */
export function pool2dKernel(mode: "max" | "avg", dtype: DType, x: TypedArray, g: WindowGeometry): TypedArray {
  const { batch, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow } = g;
  const out = allocate(dtype, batch * oh * ow * c);
  if (out.length === 0) return out;
  const acc = new Float64Array(c);
  const isMax = mode === "max";
  let o = 0;
  for (let b = 0; b < batch; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - padTop;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(h, y0 + kh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - padLeft;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(w, x0 + kw);
        acc.fill(isMax ? -Infinity : 0);
        for (let iy = yStart; iy < yEnd; iy++) {
          for (let ix = xStart; ix < xEnd; ix++) {
            const src = xb + (iy * w + ix) * c;
            if (isMax) {
              for (let ci = 0; ci < c; ci++) {
                const v = x[src + ci]!;
                // `v !== v` catches NaN; once the max is NaN, no number compares greater.
                if (v > acc[ci]! || v !== v) acc[ci] = v;
              }
            } else {
              for (let ci = 0; ci < c; ci++) acc[ci] = acc[ci]! + x[src + ci]!;
            }
          }
        }
        if (isMax) {
          for (let ci = 0; ci < c; ci++) out[o++] = acc[ci]!;
        } else {
          const count = (yEnd - yStart) * (xEnd - xStart);
          for (let ci = 0; ci < c; ci++) out[o++] = acc[ci]! / count;
        }
      }
    }
  }
  return out;
}
