/**
 * Hand-written plain-JS versions of the workloads: the bound for scalar JavaScript on typed arrays
 * (one fused loop per workload, float64 arithmetic, float32 storage). No library code.
 */
import type { MlpParams } from "./data.js";

/** tanh(x*0.5+1)*x + sigmoid(x) in one loop. */
export function elementwise(x: Float32Array): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    out[i] = Math.tanh(v * 0.5 + 1) * v + 1 / (1 + Math.exp(-v));
  }
  return out;
}

/** Textbook i-j-k triple loop: B is read down a column, which is what makes it slow. */
export function matmulNaive(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Column block: RB rows x NB accumulators stay in L1. */
const NB = 128;
/** Depth block: a KB x NB panel of B (64 KB) stays in L2 while every row block streams past it. */
const KB = 128;
/** Rows per register block: each B element loaded is used for 4 rows. */
const RB = 4;

/**
 * A reasonably blocked plain-JS matmul: k and j are tiled so a panel of B is reused from cache,
 * and four rows of A share every load of B. Accumulates in float64.
 */
export function matmulBlocked(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  const acc = new Float64Array(RB * NB);
  for (let j0 = 0; j0 < n; j0 += NB) {
    const nb = Math.min(NB, n - j0);
    for (let i0 = 0; i0 < m; i0 += RB) {
      const rb = Math.min(RB, m - i0);
      acc.fill(0);
      for (let p0 = 0; p0 < k; p0 += KB) {
        const pEnd = Math.min(k, p0 + KB);
        if (rb === RB) blockRows4(a, b, acc, i0, j0, nb, k, n, p0, pEnd);
        else blockRows1(a, b, acc, i0, rb, j0, nb, k, n, p0, pEnd);
      }
      for (let r = 0; r < rb; r++) {
        const cRow = (i0 + r) * n + j0;
        for (let j = 0; j < nb; j++) c[cRow + j] = acc[r * NB + j]!;
      }
    }
  }
  return c;
}

function blockRows4(a: Float32Array, b: Float32Array, acc: Float64Array, i0: number, j0: number, nb: number, k: number, n: number, p0: number, pEnd: number): void {
  const r0 = i0 * k;
  for (let p = p0; p < pEnd; p++) {
    const a0 = a[r0 + p]!;
    const a1 = a[r0 + k + p]!;
    const a2 = a[r0 + 2 * k + p]!;
    const a3 = a[r0 + 3 * k + p]!;
    const bRow = p * n + j0;
    for (let j = 0; j < nb; j++) {
      const bv = b[bRow + j]!;
      acc[j] = acc[j]! + a0 * bv;
      acc[NB + j] = acc[NB + j]! + a1 * bv;
      acc[2 * NB + j] = acc[2 * NB + j]! + a2 * bv;
      acc[3 * NB + j] = acc[3 * NB + j]! + a3 * bv;
    }
  }
}

function blockRows1(a: Float32Array, b: Float32Array, acc: Float64Array, i0: number, rb: number, j0: number, nb: number, k: number, n: number, p0: number, pEnd: number): void {
  for (let r = 0; r < rb; r++) {
    const aRow = (i0 + r) * k;
    const accRow = r * NB;
    for (let p = p0; p < pEnd; p++) {
      const av = a[aRow + p]!;
      const bRow = p * n + j0;
      for (let j = 0; j < nb; j++) acc[accRow + j] = acc[accRow + j]! + av * b[bRow + j]!;
    }
  }
}

/** Softmax over the last axis of a [rows, cols] matrix: max, exp and sum, scale. */
export function softmax(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  softmaxInto(x, out, rows, cols);
  return out;
}

function softmaxInto(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, x[o + j]!);
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[o + j]! - max);
      out[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) out[o + j] = out[o + j]! * inv;
  }
}

/** One dense layer y = x·W + b (optionally relu), i-k-j order so W is read row by row. */
function dense(x: Float32Array, w: Float32Array, bias: Float32Array, rows: number, fanIn: number, fanOut: number, relu: boolean): Float32Array {
  const y = new Float32Array(rows * fanOut);
  const acc = new Float64Array(fanOut);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < fanOut; j++) acc[j] = bias[j]!;
    const xRow = r * fanIn;
    for (let p = 0; p < fanIn; p++) {
      const xv = x[xRow + p]!;
      const wRow = p * fanOut;
      for (let j = 0; j < fanOut; j++) acc[j] = acc[j]! + xv * w[wRow + j]!;
    }
    const yRow = r * fanOut;
    if (relu) for (let j = 0; j < fanOut; j++) y[yRow + j] = acc[j]! > 0 ? acc[j]! : 0;
    else for (let j = 0; j < fanOut; j++) y[yRow + j] = acc[j]!;
  }
  return y;
}

/** The MLP: dense+relu for every hidden layer, dense, softmax over the classes. */
export function mlp(x: Float32Array, batch: number, p: MlpParams): Float32Array {
  let h = x;
  const layers = p.w.length;
  for (let l = 0; l < layers; l++) {
    h = dense(h, p.w[l]!, p.b[l]!, batch, p.dims[l]!, p.dims[l + 1]!, l + 1 < layers);
  }
  const classes = p.dims[layers]!;
  softmaxInto(h, h, batch, classes);
  return h;
}

/** The tiny add, into a fresh typed array as the other systems return. */
export function add(a: Float32Array, b: Float32Array): Float32Array {
  const n = a.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
  return out;
}
