/**
 * The WebGPU bench: symtensor's webgpu device (fn(f, { device: "webgpu" })) and, in the same
 * process on the same GPU, @tensorflow/tfjs-backend-webgpu, on the bench workloads: elementwise
 * chain (1M, 16M), matmul (1024, 2048, 4096), softmax [512,1024], MLP 784-512-512-10 batch 64.
 * Writes bench/results/webgpu.json.
 *
 * Timing: inputs live on the GPU; a sample runs the function `reps` times (results disposed) and
 * then waits for the queue (`onSubmittedWorkDone`), so it measures GPU execution plus submission,
 * without readback; the median per-call time of the samples is reported. Elementwise reports
 * bandwidth (bytes read + written per second), matmul TFLOP/s (2n^3 per call). Each output is
 * checked once against a CPU reference (sampled rows for matmul).
 *
 * Run: npx tsx bench/webgpu.ts [--quick] (quick: small sizes, for SwiftShader without a GPU).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as st from "../src/index.js";
import { getDefaultDevice, initWebGPU, resetTransferStats, synchronize, transferStats } from "../src/trace/device.js";
import { mlpParams, rng, uniform } from "./data.js";
import * as plain from "./plain.js";

const quick = process.argv.includes("--quick");

interface Work {
  readonly id: string;
  readonly title: string;
  /** Bytes moved per call (elementwise) or flops per call (matmul, mlp). */
  readonly bytes?: number;
  readonly flops?: number;
  /** Inputs as host arrays with shapes. */
  readonly inputs: readonly { data: Float32Array; shape: number[] }[];
  readonly st: (...xs: st.Tensor[]) => st.Tensor;
  readonly tf: (tf: Tf, ...xs: TfTensor[]) => TfTensor;
  /** Checks a host copy of the output; returns the max error found. */
  readonly check: (out: Float32Array) => number;
}

type Tf = typeof import("@tensorflow/tfjs-core");
type TfTensor = import("@tensorflow/tfjs-core").Tensor;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return a.length === b.length ? m : Infinity;
};

function works(): Work[] {
  const out: Work[] = [];
  for (const n of quick ? [1 << 16, 1 << 18] : [1 << 20, 1 << 24, 1 << 26]) {
    const x = uniform(rng(1), n, -4, 4);
    out.push({
      id: `elementwise-${n}`,
      title: `tanh(x*0.5+1)*x + sigmoid(x), ${n} elements`,
      bytes: 2 * 4 * n,
      inputs: [{ data: x, shape: [n] }],
      st: (t) => st.add(st.mul(st.tanh(st.add(st.mul(t, 0.5), 1)), t), st.sigmoid(t)),
      tf: (tf, t) => tf.add(tf.mul(tf.tanh(tf.add(tf.mul(t, 0.5), 1)), t), tf.sigmoid(t)),
      check: (o) => maxAbsDiff(o, plain.elementwise(x)),
    });
  }
  for (const n of quick ? [128, 256] : [1024, 2048, 4096]) {
    const a = uniform(rng(2), n * n, -1, 1);
    const b = uniform(rng(3), n * n, -1, 1);
    out.push({
      id: `matmul-${n}`,
      title: `matmul ${n}x${n} @ ${n}x${n}`,
      flops: 2 * n ** 3,
      inputs: [
        { data: a, shape: [n, n] },
        { data: b, shape: [n, n] },
      ],
      st: (x, y) => st.matmul(x, y),
      tf: (tf, x, y) => tf.matMul(x as never, y as never),
      check: (o) => {
        // Eight sampled rows, computed in float64 on the host.
        let m = 0;
        for (let s = 0; s < 8; s++) {
          const i = Math.floor(((s + 0.5) * n) / 8);
          for (let j = 0; j < n; j++) {
            let acc = 0;
            for (let k = 0; k < n; k++) acc += a[i * n + k]! * b[k * n + j]!;
            m = Math.max(m, Math.abs(o[i * n + j]! - acc) / Math.max(1, Math.abs(acc)));
          }
        }
        return m;
      },
    });
  }
  const [rows, cols] = quick ? [64, 256] : [512, 1024];
  const sx = uniform(rng(4), rows * cols, -5, 5);
  out.push({
    id: `softmax-${rows}x${cols}`,
    title: `softmax over the last axis of [${rows},${cols}]`,
    bytes: 2 * 4 * rows * cols,
    inputs: [{ data: sx, shape: [rows, cols] }],
    st: (t) => st.softmax(t, -1),
    tf: (tf, t) => tf.softmax(t),
    check: (o) => maxAbsDiff(o, plain.softmax(sx, rows, cols)),
  });
  const dims = [784, 512, 512, 10];
  const batch = quick ? 8 : 64;
  const next = rng(5);
  const mx = uniform(next, batch * dims[0]!, 0, 1);
  const p = mlpParams(next, dims);
  let flops = 0;
  for (let i = 0; i + 1 < dims.length; i++) flops += 2 * batch * dims[i]! * dims[i + 1]!;
  const layers = p.w.length;
  out.push({
    id: `mlp-${batch}`,
    title: `MLP ${dims.join("-")} (relu, softmax), batch ${batch}`,
    flops,
    inputs: [{ data: mx, shape: [batch, dims[0]!] }, ...p.w.map((w, i) => ({ data: w, shape: [dims[i]!, dims[i + 1]!] })), ...p.b.map((b) => ({ data: b, shape: [b.length] }))],
    st: (x, ...wb) => {
      let h = x;
      for (let l = 0; l < layers; l++) {
        h = st.add(st.matmul(h, wb[l]!), wb[layers + l]!);
        if (l + 1 < layers) h = st.relu(h);
      }
      return st.softmax(h, -1);
    },
    tf: (tf, x, ...wb) => {
      let h = x;
      for (let l = 0; l < layers; l++) {
        h = tf.add(tf.matMul(h as never, wb[l]! as never), wb[layers + l]!);
        if (l + 1 < layers) h = tf.relu(h);
      }
      return tf.softmax(h);
    },
    check: (o) => maxAbsDiff(o, plain.mlp(mx, batch, p)),
  });
  return out;
}

interface Timing {
  medianMs: number;
  samples: number;
  reps: number;
  maxErr: number;
  gbps?: number;
  tflops?: number;
  error?: string;
}

/** Median per-call time: samples of `reps` calls each, every sample ended by `sync`. */
async function time(call: () => void, sync: () => Promise<void>, budgetMs: number): Promise<{ medianMs: number; samples: number; reps: number }> {
  // Warm up: compile the pipelines, then keep the GPU busy for 250 ms so its clocks are up (a cold
  // H200 ran the first 4096 matmuls at a third of its speed); then size reps so one sample takes
  // about 20 ms.
  call();
  await sync();
  const warm = performance.now() + 250;
  while (performance.now() < warm) {
    call();
    await sync();
  }
  let t0 = performance.now();
  call();
  await sync();
  const one = Math.max(performance.now() - t0, 0.01);
  const reps = Math.max(1, Math.min(200, Math.round(20 / one)));
  const per: number[] = [];
  const end = performance.now() + budgetMs;
  while (per.length < 5 || (performance.now() < end && per.length < 50)) {
    t0 = performance.now();
    for (let r = 0; r < reps; r++) call();
    await sync();
    per.push((performance.now() - t0) / reps);
  }
  per.sort((a, b) => a - b);
  return { medianMs: per[per.length >> 1]!, samples: per.length, reps };
}

function metrics(w: Work, ms: number): { gbps?: number; tflops?: number } {
  return {
    ...(w.bytes ? { gbps: w.bytes / (ms * 1e6) } : {}),
    ...(w.flops ? { tflops: w.flops / (ms * 1e9) } : {}),
  };
}

async function runSymtensor(w: Work): Promise<Timing> {
  const xs = w.inputs.map((i) => st.tensor(i.data, { device: "webgpu" }).reshape(i.shape));
  await synchronize();
  const f = st.fn(w.st, { device: "webgpu", name: w.id });
  try {
    const out = f(...xs);
    const maxErr = w.check((await out.data()) as Float32Array);
    out.dispose();
    const t = await time(() => f(...xs).dispose(), synchronize, quick ? 300 : 2000);
    return { ...t, maxErr, ...metrics(w, t.medianMs) };
  } finally {
    for (const x of xs) x.dispose();
  }
}

async function runTfjs(tf: Tf, w: Work): Promise<Timing> {
  const backend = tf.backend() as unknown as { submitQueue(): void; endComputePassEncoder(): void; ensureCommandEncoderReady(): void; device: GPUDevice };
  const xs = w.inputs.map((i) => tf.tensor(i.data, i.shape));
  const sync = async (): Promise<void> => {
    // tfjs keeps a compute pass open and submits lazily: end and submit it as its own readback does.
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.submitQueue();
    await backend.device.queue.onSubmittedWorkDone();
  };
  try {
    const out = tf.tidy(() => w.tf(tf, ...xs));
    const maxErr = w.check((await out.data()) as Float32Array);
    out.dispose();
    const t = await time(() => tf.tidy(() => w.tf(tf, ...xs)).dispose(), sync, quick ? 300 : 2000);
    return { ...t, maxErr, ...metrics(w, t.medianMs) };
  } finally {
    for (const x of xs) x.dispose();
  }
}

/**
 * Converting inside a loop vs once after it: 100 steps of x = step(x) on [rows, 1024], reading the
 * value back to the host every step (await numpyAsync()) or only after the loop.
 */
async function transfers(): Promise<Record<string, unknown>> {
  const steps = 100;
  const n = quick ? 1 << 14 : 1 << 20;
  const step = st.fn((x: st.Tensor) => st.mul(st.tanh(x), 0.9), { device: "webgpu", name: "step" });
  const run = async (readEachStep: boolean): Promise<{ ms: number; stats: unknown }> => {
    const x0 = st.tensor(uniform(rng(9), n, -1, 1), { device: "webgpu" });
    step(x0).dispose();
    await synchronize();
    resetTransferStats();
    const t0 = performance.now();
    let x = x0;
    for (let i = 0; i < steps; i++) {
      const y = step(x);
      if (x !== x0) x.dispose();
      x = y;
      if (readEachStep) await x.numpyAsync();
    }
    await x.numpyAsync();
    const ms = performance.now() - t0;
    x.dispose();
    x0.dispose();
    return { ms, stats: transferStats().webgpu };
  };
  const inside = await run(true);
  const after = await run(false);
  const out = { steps, elements: n, readEveryStep: inside, readOnceAfter: after, ratio: inside.ms / after.ms };
  console.log(`transfers: ${steps} steps of ${n} elements: read every step ${inside.ms.toFixed(1)} ms, once after ${after.ms.toFixed(1)} ms (${out.ratio.toFixed(1)}x)`);
  return out;
}

async function main(): Promise<void> {
  // One GPU object for both systems: tfjs finds it as navigator.gpu, symtensor too.
  if (process.env["VK_ICD_FILENAMES"] === undefined) {
    const { existsSync } = await import("node:fs");
    if (existsSync("/usr/lib/chromium/vk_swiftshader_icd.json")) process.env["VK_ICD_FILENAMES"] = "/usr/lib/chromium/vk_swiftshader_icd.json";
  }
  const webgpu = (await import("webgpu")) as { create(o: string[]): GPU; globals: object };
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  (globalThis as { navigator?: unknown }).navigator = { gpu };
  const info = await initWebGPU();
  console.log(`symtensor webgpu: ${JSON.stringify(info.adapter)} (default device ${getDefaultDevice()})`);

  let tf: Tf | undefined;
  let tfError: string | undefined;
  try {
    tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-webgpu");
    if (!(await tf.setBackend("webgpu"))) throw new Error("setBackend(webgpu) returned false");
    await tf.ready();
    tf.enableProdMode();
  } catch (e) {
    tfError = e instanceof Error ? e.message : String(e);
    tf = undefined;
    console.log(`tfjs webgpu unavailable: ${tfError}`);
  }

  const transfer = await transfers();
  const results: { id: string; title: string; symtensor: Timing; tfjs?: Timing }[] = [];
  for (const w of works()) {
    const row: (typeof results)[number] = { id: w.id, title: w.title, symtensor: await runSymtensor(w).catch((e: unknown) => failed(e)) };
    if (tf) row.tfjs = await runTfjs(tf, w).catch((e: unknown) => failed(e));
    results.push(row);
    const show = (t: Timing | undefined): string =>
      !t ? "-" : t.error ? `error: ${t.error.split("\n")[0]}` : `${t.medianMs.toFixed(3)} ms${t.gbps ? ` ${t.gbps.toFixed(1)} GB/s` : ""}${t.tflops ? ` ${t.tflops.toFixed(3)} TFLOP/s` : ""} (err ${t.maxErr.toExponential(1)})`;
    console.log(`${w.id.padEnd(20)} symtensor ${show(row.symtensor)} | tfjs-webgpu ${show(row.tfjs)}`);
  }
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  const file = new URL("./results/webgpu.json", import.meta.url);
  const doc = { date: new Date().toISOString(), quick, adapter: info.adapter, limits: info.limits, timing: "median per call, GPU work + submit, no readback (onSubmittedWorkDone)", tfjsError: tfError, transfers: transfer, results };
  writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
  console.log(`wrote ${file.pathname}`);
}

function failed(e: unknown): Timing {
  return { medianMs: NaN, samples: 0, reps: 0, maxErr: NaN, error: e instanceof Error ? e.message : String(e) };
}

await main();
// Dawn keeps the process alive; exit explicitly once the file is written.
process.exit(0);
