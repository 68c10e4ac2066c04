/**
 * The compiled MLP 784-512-512-10 (batch 64) and a softmax over [64, 1024] on the WebAssembly
 * kernels, each run with 1 and with 2 threads. tests/browser/wasm.test.ts runs this module in
 * headless Chromium and in Node and expects the same bits everywhere: the kernels are the same
 * bytes and the pool's chunking depends only on the work size, never on the thread count.
 */
import { add, backendInfo, fn, matmul, relu, reshape, softmax, tensor, type BackendInfo, type Tensor } from "../../../src/index.js";
import { hex, lcgValues, sha256, withThreads, type PoolDelta } from "./wasm-common.js";

export const MLP_DIMS = [784, 512, 512, 10] as const;
export const MLP_BATCH = 64;
export const SOFTMAX_SHAPE = [64, 1024] as const;

export interface MlpInputs {
  readonly x: Float32Array;
  readonly w: readonly Float32Array[];
  readonly b: readonly Float32Array[];
}

/** Inputs scaled so that activations stay O(1) (weights ~ 1/sqrt(fan-in)). */
export function mlpInputs(): MlpInputs {
  const x = lcgValues(MLP_BATCH * MLP_DIMS[0], 1);
  const w: Float32Array[] = [];
  const b: Float32Array[] = [];
  for (let l = 0; l + 1 < MLP_DIMS.length; l++) {
    const scale = 2 / Math.sqrt(MLP_DIMS[l]!);
    w.push(lcgValues(MLP_DIMS[l]! * MLP_DIMS[l + 1]!, 10 + l).map((v) => v * scale));
    b.push(lcgValues(MLP_DIMS[l + 1]!, 20 + l).map((v) => v * 0.1));
  }
  return { x, w, b };
}

/** Logits spread over about [-8, 8), so exp() sees a real range. */
export function softmaxInput(): Float32Array {
  return lcgValues(SOFTMAX_SHAPE[0] * SOFTMAX_SHAPE[1], 7).map((v) => v * 8);
}

interface Params {
  w: Tensor[];
  b: Tensor[];
}

const mlpFn = (x: Tensor, p: Params): Tensor => {
  let h = x;
  for (let l = 0; l < p.w.length; l++) {
    h = add(matmul(h, p.w[l]!), p.b[l]!);
    if (l + 1 < p.w.length) h = relu(h);
  }
  return softmax(h, -1);
};

export interface KernelRow {
  readonly node: string;
  readonly op: string;
  /** "wasm", "js", or "library" (a library kernel, not generated). */
  readonly backend: string;
  /** Whether the kernel computes a matmul (its source or WebAssembly plan key names the op). */
  readonly matmul: boolean;
}

export interface Run {
  readonly threads: number;
  readonly out: Float32Array;
  readonly pool: PoolDelta;
}

export interface Computed {
  readonly info: BackendInfo;
  readonly mlpKernels: readonly KernelRow[];
  readonly softmaxKernels: readonly KernelRow[];
  readonly mlp: readonly Run[];
  readonly softmax: readonly Run[];
}

const rows = (ks: readonly { node: string; op: string; backend?: string; source?: string }[]): KernelRow[] =>
  ks.map((k) => ({ node: k.node, op: k.op, backend: k.backend ?? "library", matmul: k.op === "matmul" || (k.source ?? "").includes('"matmul') }));

/** Runs everything with each thread count in `threads` (every call repeated `repeats` times, last result kept). */
export async function compute(threads: readonly number[] = [1, 2], repeats = 3): Promise<Computed> {
  // Before any setNumThreads: the default thread count is part of what is checked.
  const info = backendInfo();
  const inp = mlpInputs();
  const x = reshape(tensor(inp.x), [MLP_BATCH, MLP_DIMS[0]]);
  const params: Params = {
    w: inp.w.map((w, l) => reshape(tensor(w), [MLP_DIMS[l]!, MLP_DIMS[l + 1]!])),
    b: inp.b.map((b) => tensor(b)),
  };
  const mlp = fn(mlpFn, { name: "browser_wasm_mlp" });
  const sx = reshape(tensor(softmaxInput()), [...SOFTMAX_SHAPE]);
  const sm = fn((t: Tensor) => softmax(t, -1), { name: "browser_wasm_softmax" });
  const runs = async (f: () => Tensor): Promise<Run[]> => {
    const out: Run[] = [];
    for (const n of threads) {
      const { value, pool } = await withThreads(n, () => {
        let last: Float32Array | undefined;
        for (let r = 0; r < repeats; r++) last = f().numpy().data as Float32Array;
        return last!;
      });
      out.push({ threads: n, out: value, pool });
    }
    return out;
  };
  return {
    info,
    mlpKernels: rows(mlp.kernels(x, params)),
    softmaxKernels: rows(sm.kernels(sx)),
    mlp: await runs(() => mlp(x, params)),
    softmax: await runs(() => sm(sx)),
  };
}

export interface JsonRun {
  readonly threads: number;
  readonly pool: PoolDelta;
  /** The float32 result's bytes as hex (MLP), or their SHA-256 (softmax, 256 KB). */
  readonly hex?: string;
  readonly sha256: string;
}

export interface WasmMlpResult {
  readonly info: BackendInfo;
  readonly crossOriginIsolated: boolean | undefined;
  readonly mlpKernels: readonly KernelRow[];
  readonly softmaxKernels: readonly KernelRow[];
  readonly mlp: readonly JsonRun[];
  readonly softmax: readonly JsonRun[];
}

/** The JSON the browser sends back (also built in Node from its own compute(), for comparison). */
export async function toJson(c: Computed): Promise<WasmMlpResult> {
  const json = async (r: Run, withHex: boolean): Promise<JsonRun> => ({
    threads: r.threads,
    pool: r.pool,
    ...(withHex ? { hex: hex(r.out) } : {}),
    sha256: await sha256(r.out),
  });
  return {
    info: c.info,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated,
    mlpKernels: c.mlpKernels,
    softmaxKernels: c.softmaxKernels,
    mlp: await Promise.all(c.mlp.map((r) => json(r, true))),
    softmax: await Promise.all(c.softmax.map((r) => json(r, false))),
  };
}

export default async function main(input?: { threads?: number[]; repeats?: number }): Promise<WasmMlpResult> {
  return toJson(await compute(input?.threads, input?.repeats));
}
