/**
 * jax-js: JAX's API in JavaScript; `jit` fuses the traced function into generated WebAssembly
 * kernels on the "wasm" device. In Node there is no Web Worker global, so it runs on one thread.
 * Arrays are reference-counted: every function argument is consumed, hence the `.ref`s.
 */
import { packageVersion } from "./pkg.js";
import { type Prepared, type System, type Task, trainOutput } from "./workloads.js";

type Jax = typeof import("@jax-js/jax");
type JArray = import("@jax-js/jax").numpy.Array;

/** A type alias, not an interface: jax-js pytrees need an implicit index signature. */
type JParams = {
  w: JArray[];
  b: JArray[];
};

let jaxModule: Promise<Jax> | undefined;

function f32(data: unknown): Float32Array {
  if (!(data instanceof Float32Array)) throw new Error("jax-js returned a non-float32 result");
  return data;
}

export function jaxSystem(): System {
  let jax: Jax | undefined;
  const lib = (): Jax => {
    if (!jax) throw new Error("jax-js used before load()");
    return jax;
  };

  /** The MLP forward pass; each parameter is used exactly once, x once, so no extra refs. */
  const mlpForward = (x: JArray, p: JParams): JArray => {
    const { numpy: np, nn } = lib();
    let h = x;
    for (let l = 0; l < p.w.length; l++) {
      h = np.add(np.matmul(h, p.w[l]!), p.b[l]!);
      if (l + 1 < p.w.length) h = nn.relu(h);
    }
    return nn.softmax(h, -1);
  };

  /** Mean softmax cross-entropy; like mlpForward, every argument is used exactly once. */
  const mlpLoss = (p: JParams, x: JArray, targets: JArray): JArray => {
    const { numpy: np, nn } = lib();
    let h = x;
    for (let l = 0; l < p.w.length; l++) {
      h = np.add(np.matmul(h, p.w[l]!), p.b[l]!);
      if (l + 1 < p.w.length) h = nn.relu(h);
    }
    return np.negative(np.mean(np.sum(np.multiply(nn.logSoftmax(h, -1), targets), -1)));
  };

  return {
    id: "jax-jit",
    label: "jax-js jit (wasm)",
    load: async () => {
      jaxModule ??= (async () => {
        const j = await import("@jax-js/jax");
        // init() with no argument probes navigator.gpu and throws in Node; ask for wasm only.
        await j.init("wasm");
        j.defaultDevice("wasm");
        return j;
      })();
      jax = await jaxModule;
    },
    version: () => packageVersion("@jax-js/jax"),
    prepare: async (task: Task): Promise<Prepared | undefined> => {
      const { numpy: np, nn, jit, valueAndGrad } = lib();
      const held: JArray[] = [];
      const keep = (x: JArray): JArray => {
        held.push(x);
        return x;
      };
      const disposeHeld = (): void => held.forEach((x) => x.dispose());
      switch (task.kind) {
        case "elementwise": {
          const x = keep(np.array(task.x));
          const f = jit((v: JArray) => np.tanh(v.ref.mul(0.5).add(1)).mul(v.ref).add(nn.sigmoid(v)));
          return { run: () => f32(f(x.ref).dataSync()), dispose: () => (disposeHeld(), f.dispose()) };
        }
        case "matmul": {
          const a = keep(np.array(task.a).reshape([task.n, task.n]));
          const b = keep(np.array(task.b).reshape([task.n, task.n]));
          const f = jit((u: JArray, v: JArray) => np.matmul(u, v));
          return { run: () => f32(f(a.ref, b.ref).dataSync()), dispose: () => (disposeHeld(), f.dispose()) };
        }
        case "softmax": {
          const x = keep(np.array(task.x).reshape([task.rows, task.cols]));
          const f = jit((v: JArray) => nn.softmax(v, -1));
          return { run: () => f32(f(x.ref).dataSync()), dispose: () => (disposeHeld(), f.dispose()) };
        }
        case "mlp":
        case "mlpFirstCall": {
          const dims = task.params.dims;
          const x = keep(np.array(task.x).reshape([task.batch, dims[0]!]));
          const p: JParams = {
            w: task.params.w.map((w, i) => keep(np.array(w).reshape([dims[i]!, dims[i + 1]!]))),
            b: task.params.b.map((b) => keep(np.array(b))),
          };
          const refs = (): JParams => ({ w: p.w.map((w) => w.ref), b: p.b.map((b) => b.ref) });
          if (task.kind === "mlpFirstCall") {
            // A fresh jit of a fresh closure per run, so it traces again. jax-js keeps compiled
            // programs in a process-wide cache keyed by the jaxpr's hash, so only the first
            // (cold) call compiles; later ones trace, hit that cache and run.
            return {
              note: "jax-js caches compiled programs process-wide by jaxpr hash: after the cold call, samples trace + reuse the compiled program",
              run: () => {
                const f = jit((v: JArray, q: JParams) => mlpForward(v, q));
                try {
                  return f32(f(x.ref, refs()).dataSync());
                } finally {
                  f.dispose();
                }
              },
              dispose: disposeHeld,
            };
          }
          const f = jit(mlpForward);
          return { run: () => f32(f(x.ref, refs()).dataSync()), dispose: () => (disposeHeld(), f.dispose()) };
        }
        case "mlpTrain": {
          const dims = task.params.dims;
          const x = keep(np.array(task.x).reshape([task.batch, dims[0]!]));
          const targets = keep(np.array(task.targets).reshape([task.batch, dims.at(-1)!]));
          const p: JParams = {
            w: task.params.w.map((w, i) => keep(np.array(w).reshape([dims[i]!, dims[i + 1]!]))),
            b: task.params.b.map((b) => keep(np.array(b))),
          };
          const refs = (q: JParams): JParams => ({ w: q.w.map((w) => w.ref), b: q.b.map((b) => b.ref) });
          const { lr } = task;
          // jit(valueAndGrad(loss)) plus the SGD update, all in one jitted program.
          const step = jit((q: JParams, v: JArray, t: JArray): [JArray, JParams] => {
            const [loss, g] = valueAndGrad(mlpLoss)(refs(q), v, t) as [JArray, JParams];
            const next: JParams = {
              w: q.w.map((w, i) => np.subtract(w, np.multiply(g.w[i]!, lr))),
              b: q.b.map((b, i) => np.subtract(b, np.multiply(g.b[i]!, lr))),
            };
            return [loss, next];
          });
          return {
            run: () => {
              const [loss, next] = step(refs(p), x.ref, targets.ref);
              const layers = next.w.length;
              // Reading consumes an array; the unread first-layer weights are freed explicitly.
              next.w.slice(0, layers - 1).forEach((w) => w.dispose());
              const value = f32(loss.dataSync())[0]!;
              const biases = next.b.map((b) => f32(b.dataSync()));
              return trainOutput(value, biases, f32(next.w[layers - 1]!.dataSync()));
            },
            dispose: () => (disposeHeld(), step.dispose()),
          };
        }
        case "add": {
          const a = keep(np.array(task.a));
          const b = keep(np.array(task.b));
          const f = jit((u: JArray, v: JArray) => np.add(u, v));
          return { run: () => f32(f(a.ref, b.ref).dataSync()), dispose: () => (disposeHeld(), f.dispose()) };
        }
      }
    },
  };
}
