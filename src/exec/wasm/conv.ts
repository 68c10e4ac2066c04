/**
 * conv2d (NHWC x, HWIO filter, float32) as a WebAssembly plan: im2col into scratch, then the SIMD
 * GEMM of src/exec/wasm/gemm.ts. The filter is already the K x O matrix the GEMM wants
 * (K = kh * kw * c); each output pixel's receptive field is one row of the patch matrix.
 *
 * Phases: "pack" (the filter's panels), then per block of output pixels "im2col<b>" (items: pixels)
 * and "run<b>" (items: row tiles). Blocks bound the scratch (and keep a block's patches in L2 while
 * the GEMM reads them); a 1x1, stride-1, unpadded convolution needs no patches: x is the A matrix.
 *
 * Numerics are the GEMM's: float32 accumulation in the patch order (ky, kx, c ascending), so the
 * result is within (K + 2) * 2^-24 * sum |x w| of the exact sum, like the matmul plan; padded cells
 * contribute exact zero products (as in the JS kernel: 0 * inf would be NaN there too).
 */
import type { Attrs } from "../../ir/registry.js";
import { convGeometry } from "../../ir/ops/linalg.js";
import { sizeOf } from "../../ir/shape.js";
import type { TensorType } from "../../ir/types.js";
import { kernelMemory, type WasmKernelPlan, type WasmPhase } from "./abi.js";
import { type FunctionBuilder, ModuleBuilder } from "./emit.js";
import { DEFAULT_GEMM_TUNING, emitGemm, emitRunPhase, type GemmProblem, type GemmTuning, packedBytes } from "./gemm.js";

/** Patch bytes per block: a block's patches stay in L2 between im2col and the GEMM. */
const BLOCK_BYTES = 1 << 21;
/** More blocks than this and the blocks grow instead (each block is two phases, two barriers). */
const MAX_BLOCKS = 64;

/** Copies `bytes` (a multiple of 4) from local src+srcOff to local dst+dstOff, unrolled for small static sizes. */
function emitCopy(f: FunctionBuilder, dst: number, dstOff: number, src: number, srcOff: number, bytes: number): void {
  if (bytes > 512) {
    f.localGet(dst);
    if (dstOff) {
      f.i32.const(dstOff);
      f.i32.add();
    }
    f.localGet(src);
    if (srcOff) {
      f.i32.const(srcOff);
      f.i32.add();
    }
    f.i32.const(bytes);
    f.memoryCopy();
    return;
  }
  let o = 0;
  for (; o + 16 <= bytes; o += 16) {
    f.localGet(dst);
    f.localGet(src);
    f.v128.load(srcOff + o, 4);
    f.v128.store(dstOff + o, 4);
  }
  for (; o < bytes; o += 4) {
    f.localGet(dst);
    f.localGet(src);
    f.f32.load(srcOff + o, 4);
    f.f32.store(dstOff + o, 4);
  }
}

/** Zeroes `bytes` (a multiple of 4) at local dst + dstOff. */
function emitZero(f: FunctionBuilder, dst: number, dstOff: number, bytes: number): void {
  if (bytes > 512) {
    f.localGet(dst);
    if (dstOff) {
      f.i32.const(dstOff);
      f.i32.add();
    }
    f.i32.const(0);
    f.i32.const(bytes);
    f.memoryFill();
    return;
  }
  let o = 0;
  for (; o + 16 <= bytes; o += 16) {
    f.localGet(dst);
    f.v128.const(new Array<number>(16).fill(0));
    f.v128.store(dstOff + o, 4);
  }
  for (; o < bytes; o += 4) {
    f.localGet(dst);
    f.f32.const(0);
    f.f32.store(dstOff + o, 4);
  }
}

/**
 * conv2d (NHWC input, HWIO filter, attrs exactly as the op in src/ir/ops defines them) as a plan:
 * inputs [x, w], outputs [y]; float32 only; undefined otherwise.
 */
export function wasmConv2dPlan(x: TensorType, w: TensorType, attrs: Attrs, y: TensorType, opts: { shared: boolean }, tuning: GemmTuning = DEFAULT_GEMM_TUNING): WasmKernelPlan | undefined {
  if (x.dtype !== "float32" || w.dtype !== "float32" || y.dtype !== "float32") return undefined;
  let g: ReturnType<typeof convGeometry>;
  try {
    g = convGeometry(x, w, attrs);
  } catch {
    return undefined;
  }
  const { batch, h, w: width, c, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow, outC } = g;
  const rows = batch * oh * ow;
  if (sizeOf(y.shape) !== rows * outC) return undefined;
  const K = kh * kw * c;
  if (Math.max(sizeOf(x.shape), sizeOf(w.shape), rows * outC) * 4 >= 2 ** 31) return undefined;
  const key = JSON.stringify(["wasm-conv2d-1", opts.shared, tuning, x, w, y, [sh, sw], [dh, dw], [padTop, padLeft]]);
  const mb = new ModuleBuilder({ memory: kernelMemory(opts.shared) });
  const direct = kh === 1 && kw === 1 && sh === 1 && sw === 1 && padTop === 0 && padLeft === 0 && oh === h && ow === width;
  const MR = tuning.mr;
  const totalTiles = Math.ceil(rows / MR);
  // Rows per block: a multiple of MR, so blocks split at tile boundaries.
  let blockTiles = Math.max(1, Math.floor(BLOCK_BYTES / Math.max(1, K * 4 * MR)));
  if (Math.ceil(totalTiles / blockTiles) > MAX_BLOCKS) blockTiles = Math.ceil(totalTiles / MAX_BLOCKS);
  if (direct) blockTiles = totalTiles;
  const blockRows = blockTiles * MR;
  const packBytes = packedBytes({ n: outC, k: K, batch: [], bBatchStrides: [] });
  const patchOffset = Math.ceil(packBytes / 64) * 64;
  const patchBytes = direct || K === 0 ? 0 : Math.min(rows, blockRows) * K * 4;
  const scratchBytes = K > 0 && rows * outC > 0 ? patchOffset + patchBytes : 0;
  if (scratchBytes >= 2 ** 31) return undefined;
  const problem: GemmProblem = {
    m: rows,
    n: outC,
    k: K,
    batch: [],
    aBatchStrides: [],
    bBatchStrides: [],
    aSlot: 0,
    bSlot: 1,
    cSlot: 2,
    scratchSlot: 3,
    packOffset: 0,
    ...(direct ? {} : { aInScratch: { offset: patchOffset } }),
  };
  const parts = emitGemm(mb, problem, tuning);
  const phases: WasmPhase[] = [];
  if (parts) {
    if (parts.pack) phases.push(parts.pack);
    if (direct || K === 0) {
      phases.push(emitRunPhase(mb, parts, "run", 0, parts.tiles));
    } else {
      const im2col = emitIm2col(mb, g, patchOffset);
      for (let b = 0, first = 0; first < totalTiles; b++, first += blockTiles) {
        const tiles = Math.min(blockTiles, totalTiles - first);
        const firstRow = first * MR;
        const nRows = Math.min(rows, firstRow + tiles * MR) - firstRow;
        mb.func(`im2col${b}`, ["i32", "i32", "i32"], [], (f) => {
          f.localGet(0);
          f.localGet(1);
          f.i32.const(firstRow);
          f.i32.add();
          f.localGet(2);
          f.i32.const(firstRow);
          f.i32.add();
          f.i32.const(firstRow);
          f.call(im2col);
        });
        phases.push({ entry: `im2col${b}`, items: nRows, grain: Math.max(1, Math.min(256, Math.ceil(nRows / 8))) });
        phases.push(emitRunPhase(mb, parts, `run${b}`, first, tiles));
      }
    }
  }
  return { key, bytes: mb.bytes(), phases, scratchBytes };
}

/**
 * `im2col(args, begin, end, rowBase)`: patch rows [begin, end) (output pixels, batch-major) into
 * scratch + patchOffset, row r at (r - rowBase) * K.
 */
function emitIm2col(mb: ModuleBuilder, g: ReturnType<typeof convGeometry>, patchOffset: number): number {
  const { h, w, c, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow } = g;
  const K = kh * kw * c;
  const cb = 4 * c;
  return mb.func(undefined, ["i32", "i32", "i32", "i32"], [], (f) => {
    const [args, begin, end, rowBase] = [0, 1, 2, 3];
    const X = f.local("i32");
    const P = f.local("i32");
    const r = f.local("i32");
    const dst = f.local("i32");
    const src = f.local("i32");
    const bImg = f.local("i32");
    const y0 = f.local("i32");
    const x0 = f.local("i32");
    const iy = f.local("i32");
    const ix = f.local("i32");
    const ky = f.local("i32");
    const kx = f.local("i32");
    const rowIn = f.local("i32");
    f.localGet(args);
    f.i32.load(0, 4);
    f.localSet(X);
    f.localGet(args);
    f.i32.load(12, 4);
    f.i32.const(patchOffset);
    f.i32.add();
    f.localSet(P);
    f.forRange(r, { local: begin }, { local: end }, 1, () => {
      // dst = P + (r - rowBase) * K * 4
      f.localGet(P);
      f.localGet(r);
      f.localGet(rowBase);
      f.i32.sub();
      f.i32.const(K * 4);
      f.i32.mul();
      f.i32.add();
      f.localSet(dst);
      // b = r / (oh ow); y0 = ((r / ow) % oh) * sh - padTop; x0 = (r % ow) * sw - padLeft
      f.localGet(r);
      f.i32.const(oh * ow);
      f.i32.divU();
      f.localSet(bImg);
      f.localGet(r);
      f.i32.const(ow);
      f.i32.divU();
      f.i32.const(oh);
      f.i32.remU();
      f.i32.const(sh);
      f.i32.mul();
      f.i32.const(padTop);
      f.i32.sub();
      f.localSet(y0);
      f.localGet(r);
      f.i32.const(ow);
      f.i32.remU();
      f.i32.const(sw);
      f.i32.mul();
      f.i32.const(padLeft);
      f.i32.sub();
      f.localSet(x0);
      // Whole rows of the window inside the image in x, with dw = 1: one copy of kw * c floats.
      const rowCopy = dw === 1 && kw > 1 && kw <= w;
      f.forRange(ky, 0, kh, 1, () => {
        f.localGet(y0);
        f.localGet(ky);
        f.i32.const(dh);
        f.i32.mul();
        f.i32.add();
        f.localTee(iy);
        // 0 <= iy < h, as one unsigned compare
        f.i32.const(h);
        f.i32.ltU();
        f.localSet(rowIn);
        // src = X + ((b * h + iy) * w + x0) * c * 4
        f.localGet(X);
        f.localGet(bImg);
        f.i32.const(h);
        f.i32.mul();
        f.localGet(iy);
        f.i32.add();
        f.i32.const(w);
        f.i32.mul();
        f.localGet(x0);
        f.i32.add();
        f.i32.const(cb);
        f.i32.mul();
        f.i32.add();
        f.localSet(src);
        const perPixel = (): void => {
          f.forRange(kx, 0, kw, 1, () => {
            f.localGet(x0);
            f.localGet(kx);
            f.i32.const(dw);
            f.i32.mul();
            f.i32.add();
            f.localSet(ix);
            f.localGet(rowIn);
            f.localGet(ix);
            f.i32.const(w);
            f.i32.ltU();
            f.i32.and();
            f.if();
            {
              // src + kx * dw * c * 4 is the pixel; copy c floats
              const pix = f.local("i32");
              f.localGet(src);
              f.localGet(kx);
              f.i32.const(dw * cb);
              f.i32.mul();
              f.i32.add();
              f.localSet(pix);
              emitCopy(f, dst, 0, pix, 0, cb);
            }
            f.else();
            emitZero(f, dst, 0, cb);
            f.end();
            f.localGet(dst);
            f.i32.const(cb);
            f.i32.add();
            f.localSet(dst);
          });
        };
        if (rowCopy) {
          // rowIn && x0 >= 0 && x0 + kw - 1 < w
          f.localGet(rowIn);
          f.localGet(x0);
          f.i32.const(w - kw + 1);
          f.i32.ltU();
          f.i32.and();
          f.if();
          emitCopy(f, dst, 0, src, 0, kw * cb);
          f.localGet(dst);
          f.i32.const(kw * cb);
          f.i32.add();
          f.localSet(dst);
          f.else();
          perPixel();
          f.end();
        } else {
          perPixel();
        }
      });
    });
  });
}
