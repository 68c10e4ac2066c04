/**
 * Helpers shared by the WebAssembly-kernel entries (wasm-mlp.ts, wasm-elementwise.ts). Free of Node
 * APIs: the same code runs in the browser worker and, imported by the tests, in Node.
 */
import { getNumThreads, setNumThreads } from "../../../src/index.js";
import { poolStats, warmUpPool } from "../../../src/exec/wasm/pool.js";

/** Deterministic values in [-1, 1) from a tiny LCG (the same sequence everywhere). */
export function lcgValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function hex(a: Float32Array): string {
  return Array.from(bytesOf(a), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The float32 values encoded by hex(). */
export function fromHex(h: string): Float32Array {
  const bytes = new Uint8Array(h.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return new Float32Array(bytes.buffer);
}

/** SHA-256 of the bytes (Web Crypto: a worker of a secure page, and Node 20, both have it). */
export async function sha256(a: Float32Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytesOf(a).slice());
  return hex(new Float32Array(digest));
}

/** Chunks run by worker threads (not the calling one) since the last snapshot. */
export interface PoolDelta {
  readonly workers: number;
  readonly chunks: number;
  readonly chunksOnWorkers: number;
  readonly spawnError?: string;
}

/**
 * Runs `body` with `threads` threads (workers started and awake first, so a parallel job can find
 * them) and reports how many chunks the workers took; restores the previous thread count, which
 * matters when Node runs the entry in the test's own process.
 */
export async function withThreads<T>(threads: number, body: () => T | Promise<T>): Promise<{ value: T; pool: PoolDelta }> {
  const previous = getNumThreads();
  setNumThreads(threads);
  try {
    await warmUpPool();
    const before = poolStats();
    const value = await body();
    const after = poolStats();
    const pool: PoolDelta = {
      workers: after.workers,
      chunks: after.chunksTotal - before.chunksTotal,
      chunksOnWorkers: after.chunksTotal - after.chunksOnCaller - (before.chunksTotal - before.chunksOnCaller),
      ...(after.spawnError !== undefined ? { spawnError: after.spawnError } : {}),
    };
    return { value, pool };
  } finally {
    setNumThreads(previous);
  }
}
