/** sgd, momentum and adam against hand-computed updates, eagerly and inside fn; the training example. */
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { type Tensor } from "../../src/index.js";
import { train } from "../../examples/train-mlp.js";

const f64 = (data: st.NestedArray): Tensor => st.tensor(data, { dtype: "float64" });
const vals = (t: unknown): number[] => Array.from((t as Tensor).numpy().data as Float64Array);

function close(actual: number[], expected: number[], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `element ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i]!))));
}

/** Runs two updates with fixed gradients g1, g2 on params {w: [1, -2], n: int32 [5]}. */
function twoSteps<S>(opt: st.Optimizer<S>, traced: boolean): { w: number[]; n: Tensor } {
  const update = (g: unknown, s: S, p: unknown): [unknown, S] => opt.update(g, s, p);
  const run = traced ? st.fn(update) : update;
  let params: unknown = { w: f64([1, -2]), n: st.tensor([5], { dtype: "int32" }) };
  let state = opt.init(params);
  for (const g of [[0.5, -1], [0.25, 2]]) {
    [params, state] = run({ w: f64(g), n: null }, state, params);
  }
  const p = params as { w: Tensor; n: Tensor };
  return { w: vals(p.w), n: p.n };
}

describe("optimizers", () => {
  for (const traced of [false, true]) {
    const mode = traced ? "inside fn" : "eagerly";

    it(`sgd, ${mode}`, () => {
      const r = twoSteps(st.sgd({ lr: 0.1 }), traced);
      close(r.w, [1 - 0.1 * 0.5 - 0.1 * 0.25, -2 + 0.1 * 1 - 0.1 * 2]);
      expect(Array.from(r.n.numpy().data)).toEqual([5]);
    });

    it(`momentum, ${mode}`, () => {
      const r = twoSteps(st.momentum({ lr: 0.1, beta: 0.9 }), traced);
      // v1 = g1; p1 = p0 - lr v1; v2 = 0.9 v1 + g2; p2 = p1 - lr v2
      const w = [1, -2].map((p0, i) => {
        const g1 = [0.5, -1][i]!;
        const g2 = [0.25, 2][i]!;
        const v2 = 0.9 * g1 + g2;
        return p0 - 0.1 * g1 - 0.1 * v2;
      });
      close(r.w, w);
    });

    it(`adam, ${mode}`, () => {
      const [lr, b1, b2, eps] = [0.1, 0.9, 0.999, 1e-8];
      const r = twoSteps(st.adam({ lr, beta1: b1, beta2: b2, eps }), traced);
      const w = [1, -2].map((p0, i) => {
        let p = p0;
        let m = 0;
        let v = 0;
        [[0.5, -1][i]!, [0.25, 2][i]!].forEach((g, k) => {
          const t = k + 1;
          m = b1 * m + (1 - b1) * g;
          v = b2 * v + (1 - b2) * g * g;
          // The bias corrections are computed in float32 (the step count is a float32 tensor).
          const c1 = Math.fround(1 - Math.fround(Math.pow(Math.fround(b1), t)));
          const c2 = Math.fround(1 - Math.fround(Math.pow(Math.fround(b2), t)));
          p -= (lr * (m / c1)) / (Math.sqrt(v / c2) + eps);
        });
        return p;
      });
      close(r.w, w, 1e-6);
      expect(Array.from(r.n.numpy().data)).toEqual([5]);
    });
  }

  it("adam's state counts steps and an update inside fn traces once", () => {
    const opt = st.adam({ lr: 0.01 });
    const step = st.fn((g: Tensor, s: ReturnType<typeof opt.init>, p: Tensor) => opt.update(g, s, p));
    let p: unknown = f64([1, 2]);
    let s = opt.init(p);
    for (let i = 0; i < 3; i++) [p, s] = step(f64([1, 1]), s, p as Tensor);
    expect(s.step.item()).toBe(3);
    expect(step.traceCount).toBe(1);
  });

  it("rejects bad hyperparameters and mismatched trees", () => {
    expect(() => st.sgd({ lr: Number.NaN })).toThrow(st.ValueError);
    expect(() => st.adam({ lr: "0.1" as never })).toThrow(st.ValueError);
    const opt = st.sgd({ lr: 0.1 });
    expect(() => opt.update({ a: f64([1]) }, {}, { b: f64([1]) })).toThrow(st.ValueError);
  });
});

describe("examples/train-mlp.ts", () => {
  it("the loss falls and the accuracy exceeds 90% on a small run", () => {
    const r = train({ epochs: 6, stepsPerEpoch: 40, pointsPerClass: 64, verbose: false });
    expect(r.losses.length).toBe(6);
    expect(r.losses[r.losses.length - 1]!).toBeLessThan(r.losses[0]!);
    expect(r.accuracy).toBeGreaterThan(0.9);
  });
});
