/**
 * The systems the benchmark compares, in run order. symtensor and the plain-JS loops live here;
 * each peer library has its own file and is loaded with a dynamic import, so a peer that cannot
 * load is reported (and skipped) without stopping the others.
 */
import * as st from "../src/index.js";
// Not public API: the CPU backend's process-wide cache of generated kernels, cleared in (f).
import { clearKernelCache } from "../src/exec/cpu/compile.js";
import type { MlpParams } from "./data.js";
import * as plain from "./plain.js";
import { jaxSystem } from "./sys-jax.js";
import { ortSystem } from "./sys-ort.js";
import { tfjsSystem } from "./sys-tfjs.js";
import { type Prepared, type System, type Task, trainOutput } from "./workloads.js";

/** The result of a symtensor computation as a host Float32Array (copied by .numpy()). */
function f32(t: st.Tensor): Float32Array {
  const data = t.numpy().data;
  if (!(data instanceof Float32Array)) throw new Error(`expected a float32 result, got ${t.dtype}`);
  return data;
}

/** Reads a result and frees it at once, as the tfjs systems do with `dispose()`. */
function read(t: st.Tensor): Float32Array {
  const data = f32(t);
  t.dispose();
  return data;
}

interface StParams {
  readonly w: readonly st.Tensor[];
  readonly b: readonly st.Tensor[];
}

function stParams(p: MlpParams): StParams {
  return {
    w: p.w.map((w, i) => st.reshape(st.tensor(w), [p.dims[i]!, p.dims[i + 1]!])),
    b: p.b.map((b) => st.tensor(b)),
  };
}

/** The workload functions, written once and used both eagerly and under fn(). */
const stFns = {
  elementwise: (x: st.Tensor): st.Tensor => st.add(st.mul(st.tanh(st.add(st.mul(x, 0.5), 1)), x), st.sigmoid(x)),
  matmul: (a: st.Tensor, b: st.Tensor): st.Tensor => st.matmul(a, b),
  softmax: (x: st.Tensor): st.Tensor => st.softmax(x, -1),
  mlp: (x: st.Tensor, p: StParams): st.Tensor => {
    let h = x;
    for (let l = 0; l < p.w.length; l++) {
      h = st.add(st.matmul(h, p.w[l]!), p.b[l]!);
      if (l + 1 < p.w.length) h = st.relu(h);
    }
    return st.softmax(h, -1);
  },
  add: (a: st.Tensor, b: st.Tensor): st.Tensor => st.add(a, b),
};

/** The MLP's logits (no softmax): the training loss applies logSoftmax itself. */
function stLogits(x: st.Tensor, p: StParams): st.Tensor {
  let h = x;
  for (let l = 0; l < p.w.length; l++) {
    h = st.add(st.matmul(h, p.w[l]!), p.b[l]!);
    if (l + 1 < p.w.length) h = st.relu(h);
  }
  return h;
}

/** Mean softmax cross-entropy against one-hot targets. */
function stLoss(p: StParams, x: st.Tensor, targets: st.Tensor): st.Tensor {
  return st.neg(st.reduceMean(st.reduceSum(st.mul(st.logSoftmax(stLogits(x, p), -1), targets), -1)));
}

interface StStep {
  readonly loss: st.Tensor;
  readonly params: StParams;
}

/** One SGD step: valueAndGrad + sgd, the same code eagerly and under fn(). */
function stTrainStep(lr: number): (p: StParams, x: st.Tensor, targets: st.Tensor) => StStep {
  const opt = st.sgd({ lr });
  const lossAndGrad = st.valueAndGrad(stLoss);
  return (p, x, targets) => {
    const [loss, grads] = lossAndGrad(p, x, targets);
    const [next] = opt.update(grads, opt.init(p), p);
    return { loss, params: next as StParams };
  };
}

/**
 * symtensor, eagerly (`compiled` false) or through fn() (`compiled` true); `threads` pins the
 * WebAssembly kernels' thread count for this system's runs (default: the library's own default).
 */
function symtensorSystem(compiled: boolean, threads?: number): System {
  const defaultThreads = st.getNumThreads();
  const pinned = <A extends unknown[], R>(f: (...args: A) => R): ((...args: A) => R) =>
    threads === undefined
      ? f
      : (...args: A): R => {
          st.setNumThreads(threads);
          try {
            return f(...args);
          } finally {
            st.setNumThreads(defaultThreads);
          }
        };
  // fn() wrappers are made once per system so their trace caches persist across timed runs.
  const wrap = <A extends unknown[]>(name: string, f: (...args: A) => st.Tensor): ((...args: A) => st.Tensor) => (compiled ? pinned(st.fn(f, { name })) : f);
  const suffix = threads === undefined ? "" : `-${threads}t`;
  return {
    id: (compiled ? "st-fn" : "st-eager") + suffix,
    // Eager code drops its intermediates undisposed; they hold WebAssembly memory until the
    // collector and the event loop return it, so other symtensor systems timed beside it would
    // find the resident budget spent.
    exclusive: !compiled,
    label: (compiled ? "symtensor fn" : "symtensor eager") + (threads === undefined ? ` (${defaultThreads} threads)` : ` (${threads} thread${threads === 1 ? "" : "s"})`),
    load: async () => {},
    version: () => st.VERSION,
    prepare: async (task: Task): Promise<Prepared | undefined> => {
      switch (task.kind) {
        case "elementwise": {
          const x = st.tensor(task.x);
          const f = wrap("elementwise", stFns.elementwise);
          return { run: () => read(f(x)) };
        }
        case "matmul": {
          const a = st.reshape(st.tensor(task.a), [task.n, task.n]);
          const b = st.reshape(st.tensor(task.b), [task.n, task.n]);
          const f = wrap("matmul", stFns.matmul);
          return { run: () => read(f(a, b)) };
        }
        case "softmax": {
          const x = st.reshape(st.tensor(task.x), [task.rows, task.cols]);
          const f = wrap("softmax", stFns.softmax);
          return { run: () => read(f(x)) };
        }
        case "mlp": {
          const x = st.reshape(st.tensor(task.x), [task.batch, task.params.dims[0]!]);
          const p = stParams(task.params);
          const f = wrap("mlp", stFns.mlp);
          return { run: () => read(f(x, p)) };
        }
        case "add": {
          const a = st.tensor(task.a);
          const b = st.tensor(task.b);
          const f = wrap("add", stFns.add);
          return { run: () => read(f(a, b)) };
        }
        case "mlpTrain": {
          const x = st.reshape(st.tensor(task.x), [task.batch, task.params.dims[0]!]);
          const targets = st.reshape(st.tensor(task.targets), [task.batch, task.params.dims.at(-1)!]);
          const p = stParams(task.params);
          const step = stTrainStep(task.lr);
          const f = compiled ? pinned(st.fn(step, { name: "trainStep" })) : step;
          return {
            run: () => {
              const r = f(p, x, targets);
              const out = trainOutput(r.loss.item() as number, r.params.b.map(f32), f32(r.params.w.at(-1)!));
              for (const t of [r.loss, ...r.params.w, ...r.params.b]) t.dispose();
              return out;
            },
          };
        }
        case "mlpFirstCall": {
          if (!compiled) return undefined;
          const x = st.reshape(st.tensor(task.x), [task.batch, task.params.dims[0]!]);
          const p = stParams(task.params);
          // A fresh fn() per run, with the generated-kernel cache emptied first: each run traces,
          // optimizes, generates and compiles every kernel, and runs once, as a process's first call.
          return {
            note: "fresh fn per sample, generated-kernel cache cleared before each",
            run: () => {
              clearKernelCache();
              return f32(pinned(st.fn(stFns.mlp, { name: "mlp" }))(x, p));
            },
          };
        }
      }
    },
  };
}

/** Hand-written loops; `blocked` is the extra matmul variant that tiles for the cache. */
function plainSystem(blocked: boolean): System {
  return {
    id: blocked ? "js-blocked" : "js",
    label: blocked ? "plain JS (blocked matmul)" : "plain JS loop",
    load: async () => {},
    version: () => process.version,
    prepare: async (task: Task): Promise<Prepared | undefined> => {
      if (blocked) {
        if (task.kind !== "matmul") return undefined;
        const { a, b, n } = task;
        return { run: () => plain.matmulBlocked(a, b, n, n, n) };
      }
      switch (task.kind) {
        case "elementwise": {
          const { x } = task;
          return { run: () => plain.elementwise(x) };
        }
        case "matmul": {
          const { a, b, n } = task;
          return { run: () => plain.matmulNaive(a, b, n, n, n) };
        }
        case "softmax": {
          const { x, rows, cols } = task;
          return { run: () => plain.softmax(x, rows, cols) };
        }
        case "mlp": {
          const { x, batch, params } = task;
          return { run: () => plain.mlp(x, batch, params) };
        }
        case "add": {
          const { a, b } = task;
          return { run: () => plain.add(a, b) };
        }
        case "mlpFirstCall":
          return undefined; // nothing to compile
        case "mlpTrain":
          return undefined; // no hand-written backward pass (optional in the issue)
      }
    },
  };
}

/** Every system, in run order: symtensor eager first, because its output is the reference. */
export function allSystems(): System[] {
  return [
    symtensorSystem(false),
    symtensorSystem(true),
    symtensorSystem(true, 1),
    plainSystem(false),
    plainSystem(true),
    tfjsSystem("cpu"),
    tfjsSystem("wasm"),
    ortSystem(1),
    ortSystem(2),
    jaxSystem(),
  ];
}
