/**
 * Benchmark inputs: every system gets the same float32 arrays, generated once from a fixed seed,
 * so outputs can be compared element by element and reruns see identical data.
 */

/** mulberry32: a tiny, fast, well-mixed 32-bit PRNG; enough for benchmark data, not for crypto. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n float32 values uniform in [lo, hi). */
export function uniform(next: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  const span = hi - lo;
  for (let i = 0; i < n; i++) out[i] = lo + span * next();
  return out;
}

/** Weights and biases of a dense stack: w[i] is [dims[i], dims[i+1]] row-major, b[i] is [dims[i+1]]. */
export interface MlpParams {
  readonly dims: readonly number[];
  readonly w: readonly Float32Array[];
  readonly b: readonly Float32Array[];
}

/** Uniform weights scaled by 1/sqrt(fan-in), so activations stay O(1) and softmax does not saturate. */
export function mlpParams(next: () => number, dims: readonly number[]): MlpParams {
  const w: Float32Array[] = [];
  const b: Float32Array[] = [];
  for (let i = 0; i + 1 < dims.length; i++) {
    const fanIn = dims[i]!;
    const fanOut = dims[i + 1]!;
    const scale = Math.sqrt(3 / fanIn);
    w.push(uniform(next, fanIn * fanOut, -scale, scale));
    b.push(uniform(next, fanOut, -0.1, 0.1));
  }
  return { dims, w, b };
}
