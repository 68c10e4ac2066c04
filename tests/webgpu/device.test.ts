import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { DeviceError, DeviceSyncError, DTypeError } from "../../src/ir/errors.js";
import { getDefaultDevice, gpuMemoryStats, resetTransferStats, setDefaultDevice, transferStats } from "../../src/trace/device.js";
import { BufferPool, sizeClass } from "../../src/exec/webgpu/buffers.js";
import { hasGpu } from "./gpu.js";

describe.skipIf(!hasGpu)("webgpu device: tensors, readback, transfers", () => {
  it("uploads and reads back every storable dtype exactly", async () => {
    const cases: [st.DType, number[]][] = [
      ["float32", [1.5, -2, 0, 3.25e-8, Infinity, -0]],
      ["int32", [1, -2147483648, 2147483647, 0, -7]],
      ["bool", [1, 0, 1, 1]],
      ["uint8", [0, 255, 7, 128]],
    ];
    for (const [dtype, values] of cases) {
      const t = st.tensor(values, { dtype, device: "webgpu" });
      expect(t.device).toBe("webgpu");
      const back = await t.numpyAsync();
      expect(back.dtype).toBe(dtype);
      expect(Array.from(back.data)).toEqual(Array.from(st.tensor(values, { dtype }).numpy().data));
      t.dispose();
    }
  });

  it("keeps shapes, including empty and rank-0 tensors", async () => {
    const e = st.zeros([0, 3], { device: "webgpu" });
    expect((await e.numpyAsync()).shape).toEqual([0, 3]);
    const s = st.tensor(4, { device: "webgpu" });
    expect((await s.data())[0]).toBe(4);
  });

  it("runs an eager elementwise add and matches the cpu", async () => {
    const a = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    const b = Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i));
    const ga = st.tensor(a, { device: "webgpu" });
    const gb = st.tensor(b, { device: "webgpu" });
    const sum = st.add(ga, gb);
    expect(sum.device).toBe("webgpu");
    const want = st.add(st.tensor(a), st.tensor(b)).numpy().data;
    // IEEE f32 addition is exact-rounded on every conforming GPU: results equal the cpu's.
    expect(Array.from(await sum.data())).toEqual(Array.from(want));
    // JS scalars (rank-0 cpu tensors) join GPU operands.
    const scaled = ga.mul(2);
    expect(Array.from(await scaled.data())).toEqual(Array.from(st.tensor(a).mul(2).numpy().data));
  });

  it("sync reads of a GPU tensor throw DeviceSyncError pointing at numpyAsync", () => {
    const t = st.tensor([1, 2], { device: "webgpu" });
    for (const read of [() => t.numpy(), () => t.item(), () => t.tolist()]) {
      let err: unknown;
      try {
        read();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DeviceSyncError);
      expect((err as DeviceSyncError).code).toBe("ST203");
      expect((err as Error).message).toContain("await t.numpyAsync()");
    }
  });

  it("refuses float64 with a DTypeError naming the device", () => {
    expect(() => st.tensor([1, 2], { dtype: "float64", device: "webgpu" })).toThrow(DTypeError);
    expect(() => st.tensor([1, 2], { dtype: "float64", device: "webgpu" })).toThrow(/webgpu/);
  });

  it("mixing devices (beyond scalars) is a DeviceError naming both", () => {
    const g = st.tensor([1, 2], { device: "webgpu" });
    const c = st.tensor([1, 2]);
    expect(() => st.add(g, c)).toThrow(DeviceError);
    expect(() => st.add(c, g)).toThrow(/cpu.*webgpu|webgpu.*cpu/);
  });

  it("to() moves both ways and counts transfers", async () => {
    resetTransferStats();
    const c = st.tensor([1, 2, 3]);
    const g = await c.to("webgpu");
    expect(g.device).toBe("webgpu");
    expect(await g.to("webgpu")).toBe(g);
    const back = await g.to("cpu");
    expect(back.device).toBe("cpu");
    expect(back.numpy().tolist()).toEqual([1, 2, 3]);
    const s = transferStats();
    expect(s.webgpu.hostToDevice).toEqual({ count: 1, bytes: 12 });
    expect(s.webgpu.deviceToHost).toEqual({ count: 1, bytes: 12 });
    expect(s.webgpu.syncs).toBe(1);
    expect(s.cpu.hostToDevice.count).toBe(1);
    expect(s.cpu.deviceToHost.count).toBe(1);
    expect(s.cpu.syncs).toBe(0);
  });

  it("numpyAsync and data work on the cpu too", async () => {
    const c = st.tensor([[1, 2]]);
    expect((await c.numpyAsync()).tolist()).toEqual([[1, 2]]);
    expect(Array.from(await c.data())).toEqual([1, 2]);
  });

  it("the default device places new tensors", async () => {
    expect(getDefaultDevice()).toBe("cpu");
    setDefaultDevice("webgpu");
    try {
      const t = st.ones([2]);
      expect(t.device).toBe("webgpu");
      expect(Array.from(await t.data())).toEqual([1, 1]);
    } finally {
      setDefaultDevice("cpu");
    }
    expect(() => setDefaultDevice("gpu" as never)).toThrow(DeviceError);
  });

  it("dispose returns buffers to the pool", () => {
    const before = gpuMemoryStats().liveBuffers;
    const t = st.zeros([1024], { device: "webgpu" });
    expect(gpuMemoryStats().liveBuffers).toBe(before + 1);
    t.dispose();
    expect(gpuMemoryStats().liveBuffers).toBe(before);
    expect((t as st.EagerTensor).isDisposed).toBe(true);
  });
});

describe("webgpu buffer limits (no GPU needed)", () => {
  it("a tensor larger than one storage binding is a DeviceError naming the limit", () => {
    const limits = { maxComputeWorkgroupSizeX: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1024, maxComputeWorkgroupStorageSize: 16384, maxBufferSize: 4096, maxStorageBuffersPerShaderStage: 8 };
    const pool = new BufferPool({ createBuffer: () => ({ destroy() {} }) } as unknown as GPUDevice, limits);
    expect(() => pool.acquire(2048, "x: f32[512]")).toThrow(DeviceError);
    expect(() => pool.acquire(2048, "x: f32[512]")).toThrow(/maxStorageBufferBindingSize/);
    const ok = pool.acquire(1000, "y");
    expect(pool.stats().liveBuffers).toBe(1);
    ok.release();
    expect(pool.stats()).toMatchObject({ liveBuffers: 0, pooledBuffers: 1 });
    // The pooled buffer is reused for the same size class.
    pool.acquire(1000, "z");
    expect(pool.stats()).toMatchObject({ liveBuffers: 1, pooledBuffers: 0, created: 1 });
  });

  it("size classes waste at most a quarter", () => {
    for (const n of [1, 256, 257, 1000, 4097, 1 << 20, (1 << 20) + 1, 3e6]) {
      const c = sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      if (n > 256) expect(c / n).toBeLessThanOrEqual(1.25);
    }
  });
});
