/**
 * The one matrix-multiply kernel of the CPU backend. Batched matmul, dot and conv2d (im2col) all
 * call `gemm`, so a faster implementation (WebAssembly SIMD) can replace it here in one place.
 *
 * Float inputs accumulate in float64 and are rounded once when stored, so float32 results are
 * as accurate as NumPy's (usually more). Every float path sums each output's products in the
 * textbook order, p = 0, 1, ..., k-1, starting from +0 in one float64 accumulator, so the result
 * does not depend on which path or blocking computed it (it is bit-identical to the naive triple
 * loop with a float64 sum). Integer inputs accumulate in int32 with wrapping (Math.imul), which
 * is exact modulo 2^32 and therefore also modulo 2^8 for uint8. bool is the or-of-ands that NumPy
 * computes: a nonzero count of true products.
 *
 * Float design (GotoBLAS-style, scalar JS):
 * - The output is cut into MC x NC blocks and k into KC-deep slices. For each slice a KC x NC block
 *   of B and an MC x KC block of A are packed into Float64Array scratch: B as NR-column panels and
 *   A as MR-row panels, each stored k-major, so the micro-kernel reads both strictly sequentially
 *   and never converts float32 to float64 in its inner loop.
 * - The micro-kernel holds a 4 x 4 tile of C in 16 local float64 variables and, per step of k,
 *   loads 4 values of A and 4 of B for 16 multiply-adds. Wider tiles spill registers in V8 and
 *   measured slower; unrolling k measured slower too.
 * - Edges are padded: packing fills rows of A beyond m and columns of B beyond n with zeros, the
 *   kernel always computes full tiles into a float64 accumulator block (MC x NC, row stride NC),
 *   and only the real m x n part is copied to C after the last k slice. Padded accumulators may
 *   hold NaN (0 * inf) but are never stored.
 * - Between k slices the tile is stored to and reloaded from that float64 block, which keeps the
 *   textbook summation order exactly.
 * Block sizes: a packed B micro-panel (KC x NR, 8 KB) stays in L1 while the kernel walks every
 * A panel of the block (MC x KC, 128 KB, L2); the B block (KC x NC, 256 KB) stays in L2.
 */
import { type DType, isFloat, type TypedArray } from "../../../ir/dtype.js";

/** Register tile: MR rows x NR columns of C in local variables. The kernel is written for 4 x 4. */
const MR = 4;
const NR = 4;
/** Row block: rows of A packed per k slice (a multiple of MR). */
const MC = 64;
/** Column block: columns of B packed per k slice (a multiple of NR). */
const NC = 128;
/** Depth of one k slice. */
const KC = 256;

/** Scratch shared by every call (kernels run one at a time), allocated on the first float gemm. */
interface FloatScratch {
  /** Packed A block: MC/MR panels, each KC x MR (k-major). */
  readonly a: Float64Array;
  /** Packed B block: NC/NR panels, each KC x NR (k-major). */
  readonly b: Float64Array;
  /** Float64 partial sums of one MC x NC block of C, row stride NC. */
  readonly acc: Float64Array;
}
let floatScratch: FloatScratch | undefined;
function getFloatScratch(): FloatScratch {
  floatScratch ??= { a: new Float64Array(MC * KC), b: new Float64Array(KC * NC), acc: new Float64Array(MC * NC) };
  return floatScratch;
}

/** Column block of the integer path and the few-rows float path. */
const NB = 256;
/** Depth block of the integer path. */
const KB = 128;
/** Row block of the integer path. */
const MB = 32;
const intScratch = new Int32Array(MB * NB);

/**
 * C = A · B on row-major matrices inside typed arrays: A is m x k at aOff with row stride lda,
 * B is k x n at bOff with row stride ldb, C is m x n at cOff with row stride ldc. C is
 * overwritten. `dtype` is the dtype of all three (they are promoted to one dtype before).
 */
export function gemm(
  dtype: DType,
  a: TypedArray, aOff: number, lda: number,
  b: TypedArray, bOff: number, ldb: number,
  c: TypedArray, cOff: number, ldc: number,
  m: number, n: number, k: number,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    for (let i = 0; i < m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  if (isFloat(dtype)) {
    if (n === 1) gemvFloat(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, m, k);
    // Fewer rows than one register tile: padding A to MR rows would multiply the work.
    else if (m < MR) gemmRowsFloat(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, m, n, k);
    else gemmPackedFloat(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, m, n, k);
  } else {
    gemmInt(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, m, n, k, dtype === "bool");
  }
}

/** Matrix-vector product: n === 1, so each output is one dot product (no accumulator rows). */
function gemvFloat(a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number, c: TypedArray, cOff: number, ldc: number, m: number, k: number): void {
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * lda;
    let s = 0;
    for (let p = 0; p < k; p++) s += a[ai + p]! * b[bOff + p * ldb]!;
    c[cOff + i * ldc] = s;
  }
}

/**
 * A few rows (m < MR): one row at a time, a scalar of A times a contiguous row of B added to a
 * float64 accumulator row, p ascending (the textbook order per output).
 */
function gemmRowsFloat(a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number, c: TypedArray, cOff: number, ldc: number, m: number, n: number, k: number): void {
  const acc = getFloatScratch().acc;
  for (let j0 = 0; j0 < n; j0 += NB) {
    const nb = Math.min(NB, n - j0);
    for (let i = 0; i < m; i++) {
      const ai = aOff + i * lda;
      acc.fill(0, 0, nb);
      // Zeros of A are not skipped: 0 * inf must give NaN as in NumPy.
      for (let p = 0; p < k; p++) {
        const av = a[ai + p]!;
        const bp = bOff + p * ldb + j0;
        for (let j = 0; j < nb; j++) acc[j] = acc[j]! + av * b[bp + j]!;
      }
      const co = cOff + i * ldc + j0;
      for (let j = 0; j < nb; j++) c[co + j] = acc[j]!;
    }
  }
}

function gemmPackedFloat(a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number, c: TypedArray, cOff: number, ldc: number, m: number, n: number, k: number): void {
  const s = getFloatScratch();
  const ap = s.a;
  const bp = s.b;
  const acc = s.acc;
  for (let i0 = 0; i0 < m; i0 += MC) {
    const mc = Math.min(MC, m - i0);
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = Math.min(NC, n - j0);
      for (let p0 = 0; p0 < k; p0 += KC) {
        const kc = Math.min(KC, k - p0);
        packA(a, aOff + i0 * lda + p0, lda, mc, kc, ap);
        packB(b, bOff + p0 * ldb + j0, ldb, kc, nc, bp);
        const resume = p0 > 0;
        // Column panels outside: one B micro-panel stays in L1 while every A panel passes it.
        for (let q = 0; q < nc; q += NR) {
          for (let r = 0; r < mc; r += MR) kernel4x4(ap, r * kc, bp, q * kc, kc, acc, r * NC + q, resume);
        }
      }
      // One rounding per output: float64 partial sum to C's dtype.
      for (let i = 0; i < mc; i++) {
        const co = cOff + (i0 + i) * ldc + j0;
        const ai = i * NC;
        for (let j = 0; j < nc; j++) c[co + j] = acc[ai + j]!;
      }
    }
  }
}

/**
 * Packs A[0:mc, 0:kc] (at aOff, row stride lda) as MR-row panels: panel r/MR starts at r * kc and
 * holds, for each p, the MR values of column p. Rows beyond mc are zeros.
 */
function packA(a: TypedArray, aOff: number, lda: number, mc: number, kc: number, ap: Float64Array): void {
  for (let r = 0; r < mc; r += MR) {
    const h = Math.min(MR, mc - r);
    const base = r * kc;
    for (let ii = 0; ii < MR; ii++) {
      const dst = base + ii;
      if (ii < h) {
        const src = aOff + (r + ii) * lda;
        for (let p = 0; p < kc; p++) ap[dst + p * MR] = a[src + p]!;
      } else {
        for (let p = 0; p < kc; p++) ap[dst + p * MR] = 0;
      }
    }
  }
}

/**
 * Packs B[0:kc, 0:nc] (at bOff, row stride ldb) as NR-column panels: panel q/NR starts at q * kc
 * and holds, for each p, the NR values of row p. Columns beyond nc are zeros.
 */
function packB(b: TypedArray, bOff: number, ldb: number, kc: number, nc: number, bp: Float64Array): void {
  for (let q = 0; q < nc; q += NR) {
    const w = Math.min(NR, nc - q);
    const base = q * kc;
    if (w === NR) {
      for (let p = 0; p < kc; p++) {
        const src = bOff + p * ldb + q;
        const dst = base + p * NR;
        bp[dst] = b[src]!;
        bp[dst + 1] = b[src + 1]!;
        bp[dst + 2] = b[src + 2]!;
        bp[dst + 3] = b[src + 3]!;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const src = bOff + p * ldb + q;
        const dst = base + p * NR;
        for (let jj = 0; jj < w; jj++) bp[dst + jj] = b[src + jj]!;
        for (let jj = w; jj < NR; jj++) bp[dst + jj] = 0;
      }
    }
  }
}

/**
 * The 4 x 4 micro-kernel: acc tile (row stride NC, at co) = acc tile (if resume, else 0) +
 * A panel (kc x 4 at ao) · B panel (kc x 4 at bo), p ascending. Only Float64Arrays are touched,
 * so the hot loop stays monomorphic whatever the dtype of C.
 */
function kernel4x4(ap: Float64Array, ao: number, bp: Float64Array, bo: number, kc: number, acc: Float64Array, co: number, resume: boolean): void {
  const r1 = co + NC;
  const r2 = r1 + NC;
  const r3 = r2 + NC;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  if (resume) {
    c00 = acc[co]!; c01 = acc[co + 1]!; c02 = acc[co + 2]!; c03 = acc[co + 3]!;
    c10 = acc[r1]!; c11 = acc[r1 + 1]!; c12 = acc[r1 + 2]!; c13 = acc[r1 + 3]!;
    c20 = acc[r2]!; c21 = acc[r2 + 1]!; c22 = acc[r2 + 2]!; c23 = acc[r2 + 3]!;
    c30 = acc[r3]!; c31 = acc[r3 + 1]!; c32 = acc[r3 + 2]!; c33 = acc[r3 + 3]!;
  }
  const end = ao + MR * kc;
  for (let pa = ao, pb = bo; pa < end; pa += MR, pb += NR) {
    const a0 = ap[pa]!, a1 = ap[pa + 1]!, a2 = ap[pa + 2]!, a3 = ap[pa + 3]!;
    const b0 = bp[pb]!, b1 = bp[pb + 1]!, b2 = bp[pb + 2]!, b3 = bp[pb + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  acc[co] = c00; acc[co + 1] = c01; acc[co + 2] = c02; acc[co + 3] = c03;
  acc[r1] = c10; acc[r1 + 1] = c11; acc[r1 + 2] = c12; acc[r1 + 3] = c13;
  acc[r2] = c20; acc[r2 + 1] = c21; acc[r2 + 2] = c22; acc[r2 + 3] = c23;
  acc[r3] = c30; acc[r3 + 1] = c31; acc[r3 + 2] = c32; acc[r3 + 3] = c33;
}

function gemmInt(a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number, c: TypedArray, cOff: number, ldc: number, m: number, n: number, k: number, toBool: boolean): void {
  const acc = intScratch;
  for (let j0 = 0; j0 < n; j0 += NB) {
    const nb = Math.min(NB, n - j0);
    for (let i0 = 0; i0 < m; i0 += MB) {
      const mb = Math.min(MB, m - i0);
      acc.fill(0, 0, mb * nb);
      for (let p0 = 0; p0 < k; p0 += KB) {
        const p1 = Math.min(k, p0 + KB);
        for (let i = 0; i < mb; i++) {
          const ai = aOff + (i0 + i) * lda;
          const ci = i * nb;
          for (let p = p0; p < p1; p++) {
            const av = a[ai + p]!;
            if (av === 0) continue; // exact for integers: the product adds nothing
            const bp = bOff + p * ldb + j0;
            for (let j = 0; j < nb; j++) acc[ci + j] = (acc[ci + j]! + Math.imul(av, b[bp + j]!)) | 0;
          }
        }
      }
      for (let i = 0; i < mb; i++) {
        const co = cOff + (i0 + i) * ldc + j0;
        const ci = i * nb;
        // Storing into a Uint8Array wraps modulo 256, which is exactly uint8 matmul's wrapping.
        if (toBool) for (let j = 0; j < nb; j++) c[co + j] = acc[ci + j] !== 0 ? 1 : 0;
        else for (let j = 0; j < nb; j++) c[co + j] = acc[ci + j]!;
      }
    }
  }
}
