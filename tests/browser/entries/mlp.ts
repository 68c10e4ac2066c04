/**
 * A small compiled MLP (matmul + add + relu, twice, then softmax) on fixed inputs. The harness
 * test runs this same module in Node and in the browser worker and expects bit-identical output,
 * so everything here must be deterministic and free of environment-dependent code.
 */
import { fn, tensor, matmul, add, relu, softmax, type Tensor } from "../../../src/index.js";

/** Deterministic values in [-1, 1): a tiny LCG, so the inputs need no random-key machinery. */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s / 2 ** 31 - 1);
  }
  return out;
}

function matrix(rows: number, cols: number, seed: number): Tensor {
  const v = values(rows * cols, seed);
  return tensor(Array.from({ length: rows }, (_, r) => v.slice(r * cols, (r + 1) * cols)), { dtype: "float32" });
}

export interface MlpResult {
  shape: number[];
  dtype: string;
  values: number[];
  /** The float32 bytes as hex, so a bitwise comparison does not depend on number formatting. */
  hex: string;
  traceCount: number;
}

export default async function main(): Promise<MlpResult> {
  const x = matrix(8, 16, 1);
  const w1 = matrix(16, 32, 2);
  const b1 = matrix(1, 32, 3).reshape([32]);
  const w2 = matrix(32, 10, 4);
  const b2 = matrix(1, 10, 5).reshape([10]);
  const mlp = fn((xb: Tensor, p: { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }) => {
    const h = relu(add(matmul(xb, p.w1), p.b1));
    return softmax(add(matmul(h, p.w2), p.b2), -1);
  }, { name: "browser_mlp" });
  const params = { w1, b1, w2, b2 };
  mlp(x, params);
  const out = mlp(x, params).numpy();
  const data = out.data as Float32Array;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    shape: [...out.shape],
    dtype: out.dtype,
    values: Array.from(data),
    hex: Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
    traceCount: mlp.traceCount,
  };
}
