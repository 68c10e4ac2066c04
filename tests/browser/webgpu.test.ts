/**
 * The WebGPU device in headless Chromium (issue 6): a subset of tests/webgpu/* run through
 * navigator.gpu (SwiftShader without a GPU). Each case's GPU result is compared with the cpu result
 * computed in the same browser, within the tolerances of tests/webgpu/*.test.ts, and the browser's
 * cpu results with Node's (the same entry module, run in-process) bit for bit. Without an adapter
 * the tests skip with one line, unless SYMTENSOR_REQUIRE_WEBGPU=1.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { browserTestsSkipped, entryPath, openBrowser, type BrowserSession } from "../helpers/browser.js";
import { CASES, ROUND_TRIPS, runCases, type CaseResult, type Tolerance, type WebGpuSubsetResult } from "./entries/webgpu-subset.js";

const skip = browserTestsSkipped("tests/browser/webgpu.test.ts");
const requireGpu = process.env.SYMTENSOR_REQUIRE_WEBGPU === "1";

function bytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function values(r: CaseResult): ArrayLike<number> {
  const b = bytes(r.hex);
  if (r.dtype === "float32") return new Float32Array(b.buffer);
  if (r.dtype === "int32") return new Int32Array(b.buffer);
  return b;
}

/** The first element where `gpu` is outside `tol` of `cpu`, described; undefined when all match. */
function mismatch(gpu: CaseResult, cpu: CaseResult, tol: Tolerance): string | undefined {
  if (gpu.dtype !== cpu.dtype || JSON.stringify(gpu.shape) !== JSON.stringify(cpu.shape)) {
    return `gpu ${gpu.dtype}[${gpu.shape.join(",")}] vs cpu ${cpu.dtype}[${cpu.shape.join(",")}]`;
  }
  const g = values(gpu);
  const c = values(cpu);
  if (tol.kind === "exact") {
    if (gpu.hex === cpu.hex) return undefined;
    for (let i = 0; i < c.length; i++) if (!Object.is(g[i], c[i])) return `[${i}]: gpu ${g[i]}, cpu ${c[i]} (exact)`;
    return "bytes differ";
  }
  const bound = tol.kind === "bound" ? tol.bound() : undefined;
  if (bound) expect(bound.length).toBe(c.length);
  for (let i = 0; i < c.length; i++) {
    const a = g[i]!;
    const b = c[i]!;
    if (Number.isNaN(b) ? Number.isNaN(a) : a === b) continue;
    const allowed =
      tol.kind === "rel" ? tol.atol + tol.rtol * Math.abs(b) : tol.kind === "relMax1" ? tol.tol * Math.max(1, Math.abs(b)) : tol.rel * bound![i]! + 1e-30;
    if (!(Math.abs(a - b) <= allowed)) return `[${i}]: gpu ${a}, cpu ${b}, |diff| ${Math.abs(a - b)} > ${allowed}`;
  }
  return undefined;
}

describe.skipIf(skip)("WebGPU device in headless Chromium", () => {
  let browser: BrowserSession;
  let result: Promise<WebGpuSubsetResult> | undefined;
  let skipLinePrinted = false;
  beforeAll(async () => {
    browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** The entry's result (one browser run for the whole file); skips the test when there is no adapter. */
  async function subset(ctx: TestContext): Promise<WebGpuSubsetResult> {
    result ??= browser.run(entryPath(import.meta.url, "entries/webgpu-subset.ts"), { timeoutMs: 150_000 }) as Promise<WebGpuSubsetResult>;
    const r = await result;
    if (r.adapter === null) {
      if (requireGpu) throw new Error(`no WebGPU adapter in Chromium (SYMTENSOR_REQUIRE_WEBGPU=1): ${r.reason}`);
      if (!skipLinePrinted) console.log(`[skip] tests/browser/webgpu.test.ts: no WebGPU adapter in Chromium (${r.reason}); set SYMTENSOR_REQUIRE_WEBGPU=1 to fail instead`);
      skipLinePrinted = true;
      ctx.skip();
    }
    return r;
  }

  it("gets an adapter from navigator.gpu", async (ctx) => {
    const r = await subset(ctx);
    console.log(`[browser webgpu] adapter: ${r.adapter}`);
    expect(r.source).toBe("navigator");
    expect(r.gpu).toHaveLength(CASES.length + ROUND_TRIPS.length);
    expect(r.gpu!.every((x) => x.device === "webgpu")).toBe(true);
    expect(r.cpu!.every((x) => x.device === "cpu")).toBe(true);
  }, 180_000);

  it("eager ops, fused chains, softmax, matmul with epilogue, transpose/concat: webgpu matches the browser's cpu", async (ctx) => {
    const r = await subset(ctx);
    const bad: string[] = [];
    CASES.forEach((c, i) => {
      const gpu = r.gpu![i]!;
      const cpu = r.cpu![i]!;
      expect([gpu.name, cpu.name]).toEqual([c.name, c.name]);
      const m = mismatch(gpu, cpu, c.tol);
      if (m) bad.push(`${c.name}: ${m}`);
    });
    expect(bad).toEqual([]);
    // The compiled functions really ran as GPU kernels.
    expect(r.gpuKernelCounts!.every((n) => n > 0), JSON.stringify(r.gpuKernelCounts)).toBe(true);
  }, 180_000);

  it("the browser's cpu results are bit-identical to Node's", async (ctx) => {
    const r = await subset(ctx);
    const node = await runCases("cpu");
    expect(r.cpu!.map((x) => x.name)).toEqual(node.map((x) => x.name));
    for (let i = 0; i < node.length; i++) expect(r.cpu![i], node[i]!.name).toEqual(node[i]);
  }, 180_000);

  it("numpyAsync round trips every storable dtype bit for bit", async (ctx) => {
    const r = await subset(ctx);
    ROUND_TRIPS.forEach((rt, k) => {
      const i = CASES.length + k;
      const gpu = r.gpu![i]!;
      expect(gpu.name).toBe(`round trip ${rt.dtype}`);
      expect(gpu.dtype).toBe(rt.dtype);
      expect(gpu.shape).toEqual([rt.values.length]);
      // The expected bytes, encoded here without symtensor.
      const nums = rt.values.map(Number);
      const want = rt.dtype === "float32" ? new Float32Array(nums) : rt.dtype === "int32" ? new Int32Array(nums) : new Uint8Array(nums);
      const wantHex = Array.from(new Uint8Array(want.buffer), (b) => b.toString(16).padStart(2, "0")).join("");
      expect(gpu.hex, rt.dtype).toBe(wantHex);
      expect(r.cpu![i]!.hex, rt.dtype).toBe(wantHex);
    });
  }, 180_000);

  it("sync reads of a GPU tensor throw DeviceSyncError (ST203); float64 on webgpu is a DTypeError (ST402)", async (ctx) => {
    const r = await subset(ctx);
    expect(r.syncErrors).toHaveLength(3);
    for (const e of r.syncErrors!) {
      expect(e).not.toBeNull();
      expect(e).toMatchObject({ name: "DeviceSyncError", code: "ST203" });
      expect(e!.message).toContain("await t.numpyAsync()");
    }
    expect(r.float64Error).toMatchObject({ name: "DTypeError", code: "ST402" });
    expect(r.float64Error!.message).toMatch(/webgpu/);
  }, 180_000);

  it("transferStats() counts the copies and syncs of to('webgpu') and to('cpu')", async (ctx) => {
    const r = await subset(ctx);
    const s = r.transfers!;
    expect(s.webgpu.hostToDevice).toEqual({ count: 1, bytes: 12 });
    expect(s.webgpu.deviceToHost).toEqual({ count: 1, bytes: 12 });
    expect(s.webgpu.syncs).toBe(1);
    expect(s.cpu.hostToDevice.count).toBe(1);
    expect(s.cpu.deviceToHost.count).toBe(1);
    expect(s.cpu.syncs).toBe(0);
  }, 180_000);
});
