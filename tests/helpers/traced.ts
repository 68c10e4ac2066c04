/**
 * Runs an op call eagerly and through `fn()` (trace -> IR graph -> interpreter) and checks that
 * both give bit-identical results: the tracer must record exactly what eager execution runs.
 */
import { expect } from "vitest";
import { fn, type Tensor } from "../../src/index.js";
import type { FixtureValue } from "./fixtures.js";

function asList(x: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(x) ? x : [x];
}

export function expectTracedMatchesEager(label: string, call: (args: FixtureValue[]) => Tensor | Tensor[], args: FixtureValue[]): void {
  const eager = asList(call(args));
  const traced = fn((a: FixtureValue[]) => call(a), { name: "fixture" });
  const out = asList(traced(args));
  expect(traced.traceCount, `${label}: trace count`).toBe(1);
  expect(out.length, `${label}: number of results`).toBe(eager.length);
  eager.forEach((e, i) => {
    const a = out[i]!.numpy();
    const b = e.numpy();
    expect(a.dtype, `${label} [${i}] dtype`).toBe(b.dtype);
    expect([...a.shape], `${label} [${i}] shape`).toEqual([...b.shape]);
    const same = a.data.every((v, k) => Object.is(v, b.data[k]) || (Number.isNaN(v) && Number.isNaN(b.data[k]!)));
    expect(same, `${label} [${i}]: traced values differ from eager\ntraced: ${a.toString()}\neager:  ${b.toString()}`).toBe(true);
  });
}
