/**
 * What host conversions cost on the CPU device: `.numpy()` of growing tensors, and a loop that
 * converts every step versus one that stays in tensors and converts once. Writes
 * bench/results/host-conversion.json. Run: npx tsx bench/host-conversion.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { add, mul, reduceSum, tensor, zeros } from "../src/index.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, reps: number): number {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

const results: Record<string, number> = {};
for (const n of [1_000, 100_000, 1_000_000, 10_000_000]) {
  const t = zeros([n]);
  results[`numpy() of ${n} float32 (ms)`] = time(() => void t.numpy(), n >= 1e7 ? 5 : 20);
}

// 200 steps of x = x * 0.99 + 1 on 10k elements, tracking the running total.
const steps = 200;
const x0 = tensor(new Float32Array(10_000).fill(1));
results["loop, .numpy() + JS sum every step (ms)"] = time(() => {
  let x = x0;
  let total = 0;
  for (let i = 0; i < steps; i++) {
    x = add(mul(x, 0.99), 1);
    const host = x.numpy().data;
    for (let j = 0; j < host.length; j++) total += host[j]!;
  }
  if (!Number.isFinite(total)) throw new Error("unreachable");
}, 5);
results["loop, reduceSum in tensors, one .item() at the end (ms)"] = time(() => {
  let x = x0;
  let total = tensor(0);
  for (let i = 0; i < steps; i++) {
    x = add(mul(x, 0.99), 1);
    total = add(total, reduceSum(x));
  }
  if (!Number.isFinite(total.item() as number)) throw new Error("unreachable");
}, 5);

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const out = { date: new Date().toISOString(), node: process.version, device: "cpu", results };
writeFileSync(new URL("./results/host-conversion.json", import.meta.url), JSON.stringify(out, null, 2) + "\n");
console.table(results);
