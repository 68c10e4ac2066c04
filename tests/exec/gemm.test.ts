import { describe, expect, it } from "vitest";
import { gemm } from "../../src/exec/cpu/kernels/matmul.js";
type Arr = Float32Array | Float64Array | Int32Array | Uint8Array;
function rnd(seed: number) { let s = seed >>> 0; return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; }; }
const r = rnd(42);
let cases = 0;
const dts = ["float32", "float64", "int32", "uint8", "bool"] as const;
const mk = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array, bool: Uint8Array };
function ref(dt: string, a: Arr, aOff: number, lda: number, b: Arr, bOff: number, ldb: number, m: number, n: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) {
      const x = a[aOff + i * lda + p]!, y = b[bOff + p * ldb + j]!;
      if (dt === "int32" || dt === "uint8") s = (s + Math.imul(x, y)) | 0; else if (dt === "bool") s = s || (x && y) ? 1 : 0; else s += x * y;
    }
    out.push(s);
  }
  return out;
}
const failures: string[] = [];
const shapes: [number, number, number][] = [[1, 1, 1], [1, 5, 3], [3, 7, 2], [4, 4, 4], [5, 1, 9], [5, 2, 0], [0, 3, 3], [7, 9, 300], [67, 131, 513], [64, 128, 256], [65, 129, 257], [130, 3, 1], [8, 10, 600], [4, 5, 1000]];
for (const dt of dts) for (const [m, n, k] of shapes) for (const padded of [false, true]) {
  const lda = k + (padded ? 3 : 0), ldb = n + (padded ? 2 : 0), ldc = n + (padded ? 5 : 0);
  const aOff = padded ? 7 : 0, bOff = padded ? 11 : 0, cOff = padded ? 2 : 0;
  const A = mk[dt], a = new A(aOff + m * lda + 8), b = new A(bOff + k * ldb + 8), c = new A(cOff + m * ldc + 8);
  const gen = () => dt === "bool" ? (r() < 0.3 ? 1 : 0) : dt === "uint8" ? Math.floor(r() * 256) : dt === "int32" ? Math.floor((r() - 0.5) * 2 ** 32) : r() - 0.5;
  for (let i = 0; i < a.length; i++) a[i] = gen();
  for (let i = 0; i < b.length; i++) b[i] = gen();
  if (dt.startsWith("float") && m * k > 2) { a[1] = Infinity; b[2] = NaN; a[aOff + lda] = 0; b[bOff] = Infinity; }
  c.fill(dt === "bool" ? 1 : 77);
  const before = Array.from(c);
  gemm(dt, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, m, n, k);
  const want = ref(dt, a, aOff, lda, b, bOff, ldb, m, n, k);
  const exp = Array.from(before);
  const tmp = new A(1);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { tmp[0] = want[i * n + j]!; exp[cOff + i * ldc + j] = tmp[0]!; }
  cases++;
  for (let i = 0; i < c.length; i++) if (!Object.is(c[i], exp[i]) && !(Number.isNaN(c[i]) && Number.isNaN(exp[i]))) { failures.push(`${dt} ${m}x${n}x${k} padded=${padded} at ${i}: ${c[i]} != ${exp[i]}`); break; }
}


describe("gemm", () => {
  it("equals the textbook float64 / wrapping loop bit for bit on every path (edges, k slices, strides, NaN/inf)", () => {
    expect(failures).toEqual([]);
    expect(cases).toBe(140);
  });
});
