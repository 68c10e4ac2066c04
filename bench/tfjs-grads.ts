/**
 * Gradient functions for the kernels of the MLP training step, registered into the tfjs-core
 * instance the benchmark loaded. Why: @tensorflow/tfjs-core's Node (CommonJS) bundle registers no
 * gradients; the umbrella @tensorflow/tfjs package would, by importing the ESM-only
 * dist/register_all_gradients, which Node cannot load (extensionless directory imports). These are
 * the same formulas as tfjs-core's src/gradients/*_grad.ts, written against the loaded instance;
 * a kernel that already has a gradient (e.g. under vitest, which resolves the ESM build) is left alone.
 */
type Tf = typeof import("@tensorflow/tfjs-core");
type TfTensor = import("@tensorflow/tfjs-core").Tensor;
type GradConfig = Parameters<Tf["registerGradient"]>[0];

/** Sums dy over the axes along which `shape` was broadcast to dy's shape, and reshapes to `shape`. */
function unbroadcast(tf: Tf, dy: TfTensor, shape: readonly number[]): TfTensor {
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  return tf.reshape(axes.length ? tf.sum(dy, axes) : dy, [...shape]);
}

/** dy of a reduction over `axis` (null: every axis) broadcast back to x's shape, and the reduced count. */
function expandTo(tf: Tf, dy: TfTensor, x: TfTensor, axis: unknown): { expanded: TfTensor; count: number } {
  const all = x.shape.map((_, i) => i);
  const list = axis === null || axis === undefined ? all : Array.isArray(axis) ? (axis as number[]) : [axis as number];
  const axes = list.map((a) => (a < 0 ? a + x.rank : a));
  const shape = [...x.shape];
  let count = 1;
  for (const a of axes) {
    count *= shape[a]!;
    shape[a] = 1;
  }
  return { expanded: tf.mul(tf.reshape(dy, shape), tf.ones(x.shape, "float32")), count };
}

function configs(tf: Tf): GradConfig[] {
  return [
    {
      kernelName: tf.BatchMatMul,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved, attrs) => {
        const [a, b] = saved as [TfTensor, TfTensor];
        if (attrs["transposeA"] || attrs["transposeB"]) throw new Error("bench gradients: transposed matMul not supported");
        return { a: () => tf.matMul(dy as TfTensor, b, false, true), b: () => tf.matMul(a, dy as TfTensor, true, false) };
      },
    },
    {
      kernelName: tf.Add,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved) => {
        const [a, b] = saved as [TfTensor, TfTensor];
        return { a: () => unbroadcast(tf, dy as TfTensor, a.shape), b: () => unbroadcast(tf, dy as TfTensor, b.shape) };
      },
    },
    {
      kernelName: tf.Multiply,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved) => {
        const [a, b] = saved as [TfTensor, TfTensor];
        return { a: () => unbroadcast(tf, tf.mul(dy as TfTensor, b), a.shape), b: () => unbroadcast(tf, tf.mul(dy as TfTensor, a), b.shape) };
      },
    },
    {
      kernelName: tf.Relu,
      inputsToSave: ["x"],
      gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as TfTensor, tf.step(tf.cast(saved[0]!, "float32"))) }),
    },
    { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as TfTensor) }) },
    {
      kernelName: tf.Sum,
      inputsToSave: ["x"],
      gradFunc: (dy, saved, attrs) => ({ x: () => expandTo(tf, dy as TfTensor, saved[0]!, attrs["axis"]).expanded }),
    },
    {
      kernelName: tf.Mean,
      inputsToSave: ["x"],
      gradFunc: (dy, saved, attrs) => {
        const { expanded, count } = expandTo(tf, dy as TfTensor, saved[0]!, attrs["axis"]);
        return { x: () => tf.div(expanded, count) };
      },
    },
  ];
}

/** Registers the training step's gradients where the loaded tfjs-core has none. */
export function registerTrainingGradients(tf: Tf): void {
  for (const c of configs(tf)) if (tf.getGradient(c.kernelName) === undefined) tf.registerGradient(c);
}
