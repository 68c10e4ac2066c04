import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { WebGPUError } from "../../src/ir/errors.js";
import { prepare } from "../../src/exec/webgpu/kernels.js";
import { webgpuRuntime } from "../../src/exec/webgpu/runtime.js";
import { initWebGPU, synchronize, transferStats } from "../../src/trace/device.js";
import { hasGpu } from "./gpu.js";

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
}

describe.skipIf(!hasGpu)("webgpu errors surface as typed errors", () => {
  it("a shader that fails validation is reported at the next sync point with its op and kernel", async () => {
    const rt = webgpuRuntime()!;
    // A kernel the GPU rejects (a WGSL type error); creation is asynchronous-checked.
    prepare(rt, { key: "test-bad-kernel", hash: "deadbeef", scratch: [], passes: [{ code: "@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }", entryPoint: "main", workgroups: [1, 1, 1], bindings: [] }] }, "badOp");
    const t = st.tensor([1, 2], { device: "webgpu" });
    const err = await caught(t.numpyAsync());
    expect(err).toBeInstanceOf(WebGPUError);
    const e = err as WebGPUError;
    expect(e.code).toBe("ST204");
    expect(e.kind).toBe("validation");
    expect(e.op).toBe("badOp");
    expect(e.kernel).toBe("deadbeef");
    // Reported once: the next read works.
    expect(Array.from(await t.data())).toEqual([1, 2]);
  });

  it("synchronize() waits for the GPU and counts a sync", async () => {
    const before = transferStats().webgpu.syncs;
    await synchronize();
    expect(transferStats().webgpu.syncs).toBe(before + 1);
  });

  it("a lost device makes GPU calls throw WebGPUError (device-lost); initWebGPU() starts a new one", async () => {
    const rt = webgpuRuntime()!;
    const t = st.tensor([1, 2], { device: "webgpu" });
    rt.device.destroy();
    // device.lost resolves asynchronously.
    for (let i = 0; i < 100 && !rt.isLost; i++) await new Promise((r) => setTimeout(r, 5));
    expect(rt.isLost).toBe(true);
    let err: unknown;
    try {
      st.add(t, t);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebGPUError);
    expect((err as WebGPUError).kind).toBe("device-lost");
    expect(await caught(t.numpyAsync())).toBeInstanceOf(WebGPUError);
    await initWebGPU();
    expect(webgpuRuntime()).not.toBe(rt);
    const u = st.tensor([3, 4], { device: "webgpu" });
    expect(Array.from(await st.add(u, u).data())).toEqual([6, 8]);
  });
});
