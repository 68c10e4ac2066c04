/**
 * The WebAssembly SIMD matmul and conv2d kernels alone, one thread: GFLOP/s against the JS kernel
 * (compileKernel's matmul, i.e. kernels/matmul.ts; the JS conv kernel) and, with --tfjs, against
 * tfjs-wasm (XNNPACK) measured in the same process.
 *
 *   npx tsx bench/wasm-gemm.ts [--quick] [--min] [--tfjs] [--mr=5] [--kc=256] [--unroll=4] [--grain=16] [--only=1024]
 *
 * Every kernel call includes its pack phase (B is repacked per call, as in a compiled graph).
 * Inputs are written into the wasm memory once; outputs are not copied back (the executor's
 * buffers live in that memory).
 */
import "../src/ir/ops/index.js";
import { compileKernel, type KernelSpec } from "../src/exec/cpu/codegen-fused.js";
import { conv2dKernel } from "../src/exec/cpu/kernels/conv.js";
import { WASM_MAX_PAGES, type WasmKernelPlan } from "../src/exec/wasm/abi.js";
import { wasmConv2dPlan } from "../src/exec/wasm/conv.js";
import { DEFAULT_GEMM_TUNING, type GemmTuning, wasmMatmulPlan } from "../src/exec/wasm/gemm.js";
import { convGeometry, matmulPlan } from "../src/ir/ops/linalg.js";
import { getOp } from "../src/ir/registry.js";
import { sizeOf } from "../src/ir/shape.js";
import type { TensorType } from "../src/ir/types.js";
import { sampleTime } from "./sample-time.js";

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = argv.includes("--quick");
const tuning: GemmTuning = {
  mr: Number(flag("mr") ?? DEFAULT_GEMM_TUNING.mr),
  kc: Number(flag("kc") ?? DEFAULT_GEMM_TUNING.kc),
  unroll: Number(flag("unroll") ?? DEFAULT_GEMM_TUNING.unroll),
  maxGrain: Number(flag("grain") ?? DEFAULT_GEMM_TUNING.maxGrain),
};
const only = flag("only");
const useMin = argv.includes("--min");

const f32 = (shape: readonly number[]): TensorType => ({ dtype: "float32", shape });

function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** A single-threaded stand-in for the runtime: buffers placed once, phases called chunk by chunk. */
class Runner {
  private readonly memory: WebAssembly.Memory;
  private readonly run: () => void;
  readonly outAddr: number;

  constructor(plan: WasmKernelPlan, inputs: readonly Float32Array[], outBytes: number) {
    const sizes = [...inputs.map((a) => a.byteLength), outBytes, ...(plan.scratchBytes > 0 ? [plan.scratchBytes] : [])];
    let at = 1024;
    const addrs = sizes.map((n) => {
      const a = at;
      at += Math.ceil(n / 64) * 64 + 64;
      return a;
    });
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(at / 65536) + 1, maximum: WASM_MAX_PAGES, shared: true });
    const i32 = new Int32Array(this.memory.buffer);
    addrs.forEach((a, k) => (i32[16 + k] = a));
    inputs.forEach((x, k) => new Float32Array(this.memory.buffer, addrs[k]!, x.length).set(x));
    this.outAddr = addrs[inputs.length]!;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(plan.bytes), { env: { memory: this.memory } });
    const calls = plan.phases.map((ph) => ({ entry: instance.exports[ph.entry] as (a: number, b: number, e: number) => void, items: ph.items, grain: ph.grain }));
    this.run = () => {
      for (const c of calls) for (let b = 0; b < c.items; b += c.grain) c.entry(64, b, Math.min(c.items, b + c.grain));
    };
  }

  call(): void {
    this.run();
  }

  output(n: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.outAddr, n).slice();
  }
}

const time = (f: () => void, minMs: number): number => sampleTime(f, minMs, useMin, 2000);

function matmulSpec(a: TensorType, b: TensorType): KernelSpec {
  const out = f32(matmulPlan(a, b).outShape);
  return { kind: "matmul", inputs: [a, b], nodes: [{ op: getOp("matmul"), operands: [{ input: 0 }, { input: 1 }], attrs: {}, type: out }], yields: [{ node: 0 }], outputs: [out] };
}

function maxRelDiff(x: Float32Array, y: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(y[i]!));
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return scale === 0 ? worst : worst / scale;
}

type TfLike = typeof import("@tensorflow/tfjs-core");
let tf: TfLike | undefined;
async function loadTfjs(): Promise<TfLike> {
  if (tf) return tf;
  const core = await import("@tensorflow/tfjs-core");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const { createRequire } = await import("node:module");
  const { dirname } = await import("node:path");
  wasm.setWasmPaths(`${dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"))}/`);
  core.enableProdMode();
  await core.setBackend("wasm");
  await core.ready();
  tf = core;
  return core;
}

const minMs = quick ? 150 : 600;
const rows: string[] = [];
const report = (name: string, flops: number, wasmMs: number, jsMs: number, tfMs: number | undefined, diff: number): void => {
  const g = (ms: number): string => (flops / ms / 1e6).toFixed(1);
  const line =
    `${name.padEnd(28)} wasm ${wasmMs.toFixed(3).padStart(8)} ms ${g(wasmMs).padStart(6)} GFLOP/s | js ${jsMs.toFixed(2).padStart(8)} ms ${g(jsMs).padStart(6)} GFLOP/s | ` +
    `x${(jsMs / wasmMs).toFixed(1)}` +
    (tfMs === undefined ? "" : ` | tfjs-wasm ${tfMs.toFixed(3)} ms ${g(tfMs)} GFLOP/s (wasm x${(tfMs / wasmMs).toFixed(2)})`) +
    ` | max rel diff vs js ${diff.toExponential(1)}`;
  rows.push(line);
  console.log(line);
};

async function benchMatmul(name: string, aShape: number[], bShape: number[]): Promise<void> {
  if (only && !name.includes(only)) return;
  const a = f32(aShape);
  const b = f32(bShape);
  const spec = matmulSpec(a, b);
  const { m, n, k, batch } = matmulPlan(a, b);
  const flops = 2 * m * n * k * sizeOf(batch);
  const A = randomArray(sizeOf(aShape), 1);
  const B = randomArray(sizeOf(bShape), 2);
  const plan = wasmMatmulPlan(spec, { shared: true }, tuning)!;
  const outN = sizeOf(spec.outputs[0]!.shape);
  const runner = new Runner(plan, [A, B], outN * 4);
  const wasmMs = time(() => runner.call(), minMs);
  const kernel = compileKernel(spec, "bench");
  const C = new Float32Array(outN);
  const env = [A, B, C];
  const slots = Int32Array.of(0, 1, 2);
  const jsMs = time(() => kernel.fn(env, slots), quick ? minMs / 2 : minMs);
  let tfMs: number | undefined;
  if (argv.includes("--tfjs")) {
    const t = await loadTfjs();
    const ta = t.tensor(A, aShape);
    // tfjs matMul takes no 1-D operands: a vector is a one-column matrix there.
    const tb = t.tensor(B, bShape.length === 1 ? [bShape[0]!, 1] : bShape);
    tfMs = time(() => {
      const y = t.matMul(ta, tb);
      y.dataSync();
      y.dispose();
    }, minMs);
    ta.dispose();
    tb.dispose();
  }
  report(name, flops, wasmMs, jsMs, tfMs, maxRelDiff(runner.output(outN), C));
}

async function benchConv(name: string, xShape: number[], wShape: number[], attrs: { strides: number[]; dilations: number[]; padding: "same" | "valid" }): Promise<void> {
  if (only && !name.includes(only)) return;
  const x = f32(xShape);
  const w = f32(wShape);
  const g = convGeometry(x, w, attrs);
  const yShape = [g.batch, g.oh, g.ow, g.outC];
  const flops = 2 * g.batch * g.oh * g.ow * g.outC * g.kh * g.kw * g.c;
  const X = randomArray(sizeOf(xShape), 3);
  const W = randomArray(sizeOf(wShape), 4);
  const plan = wasmConv2dPlan(x, w, attrs, f32(yShape), { shared: true });
  if (!plan) {
    console.log(`${name}: no wasm plan`);
    return;
  }
  const outN = sizeOf(yShape);
  const runner = new Runner(plan, [X, W], outN * 4);
  const wasmMs = time(() => runner.call(), minMs);
  let ref: Float32Array = new Float32Array(0);
  const jsMs = time(() => {
    ref = conv2dKernel("float32", X, W, g, g.outC) as Float32Array;
  }, quick ? minMs / 2 : minMs);
  let tfMs: number | undefined;
  if (argv.includes("--tfjs")) {
    const t = await loadTfjs();
    const tx = t.tensor4d(X, xShape as [number, number, number, number]);
    const tw = t.tensor4d(W, wShape as [number, number, number, number]);
    tfMs = time(() => {
      const y = t.conv2d(tx, tw, attrs.strides as [number, number], attrs.padding, "NHWC", attrs.dilations as [number, number]);
      y.dataSync();
      y.dispose();
    }, minMs);
  }
  report(name, flops, wasmMs, jsMs, tfMs, maxRelDiff(runner.output(outN), ref));
}

console.log(`tuning ${JSON.stringify(tuning)}; one thread; node ${process.version}`);
await benchMatmul("matmul 256", [256, 256], [256, 256]);
await benchMatmul("matmul 512", [512, 512], [512, 512]);
await benchMatmul("matmul 1024", [1024, 1024], [1024, 1024]);
await benchMatmul("mlp [64,784]x[784,512]", [64, 784], [784, 512]);
await benchMatmul("mlp [64,512]x[512,512]", [64, 512], [512, 512]);
await benchMatmul("mlp [64,512]x[512,10]", [64, 512], [512, 10]);
await benchMatmul("batched [16,64,64]x[16,64,64]", [16, 64, 64], [16, 64, 64]);
await benchMatmul("gemv [1024,1024]x[1024]", [1024, 1024], [1024]);
await benchConv("conv [8,32,32,16]*[3,3,16,32]", [8, 32, 32, 16], [3, 3, 16, 32], { strides: [1, 1], dilations: [1, 1], padding: "same" });
await benchConv("conv [1,56,56,64]*[3,3,64,64]", [1, 56, 56, 64], [3, 3, 64, 64], { strides: [1, 1], dilations: [1, 1], padding: "same" });
