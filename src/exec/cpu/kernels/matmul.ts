/**
 * The one matrix-multiply kernel of the CPU backend. Batched matmul, dot and conv2d (im2col) all
 * call `gemm`, so a faster implementation (WebAssembly SIMD) can replace it here in one place.
 *
 * Float inputs accumulate in float64 and are rounded once when stored, so float32 results are
 * as accurate as NumPy's (usually more). Integer inputs accumulate in int32 with wrapping
 * (Math.imul), which is exact modulo 2^32 and therefore also modulo 2^8 for uint8. bool is the
 * or-of-ands that NumPy computes: a nonzero count of true products.
 */
import { type DType, isFloat, type TypedArray } from "../../../ir/dtype.js";

/** Column block: accumulators for one block of rows x NB columns stay in L1/L2. */
const NB = 256;
/** Depth block: a KB x NB panel of B is reused by every row of a row block. */
const KB = 128;
/** Row block. */
const MB = 32;

/** Accumulators for one row block x column block, shared by every call (kernels run one at a time). */
const floatScratch = new Float64Array(MB * NB);
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
    else gemmFloat(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, m, n, k);
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

function gemmFloat(a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number, c: TypedArray, cOff: number, ldc: number, m: number, n: number, k: number): void {
  const acc = floatScratch;
  for (let j0 = 0; j0 < n; j0 += NB) {
    const nb = Math.min(NB, n - j0);
    for (let i0 = 0; i0 < m; i0 += MB) {
      const mb = Math.min(MB, m - i0);
      acc.fill(0, 0, mb * nb);
      for (let p0 = 0; p0 < k; p0 += KB) {
        const p1 = Math.min(k, p0 + KB);
        // i-k-j order: scalars of A times a contiguous row of B, added to contiguous accumulator
        // rows. Four rows at a time load each element of B once for four products. Zeros of A
        // are not skipped: 0 * inf must give NaN as in NumPy.
        let i = 0;
        for (; i + 4 <= mb; i += 4) {
          const a0 = aOff + (i0 + i) * lda;
          const a1 = a0 + lda;
          const a2 = a1 + lda;
          const a3 = a2 + lda;
          const c0 = i * nb;
          const c1 = c0 + nb;
          const c2 = c1 + nb;
          const c3 = c2 + nb;
          for (let p = p0; p < p1; p++) {
            const v0 = a[a0 + p]!;
            const v1 = a[a1 + p]!;
            const v2 = a[a2 + p]!;
            const v3 = a[a3 + p]!;
            const bp = bOff + p * ldb + j0;
            for (let j = 0; j < nb; j++) {
              const bv = b[bp + j]!;
              acc[c0 + j] = acc[c0 + j]! + v0 * bv;
              acc[c1 + j] = acc[c1 + j]! + v1 * bv;
              acc[c2 + j] = acc[c2 + j]! + v2 * bv;
              acc[c3 + j] = acc[c3 + j]! + v3 * bv;
            }
          }
        }
        for (; i < mb; i++) {
          const ai = aOff + (i0 + i) * lda;
          const ci = i * nb;
          for (let p = p0; p < p1; p++) {
            const av = a[ai + p]!;
            const bp = bOff + p * ldb + j0;
            for (let j = 0; j < nb; j++) acc[ci + j] = acc[ci + j]! + av * b[bp + j]!;
          }
        }
      }
      for (let i = 0; i < mb; i++) {
        const co = cOff + (i0 + i) * ldc + j0;
        const ci = i * nb;
        for (let j = 0; j < nb; j++) c[co + j] = acc[ci + j]!;
      }
    }
  }
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

