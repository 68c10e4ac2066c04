/**
 * The WebAssembly path inside the CPU compiler and eager execution: which kernels take it, that
 * results match the JavaScript kernels, that packed weights are reused only while the weights are
 * the same immutable array, and that thread counts do not change a bit.
 */
import { afterEach, describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { getWasmRuntime } from "../../src/exec/wasm/runtime.js";
import { residentTensorBytes } from "../../src/exec/wasm/executor.js";

const hasWasm = getWasmRuntime() !== undefined;
const defaultThreads = st.getNumThreads();
afterEach(() => st.setNumThreads(defaultThreads));

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

const T = (shape: number[], seed: number): st.Tensor => st.tensor(seeded(shape.reduce((a, b) => a * b, 1), seed)).reshape(shape);

/** Plain float64 reference for relu(x @ w + b). */
function reference(x: Float32Array, w: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * w[p * n + j]!;
      out[i * n + j] = Math.max(0, s + b[j]!);
    }
  }
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe.skipIf(!hasWasm)("the CPU compiler's WebAssembly kernels", () => {
  it("reports what runs: backendInfo and the kernels' backends", () => {
    const info = st.backendInfo();
    expect(info.cpu.kernels).toBe("wasm-simd");
    expect(info.cpu.simd).toBe(true);
    const f = st.fn((x: st.Tensor, w: st.Tensor, b: st.Tensor) => st.relu(st.add(st.matmul(x, w), b)));
    const x = T([64, 128], 1);
    const w = T([128, 96], 2);
    const b = T([96], 3);
    expect(f.kernels(x, w, b).map((k) => k.backend)).toEqual(["wasm"]);
    // Tiny graphs stay on the JavaScript kernels (their per-call cost matters more).
    const g = st.fn((a: st.Tensor) => a.mul(2).add(1));
    expect(g.kernels(st.tensor([1, 2, 3])).map((k) => k.backend)).toEqual(["js"]);
  });

  it("packed weights are reused only while the weights are the same tensor", () => {
    const [m, k, n] = [37, 300, 70];
    const f = st.fn((x: st.Tensor, w: st.Tensor, b: st.Tensor) => st.relu(st.add(st.matmul(x, w), b)));
    const x = T([m, k], 4);
    const b = T([n], 5);
    const ws = [T([k, n], 6), T([k, n], 7)];
    // Alternate weights, and repeat each: a stale pack would give the other weights' product.
    for (const i of [0, 0, 1, 1, 0, 1]) {
      const got = f(x, ws[i]!, b).numpy().data as Float32Array;
      const want = reference((x as st.EagerTensor).buffer() as Float32Array, (ws[i] as st.EagerTensor).buffer() as Float32Array, (b as st.EagerTensor).buffer() as Float32Array, m, k, n);
      expectClose(got, want, 1e-4);
    }
  });

  it("weights computed inside the graph (a reused slot) are packed on every run", () => {
    const [m, k, n] = [40, 200, 64];
    const f = st.fn((x: st.Tensor, w: st.Tensor) => st.matmul(x, st.relu(w.mul(2))));
    const x = T([m, k], 8);
    for (const seed of [9, 10, 9]) {
      const w = T([k, n], seed);
      const wd = (w as st.EagerTensor).buffer() as Float32Array;
      const xd = (x as st.EagerTensor).buffer() as Float32Array;
      const want = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) want[i * n + j]! += xd[i * k + p]! * Math.max(0, 2 * wd[p * n + j]!);
      expectClose(f(x, w).numpy().data as Float32Array, want, 1e-4);
    }
  });

  it("fuses where(cond, matmul, 0) (relu's gradient) into the WebAssembly matmul, with full, row and column masks", () => {
    const cases: [number, number, number, number[]][] = [
      [64, 512, 512, [64, 512]],
      [37, 29, 70, [37, 70]],
      [70, 40, 62, [70, 1]],
      [40, 50, 90, [90]],
    ];
    for (const [m, k, n, condShape] of cases) {
      const a = T([m, k], m + k);
      const w = T([n, k], n);
      const h = T(condShape, k);
      const f = st.fn((a: st.Tensor, w: st.Tensor, h: st.Tensor) => st.where(st.greater(h, 0), st.matmul(a, st.transpose(w)), 0));
      const kernels = f.kernels(a, w, h);
      expect(kernels.filter((q) => q.op === "fused").map((q) => q.backend), `${m}x${k}x${n}`).toEqual(["wasm"]);
      const got = f(a, w, h).numpy().data as Float32Array;
      const [ad, wd, hd] = [a, w, h].map((t) => (t as st.EagerTensor).buffer() as Float32Array);
      const want = new Float64Array(m * n);
      const cond = (i: number, j: number): boolean => hd![condShape.length === 1 ? j : condShape[1] === 1 ? i : i * n + j]! > 0;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += ad![i * k + p]! * wd![j * k + p]!;
          want[i * n + j] = cond(i, j) ? acc : 0;
        }
      }
      expectClose(got, want, 1e-4);
      // Exact zeros where the mask is off (a select, not arithmetic).
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) if (!cond(i, j)) expect(Object.is(got[i * n + j], 0)).toBe(true);
    }
  });

  it("gives identical bits with 1, 2 and 3 threads (MLP, softmax, elementwise chain)", () => {
    const x = T([64, 784], 11);
    const p = { w: [T([784, 512], 12), T([512, 512], 13), T([512, 10], 14)], b: [T([512], 15), T([512], 16), T([10], 17)] };
    const mlp = st.fn((x: st.Tensor, p: { w: st.Tensor[]; b: st.Tensor[] }) => {
      let h = x;
      for (let l = 0; l < 3; l++) {
        h = st.add(st.matmul(h, p.w[l]!), p.b[l]!);
        if (l < 2) h = st.relu(h);
      }
      return st.softmax(h, -1);
    });
    const soft = st.fn((x: st.Tensor) => st.softmax(x, -1));
    const chain = st.fn((x: st.Tensor) => x.mul(0.5).add(1).tanh().mul(x).add(x.sigmoid()));
    const big = T([512, 1024], 18);
    const flat = T([1 << 18], 19);
    const run = (): Uint8Array[] => [mlp(x, p), soft(big), chain(flat)].map((t) => new Uint8Array((t.numpy().data as Float32Array).buffer));
    st.setNumThreads(1);
    const one = run();
    for (const threads of [2, 3]) {
      st.setNumThreads(threads);
      const many = run();
      many.forEach((bytes, i) => expect(Buffer.compare(Buffer.from(bytes), Buffer.from(one[i]!)), `output ${i} with ${threads} threads`).toBe(0));
    }
  });

  it("eager ops of the same size run the same kernels as fn(), so they agree bit for bit", () => {
    const x = T([1 << 16], 20);
    const chain = (t: st.Tensor): st.Tensor => t.mul(0.5).add(1).tanh().mul(t).add(t.sigmoid());
    const eager = chain(x).numpy().data as Float32Array;
    const traced = st.fn(chain)(x).numpy().data as Float32Array;
    expect(Buffer.compare(Buffer.from(eager.buffer), Buffer.from(traced.buffer))).toBe(0);
  });

  it("keeps large tensors in WebAssembly memory within a budget, and results stay correct past it", () => {
    const f = st.fn((a: st.Tensor) => a.add(1));
    const a = st.tensor(new Float32Array(1 << 20).fill(2));
    const outs: st.Tensor[] = [];
    // 48 results of 4 MiB each: more than the budget, all of them alive at once.
    for (let i = 0; i < 48; i++) outs.push(f(a));
    expect(residentTensorBytes()).toBeLessThanOrEqual(128 * 1024 * 1024);
    for (const o of outs) {
      const d = o.numpy().data as Float32Array;
      expect(d[0]).toBe(3);
      expect(d[d.length - 1]).toBe(3);
    }
  });
});

describe.skipIf(!hasWasm)("an engine that refuses a kernel module", () => {
  it("runs the JavaScript kernel instead and warns once (Chrome's main thread refuses sync compiles over 4 KB)", async () => {
    const real = WebAssembly.Module;
    const seen: st.SymtensorWarning[] = [];
    const prev = st.setWarningHandler((w) => seen.push(w));
    // Like Chrome's main thread: modules over 4 KB cannot be compiled synchronously.
    const refusing = function (bytes: BufferSource) {
      if ((bytes as Uint8Array).byteLength > 4096) throw new RangeError("WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB");
      return new real(bytes);
    } as unknown as typeof WebAssembly.Module;
    const { clearKernelCache } = await import("../../src/exec/cpu/compile.js");
    clearKernelCache();
    (WebAssembly as { Module: typeof WebAssembly.Module }).Module = refusing;
    try {
      // A big matmul with a tanh epilogue: its module is well over 4 KB.
      const f = st.fn((x: st.Tensor, w: st.Tensor) => st.tanh(st.matmul(x, w)));
      const x = T([96, 300], 30);
      const w = T([300, 80], 31);
      const kernels = f.kernels(x, w);
      expect(kernels.map((k) => k.backend)).toEqual(["js"]);
      const got = f(x, w).numpy().data as Float32Array;
      const want = st.fn((x: st.Tensor, w: st.Tensor) => st.tanh(st.matmul(x, w)))(x, w);
      expect(got.length).toBe(96 * 80);
      expectClose(got, want.numpy().data as Float32Array, 1e-6);
      st.fn((x: st.Tensor) => st.sin(st.cos(x.mul(3))))(T([100, 100], 32));
    } finally {
      (WebAssembly as { Module: typeof WebAssembly.Module }).Module = real;
      st.setWarningHandler(prev);
      clearKernelCache();
    }
    expect(seen.filter((w) => w.code === "ST103").length).toBe(1);
    expect(seen[0]!.message).toMatch(/Web Worker/);
  });
});
