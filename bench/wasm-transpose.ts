/**
 * The WebAssembly transpose kernel alone, one thread, against the JS transpose kernel
 * (kernels/shape.ts, copyView), float32 [R, C] -> [C, R]:
 *
 *   npx tsx bench/wasm-transpose.ts [--quick] [--min] [--tr=64] [--tc=16] [--chunk=32768] [--gap=64]
 *
 * The input is written into the wasm memory once; the output is not copied back (the executor's
 * buffers live in that memory). The JS kernel allocates its output per call, as it does in use.
 */
import "../src/ir/ops/index.js";
import "../src/exec/cpu/kernels/index.js";
import { getCpuKernel } from "../src/exec/cpu/backend.js";
import { WASM_MAX_PAGES, type WasmKernelPlan } from "../src/exec/wasm/abi.js";
import { type TransposeTuning, wasmTransposePlan } from "../src/exec/wasm/transpose.js";
import type { TensorType } from "../src/ir/types.js";
import { sampleTime } from "./sample-time.js";

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = argv.includes("--quick");
const useMin = argv.includes("--min");
// Without --tr/--tc the plan's own per-shape default (defaultTransposeTuning) is measured.
const tuning: TransposeTuning | undefined =
  flag("tr") === undefined ? undefined : { tr: Number(flag("tr")), tc: Number(flag("tc") ?? 16), chunkElements: Number(flag("chunk") ?? 1 << 15) };

const time = (f: () => void, minMs: number): number => sampleTime(f, minMs, useMin);

/** Buffers placed once; the plan's one phase called chunk by chunk on this thread. */
function runner(plan: WasmKernelPlan, x: Float32Array): { call: () => void; output: () => Float32Array } {
  const bytes = x.byteLength;
  const xAt = 1024;
  const yAt = xAt + Math.ceil(bytes / 64) * 64 + Number(flag("gap") ?? 64);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((yAt + bytes + 64) / 65536) + 1, maximum: WASM_MAX_PAGES, shared: true });
  const i32 = new Int32Array(memory.buffer);
  i32[16] = xAt;
  i32[17] = yAt;
  new Float32Array(memory.buffer, xAt, x.length).set(x);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(plan.bytes), { env: { memory } });
  const phase = plan.phases[0]!;
  const entry = instance.exports[phase.entry] as (a: number, b: number, e: number) => void;
  return {
    call: () => {
      for (let b = 0; b < phase.items; b += phase.grain) entry(64, b, Math.min(phase.items, b + phase.grain));
    },
    output: () => new Float32Array(memory.buffer, yAt, x.length).slice(),
  };
}

const minMs = quick ? 150 : 600;
console.log(`tuning ${tuning ? JSON.stringify(tuning) : "per-shape default"}`);
for (const [R, C] of [[784, 512], [512, 512], [64, 784], [1024, 1024]] as const) {
  const xType: TensorType = { dtype: "float32", shape: [R, C] };
  const yType: TensorType = { dtype: "float32", shape: [C, R] };
  const x = Float32Array.from({ length: R * C }, (_, i) => (i * 2654435761) % 1000);
  const plan = wasmTransposePlan(xType, { perm: [1, 0] }, yType, { shared: true }, tuning)!;
  const run = runner(plan, x);
  const js = getCpuKernel("transpose")!;
  const jsCall = (): Float32Array => js([{ type: xType, data: x }], { perm: [1, 0] }, [yType])[0] as Float32Array;
  run.call();
  const want = jsCall();
  const got = run.output();
  let diffs = 0;
  for (let i = 0; i < want.length; i++) if (!Object.is(want[i], got[i])) diffs++;
  const wasmMs = time(run.call, minMs);
  const jsMs = time(jsCall, minMs);
  const gbs = (ms: number): string => ((2 * 4 * R * C) / ms / 1e6).toFixed(1);
  console.log(
    `[${R},${C}]`.padEnd(12) +
      ` wasm ${wasmMs.toFixed(3).padStart(7)} ms ${gbs(wasmMs).padStart(5)} GB/s | js ${jsMs.toFixed(3).padStart(7)} ms ${gbs(jsMs).padStart(5)} GB/s | x${(jsMs / wasmMs).toFixed(1)}` +
      ` | items ${plan.phases[0]!.items} grain ${plan.phases[0]!.grain} | ${diffs} differing elements`,
  );
}
