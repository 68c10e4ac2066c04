/**
 * Control flow on the webgpu device: forLoop and scan run on the GPU (bodies compiled once and
 * recorded trip-count times, no host sync) and match the cpu compiler; cond and whileLoop are a
 * DeviceError that says why and what to do instead.
 */
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { DeviceError } from "../../src/ir/errors.js";
import { gpuMemoryStats, resetTransferStats, transferStats } from "../../src/trace/device.js";
import { hasGpu } from "./gpu.js";

type T = st.Tensor;

const data = (n: number, seed: number, scale = 1): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * scale);
const gpu = (x: Float32Array | Int32Array, shape: number[], dtype: "float32" | "int32" = "float32"): T => st.tensor(x, { device: "webgpu", dtype }).reshape(shape);
const cpu = (x: Float32Array | Int32Array, shape: number[], dtype: "float32" | "int32" = "float32"): T => st.tensor(x, { dtype }).reshape(shape);

/**
 * Runs `f` compiled for the cpu and for webgpu on the same host data and compares every result:
 * dtype, shape, and values within `tol` relative (|a-b| / max(1, |b|)); integer results exactly.
 */
async function matchesCpu(f: (...xs: T[]) => T[], args: readonly { x: Float32Array | Int32Array; shape: number[]; dtype?: "float32" | "int32" }[], tol: number): Promise<void> {
  const want = st.fn(f)(...args.map((a) => cpu(a.x, a.shape, a.dtype)));
  const g = st.fn(f, { device: "webgpu" });
  const got = g(...args.map((a) => gpu(a.x, a.shape, a.dtype)));
  expect(got.length).toBe(want.length);
  for (let r = 0; r < want.length; r++) {
    const w = want[r]!;
    const o = got[r]!;
    expect(o.device).toBe("webgpu");
    expect(o.dtype).toBe(w.dtype);
    expect(o.shape).toEqual(w.shape);
    const a = await o.data();
    const b = w.numpy().data;
    expect(a.length).toBe(b.length);
    if (w.dtype !== "float32") {
      expect(Array.from(a)).toEqual(Array.from(b));
      continue;
    }
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])) / Math.max(1, Math.abs(Number(b[i]))));
    expect(m, `result ${r}`).toBeLessThan(tol);
  }
}

describe.skipIf(!hasGpu)("forLoop and scan on the webgpu device", () => {
  it("forLoop: several carries, the index, captures, a fused elementwise body and a matmul", async () => {
    // h: f32[4,8], acc: f32[8], n: i32[]; captures w (f32[8,8]) and b (f32[8]).
    const f = (h0: T, w: T, b: T): T[] => {
      const [h, acc, n] = st.forLoop(
        2,
        7,
        (i: T, c: [T, T, T]): [T, T, T] => {
          const z = st.add(st.matmul(c[0], w), b);
          const h1 = st.add(st.mul(st.tanh(z), 0.5), st.mul(st.cast(i, "float32"), 0.01));
          return [h1, st.add(c[1], st.reduceSum(h1, 0)), st.add(c[2], i)];
        },
        [h0, st.zeros([8]), st.tensor(0, { dtype: "int32" })],
      );
      return [h, acc, n];
    };
    await matchesCpu(f, [{ x: data(32, 1), shape: [4, 8] }, { x: data(64, 2, 0.5), shape: [8, 8] }, { x: data(8, 3, 0.1), shape: [8] }], 1e-4);
  });

  it("forLoop with 0 and 1 iterations (and hi < lo) returns the initial carry / one step", async () => {
    const body = (i: T, c: [T, T]): [T, T] => [st.add(st.mul(c[0], 2), st.cast(i, "float32")), st.sub(c[1], 1)];
    const args = [{ x: data(5, 4), shape: [5] }, { x: data(6, 5), shape: [2, 3] }];
    for (const [lo, hi] of [
      [3, 3],
      [5, 1],
      [4, 5],
      [0, 2],
    ] as const) {
      await matchesCpu((a: T, b: T) => st.forLoop(lo, hi, body, [a, b]), args, 1e-6);
    }
  });

  it("a body that passes a carry through, returns a capture, or returns one value twice", async () => {
    const f = (a: T, y: T): T[] => st.forLoop(0, 3, (_i: T, c: [T, T, T, T]): [T, T, T, T] => [c[0], y, st.add(c[2], c[3]), st.add(c[2], c[3])], [a, a, a, a]);
    await matchesCpu(f, [{ x: data(7, 6), shape: [7] }, { x: data(7, 7), shape: [7] }], 1e-6);
  });

  it("scan: carry, two xs, captures, several ys, forward and reverse", async () => {
    for (const reverse of [false, true]) {
      const f = (c0: T, xs: T, zs: T, w: T): T[] => {
        const [c, [y1, y2]] = st.scan(
          (c: [T, T], row: [T, T]): [[T, T], [T, T]] => {
            const m = st.matmul(st.reshape(row[0], [1, 4]), w);
            const h = st.add(st.mul(c[0], 0.9), st.reshape(m, [4]));
            return [[h, st.add(c[1], st.reduceSum(row[1]))], [st.exp(st.mul(h, 0.1)), st.reduceMax(row[1])]];
          },
          [c0, st.tensor(0, { dtype: "int32" })],
          [xs, zs],
          { reverse },
        ) as [[T, T], [T, T]];
        return [c[0], c[1], y1, y2];
      };
      await matchesCpu(
        f,
        [
          { x: data(4, 8), shape: [4] },
          { x: data(20, 9), shape: [5, 4] },
          { x: Int32Array.from({ length: 15 }, (_, i) => (i * 7) % 11), shape: [5, 3], dtype: "int32" },
          { x: data(16, 10, 0.5), shape: [4, 4] },
        ],
        1e-4,
      );
    }
  });

  it("scan with length 0 and 1", async () => {
    const step = (c: T, x: T): [T, T] => [st.add(c, x), st.mul(c, x)];
    await matchesCpu((c: T, xs: T) => st.scan(step, c, xs) as [T, T], [{ x: data(3, 1), shape: [3] }, { x: data(3, 2), shape: [1, 3] }], 1e-6);
    await matchesCpu((c: T, xs: T) => st.scan(step, c, xs) as [T, T], [{ x: data(3, 1), shape: [3] }, { x: new Float32Array(0), shape: [0, 3] }], 1e-6);
  });

  it("nested: a forLoop inside a scan body, and a scan inside a forLoop body", async () => {
    // mul(x, 0), not zerosLike(x): in a webgpu trace zerosLike makes a GPU tensor, which cannot become a graph constant.
    const a = (x: T): T[] => {
      const [c, ys] = st.scan((c: T, r: T): [T, T] => [st.forLoop(0, 2, (_j: T, d: T) => st.add(d, r), c), c], st.mul(x, 0), st.stack([x, st.mul(x, 2), x], 0)) as [T, T];
      return [c, ys];
    };
    const b = (x: T, xs: T): T[] => [st.forLoop(0, 3, (i: T, c: T) => (st.scan((d: T, r: T): [T, T] => [st.add(d, st.mul(r, st.cast(i, "float32"))), d], c, xs) as [T, T])[0], x)];
    await matchesCpu(a, [{ x: data(6, 3), shape: [6] }], 1e-6);
    await matchesCpu(b as (...xs: T[]) => T[], [{ x: data(6, 3), shape: [6] }, { x: data(24, 4), shape: [4, 6] }], 1e-5);
  });

  it("a compiled loop is reusable: later calls, other inputs, no host sync", async () => {
    const g = st.fn((x: T, y: T) => st.forLoop(0, 4, (i: T, c: T) => st.add(st.mul(c, y), st.cast(i, "float32")), x), { device: "webgpu" });
    const x = gpu(data(10, 1), [10]);
    const y = gpu(data(10, 2), [10]);
    const first = g(x, y);
    resetTransferStats();
    const outs = [g(y, x), g(x, y), g(x, x)];
    // Compiling and running loops reads nothing back.
    expect(transferStats().webgpu.syncs).toBe(0);
    const ref = st.fn((x: T, y: T) => st.forLoop(0, 4, (i: T, c: T) => st.add(st.mul(c, y), st.cast(i, "float32")), x));
    const [xc, yc] = [cpu(data(10, 1), [10]), cpu(data(10, 2), [10])];
    const want = [ref(xc, yc), ref(yc, xc), ref(xc, yc), ref(xc, xc)];
    const got = [first, ...outs];
    for (let k = 0; k < got.length; k++) {
      const a = await got[k]!.data();
      const b = want[k]!.numpy().data;
      for (let i = 0; i < b.length; i++) expect(Math.abs(Number(a[i]) - Number(b[i]))).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(Number(b[i]))));
    }
  });
});

describe.skipIf(!hasGpu)("loop buffers", () => {
  it("repeated calls of a compiled scan keep live GPU buffers bounded", async () => {
    const g = st.fn((c: T, xs: T) => st.scan((c: T, r: T): [T, T] => [st.add(c, r), st.mul(c, r)], c, xs) as [T, T], { device: "webgpu" });
    const c = gpu(data(16, 1), [16]);
    const xs = gpu(data(160, 2), [10, 16]);
    for (const t of g(c, xs)) t.dispose();
    const before = gpuMemoryStats().liveBuffers;
    for (let k = 0; k < 50; k++) for (const t of g(c, xs)) t.dispose();
    const last = g(c, xs);
    await last[1]!.data();
    for (const t of last) t.dispose();
    expect(gpuMemoryStats().liveBuffers).toBeLessThanOrEqual(before);
  });
});

describe.skipIf(!hasGpu)("cond and whileLoop on the webgpu device", () => {
  const x = (): T => gpu(data(4, 1), [4]);

  it("cond is a DeviceError saying why and suggesting the cpu or where", () => {
    const g = st.fn((v: T) => st.cond(st.greater(st.reduceSum(v), 0), (a: T) => st.mul(a, 2), (a: T) => st.add(a, 1), v), { device: "webgpu" });
    let err: unknown;
    try {
      g(x());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeviceError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/cond/);
    expect(msg).toMatch(/synchronous/);
    expect(msg).toMatch(/cpu/);
    expect(msg).toMatch(/where\(pred, a, b\)/);
  });

  it("whileLoop is a DeviceError saying why and suggesting the cpu or forLoop", () => {
    const g = st.fn((v: T) => st.whileLoop((c: T) => st.less(st.reduceSum(c), 100), (c: T) => st.mul(c, 2), v), { device: "webgpu" });
    expect(() => g(x())).toThrow(DeviceError);
    expect(() => g(x())).toThrow(/synchronous.*cpu.*forLoop/s);
  });

  it("a cond nested in a forLoop body is the same DeviceError", () => {
    const g = st.fn((v: T) => st.forLoop(0, 2, (i: T, c: T) => st.cond(st.greater(i, 0), (a: T) => st.mul(a, 2), (a: T) => a, c), v), { device: "webgpu" });
    expect(() => g(x())).toThrow(DeviceError);
    expect(() => g(x())).toThrow(/cond picks a branch/);
  });
});
