/**
 * A subset of the WebGPU device tests, run in headless Chromium (navigator.gpu; SwiftShader where
 * there is no GPU): eager elementwise ops, fused chains, reductions (softmax), a matmul with an
 * epilogue, library ops (transpose, concat), numpyAsync round trips of each storable dtype, the
 * synchronous-read error and transfer counts. Each case runs once on "webgpu" and once on "cpu" in
 * the same browser; tests/browser/webgpu.test.ts compares the two within the tolerances of
 * tests/webgpu/*.test.ts, and the cpu results bit for bit with Node running runCases("cpu") from
 * this same module.
 */
import {
  add,
  concat,
  div,
  exp,
  fn,
  greater,
  initWebGPU,
  matmul,
  maximum,
  mul,
  reduceSum,
  relu,
  reshape,
  resetTransferStats,
  sigmoid,
  softmax,
  sub,
  tanh,
  tensor,
  transferStats,
  transpose,
  type DType,
  type Device,
  type Tensor,
  type TransferStats,
} from "../../../src/index.js";
import { lcgValues } from "./wasm-common.js";

/**
 * How a GPU result must match the cpu's: bit for bit; |g - c| <= atol + rtol * |c|; |g - c| <= tol *
 * max(1, |c|) (fused + - * chains, where a GPU may contract into an fma); or |g - c| <= rel * bound
 * + 1e-30 with a per-element bound from plain loops (sums of |terms|: matmul, reduceSum).
 */
export type Tolerance =
  | { readonly kind: "exact" }
  | { readonly kind: "rel"; readonly rtol: number; readonly atol: number }
  | { readonly kind: "relMax1"; readonly tol: number }
  | { readonly kind: "bound"; readonly rel: number; readonly bound: () => Float64Array };

export interface Case {
  readonly name: string;
  readonly tol: Tolerance;
  readonly run: (device: Device) => Tensor | Promise<Tensor>;
}

const f32 = (n: number, seed: number, scale = 3): Float32Array => lcgValues(n, seed).map((v) => v * scale);
const i32 = (n: number, seed: number, scale: number): Int32Array => Int32Array.from(lcgValues(n, seed), (v) => Math.round(v * scale));
const on = (data: Float32Array | Int32Array, device: Device, shape?: readonly number[]): Tensor => {
  const t = tensor(data, { device });
  return shape ? reshape(t, [...shape]) : t;
};

// Inputs, named so that the bounds below are computed from the very same values.
const A = f32(1000, 1);
const B = f32(1000, 2);
const NONZERO = B.map((v) => (Math.abs(v) < 0.25 ? v + 0.5 : v));
const WIDE = f32(1000, 3, 10);
const IA = i32(1000, 4, 50_000);
const IB = i32(1000, 5, 50_000);
const CHAIN_X = f32(5000, 6);
const CHAIN_Y = f32(5000, 7);
const SM = f32(64 * 100, 8, 6);
const MA = f32(33 * 70, 9);
const MB = f32(70 * 45, 10);
const MBIAS = f32(45, 11);
const EA = f32(16 * 32, 12);
const EB = f32(32 * 8, 13);
const T3 = f32(4 * 5 * 6, 14);
const C1 = f32(3 * 4, 15);
const C2 = f32(3 * 7, 16);

/** sum_k |a_ik * b_kj| (+ |bias_j|): the scale of a float32 matmul's rounding error. */
function matmulBound(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? Math.abs(bias[j]!) : 0;
      for (let p = 0; p < k; p++) s += Math.abs(a[i * k + p]! * b[p * n + j]!);
      out[i * n + j] = s;
    }
  }
  return out;
}

function rowAbsSums(x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r] = out[r]! + Math.abs(x[r * cols + c]!);
  return out;
}

const EXACT: Tolerance = { kind: "exact" };
/** Per-op tolerances of tests/webgpu/codegen-elementwise.test.ts (WGSL's exp, tanh... are not correctly rounded). */
const BASIC: Tolerance = { kind: "rel", rtol: 2e-6, atol: 1e-37 };
const EXP: Tolerance = { kind: "rel", rtol: 1e-5, atol: 1e-30 };
const TANH: Tolerance = { kind: "rel", rtol: 1e-5, atol: 1e-7 };

const sumChain = (x: Tensor, y: Tensor): Tensor => add(mul(sub(x, y), x), mul(y, 0.5));
const benchChain = (x: Tensor): Tensor => add(mul(tanh(add(mul(x, 0.5), 1)), x), sigmoid(x));
const dense = (a: Tensor, b: Tensor, bias: Tensor): Tensor => relu(add(matmul(a, b), bias));
// Compiled functions are created once: each device is its own cache entry (see docs/webgpu.md).
const sumChainFn = fn(sumChain, { name: "browser_gpu_chain" });
const benchChainFn = fn(benchChain, { name: "browser_gpu_bench_chain" });
const softmaxFn = fn((x: Tensor) => softmax(x, -1), { name: "browser_gpu_softmax" });
const denseFn = fn(dense, { name: "browser_gpu_dense" });

export const CASES: readonly Case[] = [
  // Eager elementwise ops: + - * are correctly rounded in WGSL, so they match exactly.
  { name: "add f32[1000]", tol: EXACT, run: (d) => add(on(A, d), on(B, d)) },
  { name: "sub f32[1000]", tol: EXACT, run: (d) => sub(on(A, d), on(B, d)) },
  { name: "mul f32[1000]", tol: EXACT, run: (d) => mul(on(A, d), on(B, d)) },
  { name: "mul by a JS scalar", tol: EXACT, run: (d) => on(A, d).mul(2) },
  { name: "maximum f32[1000]", tol: EXACT, run: (d) => maximum(on(A, d), on(B, d)) },
  { name: "div f32[1000]", tol: BASIC, run: (d) => div(on(A, d), on(NONZERO, d)) },
  { name: "exp f32[1000]", tol: EXP, run: (d) => exp(on(WIDE, d)) },
  { name: "tanh f32[1000]", tol: TANH, run: (d) => tanh(on(WIDE, d)) },
  { name: "sigmoid f32[1000]", tol: TANH, run: (d) => sigmoid(on(WIDE, d)) },
  { name: "add i32[1000]", tol: EXACT, run: (d) => add(on(IA, d), on(IB, d)) },
  { name: "mul i32[1000] (wraps)", tol: EXACT, run: (d) => mul(on(IA, d), on(IB, d)) },
  { name: "greater i32 -> bool", tol: EXACT, run: (d) => greater(on(IA, d), on(IB, d)) },
  // Fused chains (fn on the device of its arguments).
  { name: "fn: (x-y)*x + y*0.5 f32[5000]", tol: { kind: "relMax1", tol: 1e-6 }, run: (d) => sumChainFn(on(CHAIN_X, d), on(CHAIN_Y, d)) },
  // tanh and sigmoid within 1e-5 relative, then one multiply and one add of O(1) terms.
  { name: "fn: tanh(x*0.5+1)*x + sigmoid(x) f32[5000]", tol: { kind: "rel", rtol: 2e-5, atol: 1e-6 }, run: (d) => benchChainFn(on(CHAIN_X, d)) },
  // Reductions. Softmax: exp within 1e-5, the row sum within 2e-5, the division 2.5 ulp (the
  // tolerances of codegen-reduce.test.ts), so each probability within 4e-5 relative.
  { name: "softmax eager [64,100]", tol: { kind: "rel", rtol: 4e-5, atol: 1e-30 }, run: (d) => softmax(on(SM, d, [64, 100]), -1) },
  { name: "fn: softmax [64,100]", tol: { kind: "rel", rtol: 4e-5, atol: 1e-30 }, run: (d) => softmaxFn(on(SM, d, [64, 100])) },
  { name: "reduceSum axis -1 [64,100]", tol: { kind: "bound", rel: 1e-5, bound: () => rowAbsSums(SM, 64, 100) }, run: (d) => reduceSum(on(SM, d, [64, 100]), -1) },
  // Matmul, eagerly and with a bias + relu epilogue in a compiled function.
  { name: "matmul eager [16,32]x[32,8]", tol: { kind: "bound", rel: 1e-5, bound: () => matmulBound(EA, EB, 16, 32, 8) }, run: (d) => matmul(on(EA, d, [16, 32]), on(EB, d, [32, 8])) },
  {
    name: "fn: relu(matmul [33,70]x[70,45] + bias)",
    tol: { kind: "bound", rel: 1e-5, bound: () => matmulBound(MA, MB, 33, 70, 45, MBIAS) },
    run: (d) => denseFn(on(MA, d, [33, 70]), on(MB, d, [70, 45]), on(MBIAS, d)),
  },
  // Library ops: data movement only, so exact.
  { name: "transpose [4,5,6] perm [2,0,1]", tol: EXACT, run: (d) => transpose(on(T3, d, [4, 5, 6]), [2, 0, 1]) },
  { name: "transpose i32 [25,40]", tol: EXACT, run: (d) => transpose(on(IA, d, [25, 40])) },
  { name: "concat [3,4] and [3,7] axis 1", tol: EXACT, run: (d) => concat([on(C1, d, [3, 4]), on(C2, d, [3, 7])], 1) },
];

/** numpyAsync round trips: upload, read back, same bits (NaN, -0, a denormal and integer extremes included). */
export const ROUND_TRIPS: readonly { readonly dtype: DType; readonly values: readonly (number | boolean)[] }[] = [
  { dtype: "float32", values: [1.5, -2, 0, -0, 3.25e-8, 1e-40, Infinity, -Infinity, NaN, 3.4028234663852886e38] },
  { dtype: "int32", values: [1, -2147483648, 2147483647, 0, -7] },
  { dtype: "bool", values: [true, false, true, true, false] },
  { dtype: "uint8", values: [0, 255, 7, 128, 1] },
];

export interface CaseResult {
  readonly name: string;
  readonly device: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The result's bytes (of its host typed array) as hex. */
  readonly hex: string;
}

function bytesHex(data: ArrayBufferView): string {
  const u8 = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return Array.from(u8, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function read(name: string, t: Tensor): Promise<CaseResult> {
  const nd = await t.numpyAsync();
  return { name, device: t.device, dtype: nd.dtype, shape: [...nd.shape], hex: bytesHex(nd.data) };
}

/** Every case, then every round trip, on `device` (numpyAsync reads both devices). */
export async function runCases(device: Device): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of CASES) out.push(await read(c.name, await c.run(device)));
  for (const r of ROUND_TRIPS) out.push(await read(`round trip ${r.dtype}`, tensor([...r.values], { dtype: r.dtype, device })));
  return out;
}

interface ErrorReport {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
}

function caught(f: () => unknown): ErrorReport | null {
  try {
    f();
    return null;
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    return { name: err.name ?? String(e), ...(err.code !== undefined ? { code: err.code } : {}), message: err.message ?? String(e) };
  }
}

export interface WebGpuSubsetResult {
  /** null: no adapter here (reason says why); nothing else was run. */
  readonly adapter: string | null;
  readonly reason?: string;
  readonly source?: string;
  readonly gpu?: readonly CaseResult[];
  readonly cpu?: readonly CaseResult[];
  /** numpy(), item() and tolist() of a GPU tensor. */
  readonly syncErrors?: readonly (ErrorReport | null)[];
  readonly float64Error?: ErrorReport | null;
  /** After resetTransferStats(): cpu tensor [3] -> to("webgpu") -> to("cpu") -> numpy(). */
  readonly transfers?: TransferStats;
  /** Compiled kernels of the webgpu chain and dense functions. */
  readonly gpuKernelCounts?: readonly number[];
}

export default async function main(): Promise<WebGpuSubsetResult> {
  let info;
  try {
    info = await initWebGPU();
  } catch (e) {
    return { adapter: null, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  const gpu = await runCases("webgpu");
  const cpu = await runCases("cpu");

  const g = tensor([1, 2, 3], { device: "webgpu" });
  const syncErrors = [caught(() => g.numpy()), caught(() => g.item()), caught(() => g.tolist())];
  const float64Error = caught(() => tensor([1, 2], { dtype: "float64", device: "webgpu" }));

  resetTransferStats();
  const c = tensor([1, 2, 3]);
  const moved = await c.to("webgpu");
  const back = await moved.to("cpu");
  // Read before taking the stats, as tests/webgpu/device.test.ts does: one cpu deviceToHost copy.
  const backValues = JSON.stringify(back.numpy().tolist());
  const transfers = transferStats();
  if (backValues !== "[1,2,3]") throw new Error(`to("cpu") gave ${backValues}`);

  const gx = on(CHAIN_X, "webgpu");
  const gpuKernelCounts = [
    sumChainFn.kernels(gx, on(CHAIN_Y, "webgpu")).length,
    denseFn.kernels(on(MA, "webgpu", [33, 70]), on(MB, "webgpu", [70, 45]), on(MBIAS, "webgpu")).length,
  ];
  const a = info.adapter;
  const adapter = [a.vendor, a.architecture, a.device, a.description].filter((x) => x).join(" / ") || "(no adapter info)";
  return { adapter, source: info.source, gpu, cpu, syncErrors, float64Error, transfers, gpuKernelCounts };
}
