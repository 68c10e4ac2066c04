/**
 * TensorFlow.js peers: @tensorflow/tfjs-core with the plain-JS CPU backend, and with the
 * WebAssembly backend (XNNPACK; SIMD on; threads off, because Node has no cross-origin-isolated
 * SharedArrayBuffer workers for it).
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { MlpParams } from "./data.js";
import { registerTrainingGradients } from "./tfjs-grads.js";
import { type Prepared, type System, type Task, trainOutput } from "./workloads.js";

type Tf = typeof import("@tensorflow/tfjs-core");
type TfTensor = import("@tensorflow/tfjs-core").Tensor;

/** Shared by both tfjs systems: one tfjs-core instance whose active backend is switched. */
let tfModule: Promise<Tf> | undefined;

async function loadCore(): Promise<Tf> {
  tfModule ??= (async () => {
    const tf = await import("@tensorflow/tfjs-core");
    registerTrainingGradients(tf);
    // Production mode, as deployed apps run: skips debug checks and the tfjs-node advert.
    tf.enableProdMode();
    return tf;
  })();
  return tfModule;
}

async function loadBackend(tf: Tf, backend: "cpu" | "wasm"): Promise<void> {
  if (backend === "cpu") {
    await import("@tensorflow/tfjs-backend-cpu");
  } else {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // The Node (CommonJS) build finds its .wasm files beside itself; the path is set anyway so a
    // bundled or ESM build would find them too.
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${dirname(require.resolve("@tensorflow/tfjs-backend-wasm"))}/`);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialize`);
  await tf.ready();
}

function f32(data: unknown): Float32Array {
  if (!(data instanceof Float32Array)) throw new Error("tfjs returned a non-float32 result");
  return data;
}

export function tfjsSystem(backend: "cpu" | "wasm"): System {
  let tf: Tf | undefined;
  const core = (): Tf => {
    if (!tf) throw new Error("tfjs used before load()");
    return tf;
  };

  /** Runs f inside tidy (intermediates freed), reads the result, frees it. */
  const readOnce = (f: () => TfTensor): Float32Array => {
    const t = core();
    const y = t.tidy(f);
    const data = f32(y.dataSync());
    y.dispose();
    return data;
  };

  const mlpParams = (p: MlpParams): { w: TfTensor[]; b: TfTensor[] } => {
    const t = core();
    return {
      w: p.w.map((w, i) => t.tensor2d(w, [p.dims[i]!, p.dims[i + 1]!])),
      b: p.b.map((b) => t.tensor1d(b)),
    };
  };

  return {
    id: `tfjs-${backend}`,
    label: `tfjs ${backend}`,
    exclusive: backend === "cpu",
    load: async () => {
      tf = await loadCore();
      await loadBackend(tf, backend);
    },
    version: () => core().version_core,
    prepare: async (task: Task): Promise<Prepared | undefined> => {
      const t = core();
      // The backend is switched per prepare: both tfjs systems share one tfjs-core.
      if (!(await t.setBackend(backend))) throw new Error(`tfjs backend ${backend} is not available`);
      const held: TfTensor[] = [];
      const keep = <T extends TfTensor>(x: T): T => {
        held.push(x);
        return x;
      };
      const dispose = (): void => held.forEach((x) => x.dispose());
      const activate = async (): Promise<void> => {
        if (t.getBackend() !== backend && !(await t.setBackend(backend))) throw new Error(`tfjs backend ${backend} is not available`);
      };
      switch (task.kind) {
        case "elementwise": {
          const x = keep(t.tensor1d(task.x));
          return { run: () => readOnce(() => t.add(t.mul(t.tanh(t.add(t.mul(x, 0.5), 1)), x), t.sigmoid(x))), dispose, activate };
        }
        case "matmul": {
          const a = keep(t.tensor2d(task.a, [task.n, task.n]));
          const b = keep(t.tensor2d(task.b, [task.n, task.n]));
          return { run: () => readOnce(() => t.matMul(a, b)), dispose, activate };
        }
        case "softmax": {
          const x = keep(t.tensor2d(task.x, [task.rows, task.cols]));
          return { run: () => readOnce(() => t.softmax(x)), dispose, activate };
        }
        case "mlp": {
          const x = keep(t.tensor2d(task.x, [task.batch, task.params.dims[0]!]));
          const p = mlpParams(task.params);
          held.push(...p.w, ...p.b);
          const forward = (): TfTensor => {
            let h: TfTensor = x;
            for (let l = 0; l < p.w.length; l++) {
              h = t.add(t.matMul(h, p.w[l]!), p.b[l]!);
              if (l + 1 < p.w.length) h = t.relu(h);
            }
            return t.softmax(h);
          };
          return { run: () => readOnce(forward), dispose, activate };
        }
        case "add": {
          const a = keep(t.tensor1d(task.a));
          const b = keep(t.tensor1d(task.b));
          return { run: () => readOnce(() => t.add(a, b)), dispose, activate };
        }
        case "mlpTrain": {
          const dims = task.params.dims;
          const x = keep(t.tensor2d(task.x, [task.batch, dims[0]!]));
          const targets = keep(t.tensor2d(task.targets, [task.batch, dims.at(-1)!]));
          const p = mlpParams(task.params);
          held.push(...p.w, ...p.b);
          const layers = p.w.length;
          const params = [...p.w, ...p.b];
          // tf.valueAndGrads differentiates with respect to its tensor arguments: [w1..wL, b1..bL].
          const lossAndGrads = t.valueAndGrads((...args: TfTensor[]): TfTensor => {
            let h: TfTensor = x;
            for (let l = 0; l < layers; l++) {
              h = t.add(t.matMul(h, args[l]!), args[layers + l]!);
              if (l + 1 < layers) h = t.relu(h);
            }
            return t.neg(t.mean(t.sum(t.mul(t.logSoftmax(h), targets), -1)));
          });
          const lr = t.scalar(task.lr);
          held.push(lr);
          return {
            run: () => {
              const out = t.tidy(() => {
                const { value, grads } = lossAndGrads(params);
                return [value, ...params.map((q, i) => t.sub(q, t.mul(grads[i]!, lr)))];
              });
              try {
                const loss = f32(out[0]!.dataSync())[0]!;
                const next = out.slice(1);
                const biases = next.slice(layers).map((b) => f32(b.dataSync()));
                return trainOutput(loss, biases, f32(next[layers - 1]!.dataSync()));
              } finally {
                out.forEach((o) => o.dispose());
              }
            },
            dispose,
            activate,
          };
        }
        case "mlpFirstCall":
          return undefined; // eager only: no compile step to measure
      }
    },
  };
}
