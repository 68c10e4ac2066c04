/**
 * The benchmark workloads: what each computes, at which sizes, and the inputs every system
 * receives. Systems (bench/systems.ts) turn a Task into a runnable closure; bench/run.ts times it.
 */
import { mlpParams, type MlpParams, rng, uniform } from "./data.js";

/** What one workload asks a system to compute; the arrays are shared read-only inputs. */
export type Task =
  | { readonly kind: "elementwise"; readonly x: Float32Array }
  | { readonly kind: "matmul"; readonly a: Float32Array; readonly b: Float32Array; readonly n: number }
  | { readonly kind: "softmax"; readonly x: Float32Array; readonly rows: number; readonly cols: number }
  | { readonly kind: "mlp"; readonly x: Float32Array; readonly batch: number; readonly params: MlpParams }
  | { readonly kind: "add"; readonly a: Float32Array; readonly b: Float32Array }
  /**
   * One SGD training step of the MLP: softmax cross-entropy against one-hot `targets` [batch,
   * classes], gradients of every weight and bias, p <- p - lr * grad. Every run steps from the same
   * initial `params` (the new parameters are not fed back), so each run does identical work and
   * gives an identical, checkable output. Output: see TRAIN_OUTPUT.
   */
  | { readonly kind: "mlpTrain"; readonly x: Float32Array; readonly targets: Float32Array; readonly batch: number; readonly params: MlpParams; readonly lr: number }
  /** The MLP again, but every run builds a fresh compiled function (trace + compile + first run). */
  | { readonly kind: "mlpFirstCall"; readonly x: Float32Array; readonly batch: number; readonly params: MlpParams };

export type TaskKind = Task["kind"];

/**
 * What a training step returns to the host (and is checked): the loss, then the updated biases of
 * every layer, then the updated last-layer weights, concatenated. The first layers' updated
 * weights are computed by every system but not read back (400k floats a step would time a copy,
 * not training); their gradients flow through the checked biases of the layers below the top.
 */
export const TRAIN_OUTPUT = "loss, updated b1..bL, updated wL";

/** Concatenates a training step's host outputs in TRAIN_OUTPUT order. */
export function trainOutput(loss: number, biases: readonly ArrayLike<number>[], lastW: ArrayLike<number>): Float32Array {
  const n = 1 + biases.reduce((a, b) => a + b.length, 0) + lastW.length;
  const out = new Float32Array(n);
  out[0] = loss;
  let o = 1;
  for (const b of biases) {
    out.set(b, o);
    o += b.length;
  }
  out.set(lastW, o);
  return out;
}

/**
 * One timed call: compute from inputs already on the system's device and return the result as a
 * host Float32Array (so lazy systems finish their work, and every system pays its readback).
 */
export interface Prepared {
  run(): Float32Array | Promise<Float32Array>;
  /** Something a reader of the results must know about this system on this workload. */
  readonly note?: string;
  /** Frees what prepare() allocated (sessions, device tensors). */
  dispose?(): void | Promise<void>;
  /**
   * Makes this system's global state current again before a turn of timed samples (untimed):
   * systems are timed interleaved, and the two tfjs systems share one tfjs-core whose active
   * backend is global.
   */
  activate?(): void | Promise<void>;
}

export interface System {
  /** Short id used on the command line and in result files. */
  readonly id: string;
  readonly label: string;
  /**
   * Timed alone, after the interleaved systems, with nothing else prepared, because it would take
   * a core from every system timed beside it: onnxruntime's intra-op threads keep spinning while
   * a session exists (its non-spinning mode makes its own small calls slower instead), and
   * tfjs-cpu's calls leave so much garbage that V8's concurrent marking threads run through the
   * next system's turn (symtensor's 2-thread softmax: 0.42 ms beside it 0.66 ms); symtensor
   * eager's undisposed intermediates fill the WebAssembly memory budget the fn systems share.
   */
  readonly exclusive?: boolean;
  /** Loads the library (dynamic import, backend init). Throws when the peer cannot load. */
  load(): Promise<void>;
  /** The installed package version (after load), for the result file. */
  version(): string;
  /** Converts inputs to the system's own tensors (not timed); undefined when the system does not run this task. */
  prepare(task: Task): Promise<Prepared | undefined>;
}

export type Scale = "full" | "quick" | "tiny";

export interface Workload {
  /** `a`, `b256`, `c`, ...: the group letter, plus the size for the matmul sizes. */
  readonly id: string;
  /** The letter `--only` selects by. */
  readonly group: string;
  readonly title: string;
  /** Floating-point operations of one call, for GFLOP/s (counting a multiply-add as 2). */
  readonly flops?: number;
  /** Calls per timed sample: tiny workloads are timed in batches and reported per call. */
  readonly callsPerSample: number;
  /** Minimum timed samples (the median is reported). */
  readonly minRuns: number;
  readonly warmup: number;
  /** `close`: elementwise rtol/atol; `l1`: relative L1 error of the whole output (matmul). */
  readonly check: "close" | "l1";
  /** Show times in microseconds (per call) rather than milliseconds. */
  readonly micro: boolean;
  /** Builds the inputs (deterministic: a fixed seed per workload). */
  task(): Task;
  /** The task whose symtensor-eager output is the reference (the task itself unless it is a first-call task). */
  referenceTask(): Task;
}

export const RTOL = 1e-4;
export const ATOL = 1e-5;
export const L1_TOL = 1e-4;

interface Sizes {
  elementwise: number;
  matmul: readonly number[];
  softmax: readonly [number, number];
  mlpDims: readonly number[];
  mlpBatch: number;
  minRuns: number;
  firstCallRuns: number;
  addCalls: number;
  /** SGD learning rate of the training step (tiny: large, so the check sees the gradients). */
  trainLr: number;
}

const SIZES: Record<Scale, Sizes> = {
  full: { elementwise: 1 << 20, matmul: [256, 512, 1024], softmax: [512, 1024], mlpDims: [784, 512, 512, 10], mlpBatch: 64, minRuns: 20, firstCallRuns: 20, addCalls: 2000, trainLr: 0.01 },
  quick: { elementwise: 1 << 16, matmul: [64, 128], softmax: [64, 256], mlpDims: [784, 512, 512, 10], mlpBatch: 8, minRuns: 5, firstCallRuns: 3, addCalls: 200, trainLr: 0.01 },
  tiny: { elementwise: 1000, matmul: [16], softmax: [4, 33], mlpDims: [24, 16, 16, 10], mlpBatch: 3, minRuns: 1, firstCallRuns: 1, addCalls: 1, trainLr: 1 },
};

/** Caches a builder's result so inputs are generated once, and only for workloads that run. */
function once<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}

function mlpFlops(dims: readonly number[], batch: number): number {
  let f = 0;
  for (let i = 0; i + 1 < dims.length; i++) f += 2 * batch * dims[i]! * dims[i + 1]!;
  return f;
}

/** The workloads at a scale, in run order. */
export function workloads(scale: Scale): Workload[] {
  const s = SIZES[scale];
  const base = { callsPerSample: 1, minRuns: s.minRuns, warmup: scale === "tiny" ? 0 : 3, check: "close", micro: false } as const;
  const out: Workload[] = [];

  const ew = once((): Task => ({ kind: "elementwise", x: uniform(rng(1), s.elementwise, -4, 4) }));
  out.push({ ...base, id: "a", group: "a", title: `tanh(x*0.5+1)*x + sigmoid(x), ${s.elementwise} elements`, task: ew, referenceTask: ew });

  for (const n of s.matmul) {
    const mm = once((): Task => {
      const next = rng(1000 + n);
      return { kind: "matmul", n, a: uniform(next, n * n), b: uniform(next, n * n) };
    });
    out.push({ ...base, id: `b${n}`, group: "b", title: `matmul ${n}x${n} @ ${n}x${n}`, flops: 2 * n * n * n, check: "l1", task: mm, referenceTask: mm });
  }

  const [rows, cols] = s.softmax;
  const sm = once((): Task => ({ kind: "softmax", rows, cols, x: uniform(rng(3), rows * cols, -5, 5) }));
  out.push({ ...base, id: "c", group: "c", title: `softmax over the last axis of [${rows},${cols}]`, task: sm, referenceTask: sm });

  const mlpInputs = once(() => {
    const next = rng(4);
    return { x: uniform(next, s.mlpBatch * s.mlpDims[0]!, 0, 1), batch: s.mlpBatch, params: mlpParams(next, s.mlpDims) };
  });
  const mlp = once((): Task => ({ kind: "mlp", ...mlpInputs() }));
  const dims = s.mlpDims.join("-");
  out.push({ ...base, id: "d", group: "d", title: `MLP ${dims} (relu, softmax), batch ${s.mlpBatch}`, flops: mlpFlops(s.mlpDims, s.mlpBatch), task: mlp, referenceTask: mlp });

  const add = once((): Task => {
    const next = rng(5);
    return { kind: "add", a: uniform(next, 4), b: uniform(next, 4) };
  });
  out.push({ ...base, id: "e", group: "e", title: "add of two 4-element tensors + read into a TypedArray (µs per call)", callsPerSample: s.addCalls, micro: true, task: add, referenceTask: add });

  const first = once((): Task => ({ kind: "mlpFirstCall", ...mlpInputs() }));
  out.push({
    ...base,
    id: "f",
    group: "f",
    title: `first call of the MLP (trace + optimize + compile + first run), batch ${s.mlpBatch}`,
    minRuns: s.firstCallRuns,
    warmup: scale === "tiny" ? 0 : 1,
    task: first,
    referenceTask: mlp,
  });

  const train = once((): Task => {
    const inputs = mlpInputs();
    const classes = s.mlpDims[s.mlpDims.length - 1]!;
    const next = rng(7);
    const targets = new Float32Array(s.mlpBatch * classes);
    for (let i = 0; i < s.mlpBatch; i++) targets[i * classes + Math.floor(next() * classes)] = 1;
    return { kind: "mlpTrain", ...inputs, targets, lr: s.trainLr };
  });
  out.push({
    ...base,
    id: "g",
    group: "g",
    title: `one training step of the MLP ${dims}-softmax cross-entropy, batch ${s.mlpBatch}: loss, gradients, SGD (lr ${s.trainLr})`,
    // Forward matmuls, plus two per layer backward (the input gradient of the first layer is not needed).
    flops: 3 * mlpFlops(s.mlpDims, s.mlpBatch) - 2 * s.mlpBatch * s.mlpDims[0]! * s.mlpDims[1]!,
    task: train,
    referenceTask: train,
  });
  return out;
}

/** Workloads whose group letter or id is in `only` (all when `only` is empty). */
export function selectWorkloads(all: readonly Workload[], only: readonly string[]): Workload[] {
  if (only.length === 0) return [...all];
  return all.filter((w) => only.includes(w.group) || only.includes(w.id));
}

export interface CheckResult {
  readonly ok: boolean;
  /** Human-readable measure of the worst difference. */
  readonly detail: string;
}

/** Compares a system's output with the reference (symtensor eager) the way the workload asks. */
export function checkOutput(w: Pick<Workload, "check">, got: Float32Array, want: Float32Array): CheckResult {
  if (got.length !== want.length) return { ok: false, detail: `length ${got.length} != ${want.length}` };
  if (w.check === "l1") {
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i]! - want[i]!);
      diff += Number.isNaN(d) ? Infinity : d;
      norm += Math.abs(want[i]!);
    }
    const rel = norm === 0 ? diff : diff / norm;
    return { ok: rel <= L1_TOL, detail: `relative L1 error ${rel.toExponential(2)}` };
  }
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const e = want[i]!;
    // NaN matches NaN; otherwise |g - e| <= atol + rtol*|e|, as numpy.allclose.
    if (Number.isNaN(e) && Number.isNaN(g)) continue;
    const excess = Math.abs(g - e) - (ATOL + RTOL * Math.abs(e));
    if (!(excess <= worst)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      worstAt = i;
    }
  }
  if (worstAt < 0) return { ok: true, detail: "within rtol 1e-4, atol 1e-5" };
  return { ok: false, detail: `element ${worstAt}: got ${got[worstAt]}, want ${want[worstAt]}` };
}
