/**
 * Trains a small MLP classifier on two interleaved spirals: `npm run train`.
 *
 * The whole training step (forward pass, backward pass from `valueAndGrad`, Adam update) is one
 * traced function: `fn` traces it once, fuses it, and every later step runs the compiled graph.
 * Values come to the host only after training: each epoch's last loss (together, in one transfer)
 * and the accuracy.
 */
import {
  adam, argmax, cast, concat, cos, equal, fn, logSoftmax, matmul, mul, neg, oneHot, randomKey, randomNormal,
  randomUniform, reduceMean, reduceSum, sin, splitKey, stack, type Tensor, tanh, add, full, valueAndGrad,
} from "../src/index.js";

export interface Params {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
  w3: Tensor;
  b3: Tensor;
}

export interface TrainOptions {
  /** Number of epochs (default 20). */
  epochs?: number;
  /** Full-batch Adam steps per epoch (default 50). */
  stepsPerEpoch?: number;
  /** Points per spiral (default 128). */
  pointsPerClass?: number;
  /** Hidden width (default 32). */
  hidden?: number;
  seed?: number;
  /** Print the loss per epoch and the step's IR (default true). */
  verbose?: boolean;
}

export interface TrainResult {
  /** The loss at the end of each epoch. */
  losses: number[];
  /** Training-set accuracy after the last epoch, in [0, 1]. */
  accuracy: number;
  params: Params;
}

/** Two spirals, 1.5 turns each, with a little noise: points [2n, 2] and int32 labels [2n]. */
export function spirals(key: Tensor, n: number): { x: Tensor; labels: Tensor } {
  const [kt, kn] = splitKey(key, 2) as [Tensor, Tensor];
  const t = randomUniform(kt, [2 * n], { minval: 0.05, maxval: 1 });
  const labels = concat([full([n], 0, { dtype: "int32" }), full([n], 1, { dtype: "int32" })]);
  const angle = add(mul(t, 3 * Math.PI), mul(cast(labels, "float32"), Math.PI));
  const points = stack([mul(t, cos(angle)), mul(t, sin(angle))], -1);
  return { x: add(points, mul(randomNormal(kn, [2 * n, 2]), 0.03)), labels };
}

function dense(key: Tensor, fanIn: number, fanOut: number): [Tensor, Tensor] {
  return [mul(randomNormal(key, [fanIn, fanOut]), Math.sqrt(1 / fanIn)), full([fanOut], 0)];
}

export function initParams(key: Tensor, hidden: number): Params {
  const [k1, k2, k3] = splitKey(key, 3) as [Tensor, Tensor, Tensor];
  const [w1, b1] = dense(k1, 2, hidden);
  const [w2, b2] = dense(k2, hidden, hidden);
  const [w3, b3] = dense(k3, hidden, 2);
  return { w1, b1, w2, b2, w3, b3 };
}

export function logits(p: Params, x: Tensor): Tensor {
  const h1 = tanh(add(matmul(x, p.w1), p.b1));
  const h2 = tanh(add(matmul(h1, p.w2), p.b2));
  return add(matmul(h2, p.w3), p.b3);
}

/** Mean softmax cross-entropy against one-hot targets. */
export function loss(p: Params, x: Tensor, targets: Tensor): Tensor {
  return neg(reduceMean(reduceSum(mul(logSoftmax(logits(p, x), -1), targets), -1)));
}

const opt = adam({ lr: 0.02 });
type OptState = ReturnType<typeof opt.init>;

/** One traced function: loss, gradients and the Adam update, state in and state out. */
export const trainStep = fn(function trainStep(p: Params, state: OptState, xs: Tensor, ys: Tensor) {
  const [value, grads] = valueAndGrad(loss)(p, xs, ys);
  const [next, nextState] = opt.update(grads, state, p);
  return { params: next as Params, state: nextState, loss: value };
});

export function train(options: TrainOptions = {}): TrainResult {
  const { epochs = 20, stepsPerEpoch = 50, pointsPerClass = 128, hidden = 32, seed = 0, verbose = true } = options;
  const [kData, kInit] = splitKey(randomKey(seed), 2) as [Tensor, Tensor];
  const { x, labels } = spirals(kData, pointsPerClass);
  const targets = oneHot(labels, 2, { dtype: "float32" });

  let params = initParams(kInit, hidden);
  let state = opt.init(params);
  if (verbose) console.log(`training step, optimized IR:\n${trainStep.ir(params, state, x, targets, { loc: false })}\n`);
  // Each epoch's last loss stays a tensor: the losses come to the host together, once.
  const epochLosses: Tensor[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let s = 0; s < stepsPerEpoch; s++) {
      const out = trainStep(params, state, x, targets);
      params = out.params;
      state = out.state;
      if (s === stepsPerEpoch - 1) epochLosses.push(out.loss);
    }
  }
  const losses = epochLosses.length > 0 ? Array.from(stack(epochLosses).numpy().data as Float32Array) : [];
  if (verbose) losses.forEach((v, i) => console.log(`epoch ${String(i + 1).padStart(3)}  loss ${v.toFixed(4)}`));
  const correct = cast(equal(argmax(logits(params, x), -1), labels), "float32");
  const accuracy = reduceMean(correct).item() as number;
  if (verbose) {
    const n = trainStep.traceCount;
    console.log(`\naccuracy on ${2 * pointsPerClass} points: ${(accuracy * 100).toFixed(1)}% (the step traced ${n} time${n === 1 ? "" : "s"})`);
  }
  return { losses, accuracy, params };
}

const invokedDirectly = typeof process !== "undefined" && process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) train();
