/** Every code documented in docs/errors.md is triggered here, with its class and code checked. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import * as st from "../src/index.js";
import { parse } from "../src/ir/parse.js";
import { verify } from "../src/ir/verify.js";
import { GraphBuilder } from "../src/ir/graph.js";
import { defineOp, hasOp } from "../src/ir/registry.js";
import { DeviceSyncError, WebGPUError } from "../src/ir/errors.js";
import { WebGPURuntime, type WebGPUInfo } from "../src/exec/webgpu/runtime.js";
import type { GpuStorage } from "../src/exec/webgpu/buffers.js";

/**
 * A GPU tensor without a GPU (a stand-in buffer handle): its sync read throws ST203 on any machine.
 * The webgpu tests (tests/webgpu) check the same error on a real device.
 */
function gpuTensorWithoutGpu(): st.Tensor {
  const storage = { retain() { return this; }, release() {} } as unknown as GpuStorage;
  return st.EagerTensor.onGpu(storage, { dtype: "float32", shape: [2] });
}

/** A runtime over a stand-in device whose shader compiler throws, for ST204 without a GPU. */
function failingRuntime(): WebGPURuntime {
  const device = {
    lost: new Promise(() => {}),
    onuncapturederror: null,
    pushErrorScope() {},
    popErrorScope: async () => null,
    createShaderModule() {
      throw new TypeError("invalid WGSL");
    },
  } as unknown as GPUDevice;
  const limits = { maxComputeWorkgroupSizeX: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27, maxComputeWorkgroupStorageSize: 16384, maxBufferSize: 1 << 28, maxStorageBuffersPerShaderStage: 8 };
  const info: WebGPUInfo = { adapter: { vendor: "", architecture: "", device: "", description: "" }, limits, features: [], source: "navigator" };
  return new WebGPURuntime(device, info);
}

type Trigger = { cls: new (...args: never[]) => st.SymtensorError; run: () => unknown };

const inTrace = (body: (t: st.Tensor) => unknown) => () => st.fn((x: st.Tensor) => { body(x.add(1)); return x; })(st.zeros([2]));
let leaked: st.Tensor | undefined;

/** A graph through an op with no derivative rule (every real op has one), for ST008. */
function opaqueGraph(): st.Graph {
  if (!hasOp("test.opaque")) defineOp({ name: "test.opaque", kind: "shape", arity: 1, doc: "identity without a vjp rule", attributes: {}, infer: (inputs) => [inputs[0]!] });
  const b = new GraphBuilder("opaque");
  const a = b.addParam("%a", { dtype: "float32", shape: [2] });
  const [r] = b.addNode("test.opaque", [a.name], {}, [a.type]);
  return b.build([r!.name]);
}

const TRIGGERS: Record<string, Trigger[]> = {
  ST001: [{ cls: st.SymbolicTensorError, run: inTrace((t) => t.numpy()) }],
  ST002: [{ cls: st.SymbolicTensorError, run: inTrace((t) => Number(t)) }],
  ST003: [{ cls: st.SymbolicTensorError, run: inTrace((t) => [...(t as unknown as Iterable<st.Tensor>)]) }],
  ST004: [{ cls: st.SymbolicTensorError, run: () => { st.fn((x: st.Tensor) => { leaked = x.exp(); return x; })(st.zeros([1])); return st.add(leaked!, 1); } }],
  ST008: [{ cls: st.NonDifferentiableError, run: () => st.vjpGraph(opaqueGraph(), { wrt: [0] }) }],
  ST203: [{ cls: DeviceSyncError, run: () => gpuTensorWithoutGpu().numpy() }, { cls: DeviceSyncError, run: () => gpuTensorWithoutGpu().item() }],
  ST204: [{ cls: WebGPUError, run: () => failingRuntime().pipeline("k", "not wgsl", "main", ["read"], { op: "test", kernel: "k0" }) }],
  ST301: [{ cls: st.IRParseError, run: () => parse("func @f(%a: f16[2]) -> (f16[2]) {\n  return %a\n}\n") }],
  ST302: [{ cls: st.IRVerifyError, run: () => verify(parse("func @f(%a: f32[2]) -> (f32[3]) {\n  %0 = neg(%a) : f32[3]\n  return %0\n}\n")) }],
  ST201: [{ cls: st.DeviceError, run: () => st.zeros([1], { device: "gpu" as never }) }],
  ST202: [{ cls: st.DisposedTensorError, run: () => { const t = st.tensor(1); t.dispose(); return t.numpy(); } }],
  ST401: [
    { cls: st.ShapeError, run: () => st.add(st.zeros([2, 3]), st.zeros([4])) },
    { cls: st.ShapeError, run: () => st.matmul(st.zeros([2, 3]), st.zeros([4, 5])) },
    { cls: st.ShapeError, run: () => st.reshape(st.zeros([2, 3]), [4]) },
  ],
  ST402: [
    { cls: st.DTypeError, run: () => st.tensor([1], { dtype: "int64" as never }) },
    { cls: st.DTypeError, run: () => st.neg(st.tensor([true])) },
    { cls: st.DTypeError, run: () => st.add(st.tensor([1], { dtype: "uint8" }), 300) },
  ],
  ST403: [{ cls: st.DTypeError, run: () => { st.setStrictDtypes(true); try { return st.add(st.tensor([1], { dtype: "int32" }), st.tensor([1])); } finally { st.setStrictDtypes(false); } } }],
  ST404: [
    { cls: st.ValueError, run: () => st.reduceSum(st.zeros([2, 3]), 2) },
    { cls: st.ValueError, run: () => st.zeros([-1]) },
    { cls: st.ValueError, run: () => st.reduceMax(st.zeros([0])) },
  ],
  ST405: [{ cls: st.ValueError, run: () => st.tensor([[1, 2], [3]]) }],
  ST406: [{ cls: st.IndexError, run: () => st.gather(st.zeros([3]), [5]) }],
  ST501: [{ cls: st.FormatError, run: () => st.NDArray.fromNpy(new Uint8Array([1, 2, 3])) }],
  ST502: [{ cls: st.UnsupportedOnnxOpError, run: () => st.exportOnnx((x: st.Tensor) => st.debugPrint("x", x), st.zeros([2])) }],
};

/** Codes that are warnings, not thrown errors; each is checked by its own test below. */
const WARNINGS = ["ST007", "ST103"];
/** Codes only the static linter reports; each is checked against its corpus folder below. */
const LINT_ONLY = ["ST005", "ST006", "ST101", "ST102"];

describe("documented error codes", () => {
  const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
  const documented = [...doc.matchAll(/^## (ST\d{3})$/gm)].map((m) => m[1]!);

  it("docs/errors.md documents exactly the codes that have triggers (errors) or warning tests", () => {
    expect(documented.sort()).toEqual([...Object.keys(TRIGGERS), ...WARNINGS, ...LINT_ONLY].sort());
  });

  it("the lint-only codes are reported by the linter on their corpus cases", async () => {
    const { lintFiles } = await import("../src/lint/index.js");
    const project = fileURLToPath(new URL("./lint/cases/tsconfig.json", import.meta.url));
    for (const code of LINT_ONLY) {
      const dir = fileURLToPath(new URL(`./lint/cases/${code.toLowerCase()}`, import.meta.url));
      const found = lintFiles([dir], { project }).filter((d) => d.code === code);
      expect(found.length, code).toBeGreaterThan(0);
    }
  });

  it("ST007 is emitted as a warning when a function retraces on every call", () => {
    const seen: st.SymtensorWarning[] = [];
    st.setWarningHandler((w) => seen.push(w));
    try {
      const f = st.fn((x: st.Tensor) => x.neg());
      for (let n = 1; n <= 5; n++) f(st.zeros([n]));
    } finally {
      st.setWarningHandler(undefined);
    }
    expect(seen.map((w) => w.code)).toEqual(["ST007"]);
  });

  it("ST103 is emitted once when the CPU backend cannot run at full speed (here: a bad SYMTENSOR_THREADS)", async () => {
    const saved = process.env["SYMTENSOR_THREADS"];
    process.env["SYMTENSOR_THREADS"] = "many";
    vi.resetModules();
    try {
      const warnings = await import("../src/ir/warnings.js");
      const seen: st.SymtensorWarning[] = [];
      warnings.setWarningHandler((w) => seen.push(w));
      const runtime = await import("../src/exec/wasm/runtime.js");
      runtime.getWasmRuntime();
      runtime.getWasmRuntime();
      expect(seen.map((w) => w.code)).toEqual(["ST103"]);
      expect(seen[0]!.message).toMatch(/SYMTENSOR_THREADS/);
    } finally {
      if (saved === undefined) delete process.env["SYMTENSOR_THREADS"];
      else process.env["SYMTENSOR_THREADS"] = saved;
      vi.resetModules();
    }
  });

  for (const [code, triggers] of Object.entries(TRIGGERS)) {
    it(`${code} is thrown with its class and code`, () => {
      for (const t of triggers) {
        let err: unknown;
        try {
          t.run();
        } catch (e) {
          err = e;
        }
        expect(err, `${code}: expected a throw`).toBeInstanceOf(t.cls);
        expect((err as st.SymtensorError).code).toBe(code);
        expect((err as Error).message).toContain(`docs/errors.md#${code.toLowerCase()}`);
      }
    });
  }
});
