/**
 * Optimizers as pure functions over pytrees, as in optax: `init(params)` makes the state, and
 * `update(grads, state, params)` returns `[newParams, newState]`. Nothing is mutated, so an update
 * step can be traced with `fn` (state in, state out) and the whole step compiles to one graph.
 * Leaves whose gradient is null (int/bool parameters, static values) are left unchanged.
 */
import { ValueError } from "../ir/errors.js";
import { isFloat } from "../ir/dtype.js";
import { tensor, zerosLike } from "./create.js";
import { add, div, mul, pow, sqrt, sub } from "./ops/elementwise.js";
import { describeStatic, flatten, treeDefKey, unflatten } from "./pytree.js";
import { Tensor } from "./tensor.js";

/** A hyperparameter: a JS number (baked into a trace) or a 0-d tensor (a schedule without retracing). */
export type Hyper = number | Tensor;

export interface Optimizer<S> {
  /** The initial state for a tree of parameters. */
  init(params: unknown): S;
  /** One step: the new parameters (same tree as `params`) and the new state. */
  update(grads: unknown, state: S, params: unknown): [unknown, S];
}

export interface SgdOptions {
  lr: Hyper;
}
export interface MomentumOptions {
  lr: Hyper;
  /** Decay of the velocity (default 0.9). */
  beta?: Hyper;
}
export interface AdamOptions {
  lr: Hyper;
  beta1?: Hyper;
  beta2?: Hyper;
  eps?: Hyper;
}

function checkHyper(where: string, name: string, v: unknown): Hyper {
  if (v instanceof Tensor) return v;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ValueError(`${where}: ${name} must be a finite number or a tensor, got ${describeStatic(v)}`);
  return v;
}

/** Whether a leaf is trained: a float tensor. */
function trainable(x: unknown): x is Tensor {
  return x instanceof Tensor && isFloat(x.dtype);
}

/** Flattens trees that must share `params`' structure; returns their leaves and the params tree def. */
function zipTrees(where: string, params: unknown, others: Record<string, unknown>): { def: ReturnType<typeof flatten>["def"]; params: unknown[]; others: Record<string, unknown[]> } {
  const p = flatten(params);
  const key = treeDefKey(p.def);
  const out: Record<string, unknown[]> = {};
  for (const [name, tree] of Object.entries(others)) {
    const f = flatten(tree);
    if (treeDefKey(f.def) !== key) throw new ValueError(`${where}: ${name} must have the structure of params (${key}), got ${treeDefKey(f.def)}`);
    out[name] = f.leaves;
  }
  return { def: p.def, params: p.leaves, others: out };
}

function zerosTree(params: unknown): unknown {
  const p = flatten(params);
  return unflatten(p.def, p.leaves.map((x) => (trainable(x) ? zerosLike(x) : null)));
}

/** Plain gradient descent: p <- p - lr * g. The state is an empty object. */
export function sgd(options: SgdOptions): Optimizer<Record<string, never>> {
  const lr = checkHyper("sgd", "lr", options?.lr);
  return {
    init: () => ({}),
    update(grads, state, params) {
      const t = zipTrees("sgd.update", params, { grads });
      const g = t.others["grads"]!;
      const next = t.params.map((p, i) => (trainable(p) && g[i] instanceof Tensor ? sub(p, mul(g[i] as Tensor, lr)) : p));
      return [unflatten(t.def, next), state];
    },
  };
}

/**
 * Heavy-ball momentum (optax.sgd with momentum, PyTorch SGD): v <- beta * v + g; p <- p - lr * v.
 * The state is `{ velocity }`, a tree like params (null at untrained leaves).
 */
export function momentum(options: MomentumOptions): Optimizer<{ velocity: unknown }> {
  const lr = checkHyper("momentum", "lr", options?.lr);
  const beta = checkHyper("momentum", "beta", options.beta ?? 0.9);
  return {
    init: (params) => ({ velocity: zerosTree(params) }),
    update(grads, state, params) {
      const t = zipTrees("momentum.update", params, { grads, "state.velocity": state.velocity });
      const g = t.others["grads"]!;
      const v = t.others["state.velocity"]!;
      const newV: unknown[] = [];
      const next = t.params.map((p, i) => {
        const gi = g[i];
        if (!trainable(p) || !(gi instanceof Tensor)) {
          newV.push(v[i] ?? null);
          return p;
        }
        const vi = add(mul(v[i] as Tensor, beta), gi);
        newV.push(vi);
        return sub(p, mul(vi, lr));
      });
      return [unflatten(t.def, next), { velocity: unflatten(t.def, newV) }];
    },
  };
}

/**
 * Adam (Kingma & Ba, with bias correction): m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2;
 * p <- p - lr * m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps). Defaults b1 0.9, b2 0.999, eps 1e-8.
 * The state is `{ step, m, v }`; `step` is a 0-d float32 tensor, so a traced step never retraces.
 */
export function adam(options: AdamOptions): Optimizer<{ step: Tensor; m: unknown; v: unknown }> {
  const lr = checkHyper("adam", "lr", options?.lr);
  const b1 = checkHyper("adam", "beta1", options.beta1 ?? 0.9);
  const b2 = checkHyper("adam", "beta2", options.beta2 ?? 0.999);
  const eps = checkHyper("adam", "eps", options.eps ?? 1e-8);
  return {
    init: (params) => ({ step: tensor(0, { dtype: "float32" }), m: zerosTree(params), v: zerosTree(params) }),
    update(grads, state, params) {
      const t = zipTrees("adam.update", params, { grads, "state.m": state.m, "state.v": state.v });
      const g = t.others["grads"]!;
      const m = t.others["state.m"]!;
      const v = t.others["state.v"]!;
      const step = add(state.step, 1);
      const c1 = sub(1, pow(asF32(b1), step));
      const c2 = sub(1, pow(asF32(b2), step));
      const newM: unknown[] = [];
      const newV: unknown[] = [];
      const next = t.params.map((p, i) => {
        const gi = g[i];
        if (!trainable(p) || !(gi instanceof Tensor)) {
          newM.push(m[i] ?? null);
          newV.push(v[i] ?? null);
          return p;
        }
        const mi = add(mul(m[i] as Tensor, b1), mul(gi, oneMinus(b1)));
        const vi = add(mul(v[i] as Tensor, b2), mul(mul(gi, gi), oneMinus(b2)));
        newM.push(mi);
        newV.push(vi);
        const mHat = div(mi, c1);
        const vHat = div(vi, c2);
        return sub(p, mul(div(mHat, add(sqrt(vHat), eps)), lr));
      });
      return [unflatten(t.def, next), { step, m: unflatten(t.def, newM), v: unflatten(t.def, newV) }];
    },
  };
}

function oneMinus(x: Hyper): Hyper {
  return typeof x === "number" ? 1 - x : sub(1, x);
}

function asF32(x: Hyper): Tensor {
  return x instanceof Tensor ? x : tensor(x, { dtype: "float32" });
}
