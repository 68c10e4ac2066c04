/**
 * The WebAssembly kernels in headless Chromium (issue 5): in the cross-origin-isolated worker the
 * CPU backend runs "wasm-simd" kernels on shared memory with >= 2 threads; a compiled MLP
 * 784-512-512-10 (batch 64), a softmax [64, 1024] and the 1M-element elementwise chain give the
 * same bits with 1 and 2 threads, and the same bits as Node running the same entry modules
 * in-process (same kernel bytes, same chunking). Node's results are also checked against plain
 * float64 loops, so "the same bits" are the right bits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserTestsSkipped, entryPath, openBrowser, type BrowserSession } from "../helpers/browser.js";
import { fromHex } from "./entries/wasm-common.js";
import { chainInput, compute as computeChain, sampleBits, toJson as chainJson, type WasmChainResult } from "./entries/wasm-elementwise.js";
import { compute as computeMlp, MLP_BATCH, MLP_DIMS, mlpInputs, SOFTMAX_SHAPE, softmaxInput, toJson as mlpJson, type WasmMlpResult } from "./entries/wasm-mlp.js";

const entry = (name: string) => entryPath(import.meta.url, `entries/${name}`);
const skip = browserTestsSkipped("tests/browser/wasm.test.ts");
const EPS32 = 2 ** -23;

/** Row-wise softmax in float64. */
function softmaxRows(z: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(z.length);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, z[r * cols + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += out[r * cols + c] = Math.exp(z[r * cols + c]! - m);
    for (let c = 0; c < cols; c++) out[r * cols + c]! /= s;
  }
  return out;
}

/** The MLP in float64 over the same float32 inputs. */
function mlpReference(): Float64Array {
  const { x, w, b } = mlpInputs();
  let h = Float64Array.from(x);
  for (let l = 0; l + 1 < MLP_DIMS.length; l++) {
    const k = MLP_DIMS[l]!;
    const n = MLP_DIMS[l + 1]!;
    const next = new Float64Array(MLP_BATCH * n);
    for (let i = 0; i < MLP_BATCH; i++) {
      for (let j = 0; j < n; j++) {
        let s = b[l]![j]!;
        for (let p = 0; p < k; p++) s += h[i * k + p]! * w[l]![p * n + j]!;
        next[i * n + j] = l + 2 < MLP_DIMS.length ? Math.max(0, s) : s;
      }
    }
    h = next;
  }
  return softmaxRows(h, MLP_BATCH, MLP_DIMS[MLP_DIMS.length - 1]!);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.skipIf(skip)("WebAssembly kernels in headless Chromium (same bits as Node)", () => {
  let browser: BrowserSession;
  beforeAll(async () => {
    browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("the MLP 784-512-512-10 and a softmax run on wasm kernels, bit-identical for 1/2 threads and browser/Node", async () => {
    const fromBrowser = (await browser.run(entry("wasm-mlp.ts"), { timeoutMs: 120_000 })) as WasmMlpResult;
    const nodeComputed = await computeMlp();
    const fromNode = await mlpJson(nodeComputed);

    // The browser worker's backend: SIMD kernels, shared memory, threads.
    expect(fromBrowser.crossOriginIsolated).toBe(true);
    expect(fromBrowser.info.cpu, JSON.stringify(fromBrowser.info)).toMatchObject({ kernels: "wasm-simd", simd: true, sharedMemory: true });
    expect(fromBrowser.info.cpu.threads).toBeGreaterThanOrEqual(2);
    expect(fromBrowser.info.cpu.reason).toBeUndefined();

    // Every matmul (three layers, bias/relu epilogues fused in) takes the WebAssembly path; so
    // does every kernel of the [64, 1024] softmax. (The MLP's own softmax is [64, 10], below the
    // size where WebAssembly pays off, so it stays JavaScript, in both places alike.)
    const matmuls = fromBrowser.mlpKernels.filter((k) => k.matmul);
    expect(matmuls).toHaveLength(3);
    expect(matmuls.every((k) => k.backend === "wasm"), JSON.stringify(fromBrowser.mlpKernels)).toBe(true);
    expect(fromBrowser.softmaxKernels.length).toBeGreaterThan(0);
    expect(fromBrowser.softmaxKernels.every((k) => k.backend === "wasm"), JSON.stringify(fromBrowser.softmaxKernels)).toBe(true);
    expect(fromBrowser.mlpKernels).toEqual(fromNode.mlpKernels);
    expect(fromBrowser.softmaxKernels).toEqual(fromNode.softmaxKernels);

    // 1 vs 2 threads in the browser: identical bits; the second run really had a worker.
    expect(fromBrowser.mlp.map((r) => r.threads)).toEqual([1, 2]);
    expect(fromBrowser.mlp[1]!.hex).toBe(fromBrowser.mlp[0]!.hex);
    expect(fromBrowser.softmax[1]!.sha256).toBe(fromBrowser.softmax[0]!.sha256);
    const twoThreads = [fromBrowser.mlp[1]!.pool, fromBrowser.softmax[1]!.pool];
    for (const p of twoThreads) {
      expect(p.spawnError).toBeUndefined();
      expect(p.workers).toBeGreaterThanOrEqual(1);
    }
    // Chunks are claimed, not assigned, so how many a worker gets varies; over 3 MLP calls and 3
    // softmax calls it gets some.
    expect(twoThreads.reduce((s, p) => s + p.chunksOnWorkers, 0), JSON.stringify(twoThreads)).toBeGreaterThan(0);

    // Browser vs Node: identical bits.
    expect(fromNode.mlp[1]!.hex).toBe(fromNode.mlp[0]!.hex);
    expect(fromBrowser.mlp[0]!.hex).toBe(fromNode.mlp[0]!.hex);
    expect(fromBrowser.softmax[0]!.sha256).toBe(fromNode.softmax[0]!.sha256);
    expect(fromBrowser.softmax[1]!.sha256).toBe(fromNode.softmax[1]!.sha256);

    // And the bits are right: float64 references. The MLP's probabilities come out of float32
    // matmuls over up to 784 terms of size O(0.1): within 1e-5 absolute (measured about 1e-7).
    const mlpOut = fromHex(fromBrowser.mlp[0]!.hex!);
    expect(mlpOut.length).toBe(MLP_BATCH * 10);
    expect(maxAbsDiff(mlpOut, mlpReference())).toBeLessThan(1e-5);
    // Softmax: exp within 2 ulp (vmath), the shift x - max rounded once, a float32 sum of 1024
    // positive terms: within 1e-5 relative of each probability.
    const sx = softmaxInput();
    const want = softmaxRows(Float64Array.from(sx), SOFTMAX_SHAPE[0], SOFTMAX_SHAPE[1]);
    const got = nodeComputed.softmax[0]!.out;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / want[i]!);
    expect(worst).toBeLessThan(1e-5);
  }, 180_000);

  it("the 1M-element chain tanh(x*0.5+1)*x + sigmoid(x) runs as one wasm kernel, bit-identical everywhere", async () => {
    const fromBrowser = (await browser.run(entry("wasm-elementwise.ts"), { timeoutMs: 120_000 })) as WasmChainResult;
    const nodeComputed = await computeChain();
    const fromNode = await chainJson(nodeComputed);

    expect(fromBrowser.kernels).toHaveLength(1);
    expect(fromBrowser.kernels[0]).toMatchObject({ op: "fused", backend: "wasm" });
    expect(fromBrowser.kernels).toEqual(fromNode.kernels);

    const [b1, b2] = fromBrowser.runs;
    expect([b1!.threads, b2!.threads]).toEqual([1, 2]);
    expect(b2!.pool.spawnError).toBeUndefined();
    expect(b2!.pool.workers).toBeGreaterThanOrEqual(1);
    // Sampled bits first: when they differ, the failure says where.
    expect(b2!.sampleBits).toEqual(b1!.sampleBits);
    expect(b2!.sha256).toBe(b1!.sha256);
    expect(fromBrowser.runs[0]!.sampleBits).toEqual(fromNode.runs[0]!.sampleBits);
    expect(fromBrowser.runs.map((r) => r.sha256)).toEqual(fromNode.runs.map((r) => r.sha256));

    // Node's result (the browser's bits) against float64: tanh and sigmoid within vmath's 2 ulp,
    // each of the 4 float32 roundings half an ulp: within 4 ulp of |tanh(.)*x| + |sigmoid(x)|.
    const x = chainInput();
    const out = nodeComputed.runs[0]!.out;
    expect(sampleBits(out)).toEqual(fromNode.runs[0]!.sampleBits);
    let bad = -1;
    for (let i = 0; i < x.length && bad < 0; i++) {
      const v = x[i]!;
      const p = Math.tanh(Math.fround(Math.fround(v * 0.5) + 1)) * v;
      const s = 1 / (1 + Math.exp(-v));
      if (!(Math.abs(out[i]! - (p + s)) <= 4 * EPS32 * (Math.abs(p) + Math.abs(s)) + 1e-38)) bad = i;
    }
    expect(bad, bad >= 0 ? `x[${bad}] = ${x[bad]}: got ${out[bad]}` : "").toBe(-1);
  }, 180_000);
});
