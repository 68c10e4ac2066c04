import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { gpuMemoryStats, resetTransferStats, transferStats } from "../../src/trace/device.js";
import { DeviceSyncError } from "../../src/ir/errors.js";
import { hasGpu } from "./gpu.js";

const data = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 3);

/** Max relative error |a-b| / max(1, |b|) over two arrays of equal length. */
function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

describe.skipIf(!hasGpu)("fn on the webgpu device", () => {
  const chain = (x: st.Tensor, y: st.Tensor): st.Tensor => st.add(st.mul(st.sub(x, y), x), st.mul(y, 0.5));

  it("a fused elementwise chain matches the cpu compiler", async () => {
    const x = data(5000, 1);
    const y = data(5000, 2);
    const want = st.fn(chain)(st.tensor(x), st.tensor(y)).numpy().data;
    const g = st.fn(chain, { device: "webgpu" });
    const out = g(st.tensor(x, { device: "webgpu" }), st.tensor(y, { device: "webgpu" }));
    expect(out.device).toBe("webgpu");
    // Exact f32 ops (sub, mul, add), but a GPU may contract a*b+c into an fma: 1 ulp-ish tolerance.
    expect(maxRelErr(await out.data(), want)).toBeLessThan(1e-6);
    expect(g.kernels(st.tensor(x, { device: "webgpu" }), st.tensor(y, { device: "webgpu" })).length).toBeGreaterThan(0);
  });

  it("tensors created while tracing a webgpu function become constants (zerosLike, zeros, tensor, default device webgpu)", async () => {
    const f = st.fn(
      (x: st.Tensor) => st.add(st.add(x, st.onesLike(x)), st.add(st.zeros([4]), st.tensor([1, 2, 3, 4]))),
      { device: "webgpu" },
    );
    const prev = st.getDefaultDevice();
    st.setDefaultDevice("webgpu");
    try {
      const out = f(st.tensor([10, 20, 30, 40]));
      expect(out.device).toBe("webgpu");
      expect(Array.from(await out.data())).toEqual([12, 23, 34, 45]);
    } finally {
      st.setDefaultDevice(prev);
    }
  });

  it("without a device option, fn follows its arguments' device", async () => {
    const f = st.fn((x: st.Tensor) => st.add(x, x));
    const onGpu = f(st.tensor([1, 2, 3], { device: "webgpu" }));
    expect(onGpu.device).toBe("webgpu");
    expect(Array.from(await onGpu.data())).toEqual([2, 4, 6]);
    const onCpu = f(st.tensor([1, 2, 3]));
    expect(onCpu.device).toBe("cpu");
    expect(f.traceCount).toBe(2);
  });

  it("cpu arguments of a webgpu fn are uploaded and counted", async () => {
    resetTransferStats();
    const g = st.fn((x: st.Tensor) => st.mul(x, 3), { device: "webgpu" });
    const out = g(st.tensor([1, 2]));
    expect(out.device).toBe("webgpu");
    expect(Array.from(await out.data())).toEqual([3, 6]);
    const s = transferStats().webgpu;
    expect(s.hostToDevice.count).toBeGreaterThanOrEqual(1);
    expect(s.deviceToHost.count).toBe(1);
  });

  it("returns parameters, constants and repeated results as separate tensors", async () => {
    const c = st.tensor([10, 20]);
    const g = st.fn((x: st.Tensor) => [x, c, st.add(x, c), st.add(x, c)], { device: "webgpu" });
    const x = st.tensor([1, 2], { device: "webgpu" });
    const [a, b, s1, s2] = g(x) as st.Tensor[];
    expect(Array.from(await a!.data())).toEqual([1, 2]);
    expect(Array.from(await b!.data())).toEqual([10, 20]);
    expect(Array.from(await s1!.data())).toEqual([11, 22]);
    s1!.dispose();
    expect(Array.from(await s2!.data())).toEqual([11, 22]);
    a!.dispose();
    expect(Array.from(await x.data())).toEqual([1, 2]);
  });

  it("reshape shares the buffer eagerly, and in compiled graphs views intermediates but copies results", async () => {
    const x = st.tensor([1, 2, 3, 4, 5, 6], { device: "webgpu" });
    const live = gpuMemoryStats().liveBuffers;
    const r = st.reshape(x, [2, 3]);
    expect(gpuMemoryStats().liveBuffers).toBe(live);
    expect((await r.numpyAsync()).tolist()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const g = st.fn((t: st.Tensor) => [st.reshape(t, [3, 2]), st.add(st.reshape(t, [2, 3]), 1)], { device: "webgpu" });
    const [a, b] = g(x) as st.Tensor[];
    const [a2] = g(st.tensor([6, 5, 4, 3, 2, 1], { device: "webgpu" })) as st.Tensor[];
    expect((await a!.numpyAsync()).tolist()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect((await b!.numpyAsync()).tolist()).toEqual([[2, 3, 4], [5, 6, 7]]);
    expect((await a2!.numpyAsync()).tolist()).toEqual([[6, 5], [4, 3], [2, 1]]);
  });

  it("a GPU tensor closed over by a traced function is a DeviceSyncError (pass it as an argument)", () => {
    const w = st.tensor([1, 2], { device: "webgpu" });
    expect(() => st.fn((x: st.Tensor) => st.add(x, w), { device: "webgpu" })(st.tensor([1, 1], { device: "webgpu" }))).toThrow(DeviceSyncError);
  });

  it("1000 compiled calls and eager ops keep live GPU buffers bounded (dispose)", async () => {
    const g = st.fn(chain, { device: "webgpu" });
    const x = st.tensor(data(256, 3), { device: "webgpu" });
    const y = st.tensor(data(256, 4), { device: "webgpu" });
    g(x, y).dispose();
    const before = gpuMemoryStats().liveBuffers;
    for (let i = 0; i < 1000; i++) {
      const out = g(x, y);
      const e = st.add(out, x);
      out.dispose();
      e.dispose();
    }
    const probe = st.tensor(0, { device: "webgpu" });
    await probe.data();
    probe.dispose();
    // Bounded: nothing of the loop stays live (earlier tests' forgotten tensors may be collected meanwhile).
    expect(gpuMemoryStats().liveBuffers).toBeLessThanOrEqual(before);
  });

  it("forgotten GPU tensors are freed by the FinalizationRegistry", async () => {
    // gc() without --expose-gc on the command line: set the flag, then fetch gc from a fresh context.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const x = st.tensor(data(256, 5), { device: "webgpu" });
    const before = gpuMemoryStats().liveBuffers;
    for (let i = 0; i < 1000; i++) st.add(x, x);
    // Without the registry all 1000 results would stay live.
    for (let k = 0; k < 20 && gpuMemoryStats().liveBuffers > before + 50; k++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(gpuMemoryStats().liveBuffers).toBeLessThanOrEqual(before + 50);
  });
});
