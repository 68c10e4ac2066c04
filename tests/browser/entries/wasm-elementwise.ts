/**
 * The benchmark's elementwise chain tanh(x*0.5+1)*x + sigmoid(x) over 1M float32 elements, compiled
 * by fn() into one WebAssembly kernel (tanh and sigmoid from vmath), with 1 and with 2 threads.
 * tests/browser/wasm.test.ts compares the bits of the browser's result with Node's.
 */
import { add, fn, mul, sigmoid, tanh, tensor, type Tensor } from "../../../src/index.js";
import { lcgValues, sha256, withThreads, type PoolDelta } from "./wasm-common.js";
import type { KernelRow } from "./wasm-mlp.js";

export const N = 1 << 20;
/** Every STRIDE-th element's bits come back as well, so a mismatch can be located and checked. */
export const STRIDE = 4099;

/** Inputs over about [-12, 12): tanh and sigmoid saturate at both ends and curve in the middle. */
export function chainInput(): Float32Array {
  return lcgValues(N, 3).map((v) => v * 12);
}

export const chain = (x: Tensor): Tensor => add(mul(tanh(add(mul(x, 0.5), 1)), x), sigmoid(x));

export interface ChainRun {
  readonly threads: number;
  readonly out: Float32Array;
  readonly pool: PoolDelta;
}

export async function compute(threads: readonly number[] = [1, 2]): Promise<{ kernels: KernelRow[]; runs: ChainRun[] }> {
  const x = tensor(chainInput());
  const f = fn(chain, { name: "browser_wasm_chain" });
  const kernels = f.kernels(x).map((k) => ({ node: k.node, op: k.op, backend: k.backend ?? "library", matmul: false }));
  const runs: ChainRun[] = [];
  for (const n of threads) {
    const { value, pool } = await withThreads(n, () => {
      f(x); // a first call, so the measured one finds everything compiled and the workers warm
      return f(x).numpy().data as Float32Array;
    });
    runs.push({ threads: n, out: value, pool });
  }
  return { kernels, runs };
}

export interface WasmChainResult {
  readonly kernels: readonly KernelRow[];
  readonly runs: readonly {
    readonly threads: number;
    readonly pool: PoolDelta;
    readonly sha256: string;
    /** Bits (uint32) of elements 0, STRIDE, 2*STRIDE, ... */
    readonly sampleBits: readonly number[];
  }[];
}

export function sampleBits(out: Float32Array): number[] {
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const bits: number[] = [];
  for (let i = 0; i < u.length; i += STRIDE) bits.push(u[i]!);
  return bits;
}

/** The JSON the browser sends back (also built in Node from its own compute(), for comparison). */
export async function toJson(c: { kernels: KernelRow[]; runs: ChainRun[] }): Promise<WasmChainResult> {
  return {
    kernels: c.kernels,
    runs: await Promise.all(c.runs.map(async (r) => ({ threads: r.threads, pool: r.pool, sha256: await sha256(r.out), sampleBits: sampleBits(r.out) }))),
  };
}

export default async function main(input?: { threads?: number[] }): Promise<WasmChainResult> {
  return toJson(await compute(input?.threads));
}
