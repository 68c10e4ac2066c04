/**
 * The vectorized transcendentals (src/exec/wasm/vmath.ts) alone: ns per element over 1M float32
 * elements for a kernel that maps one function over an array (one thread, 4 lanes per vector),
 * against the JavaScript loop the CPU kernels amount to (`out[i] = Math.f(x[i])` into a
 * Float32Array, which rounds). Also prints the size of each expansion in bytes of code.
 *
 * Inputs are uniform over a range typical for each function; sin/cos also run over [-1e6, 1e6],
 * where every vector takes the exact (slow) argument reduction.
 *
 * Run: npx tsx bench/wasm-vmath.ts
 */
import { FunctionBuilder } from "../src/exec/wasm/emit.js";
import { emitVMath, type VMathFn } from "../src/exec/wasm/vmath.js";
import { vmathMapBytes } from "../tests/helpers/vmath-map.js";
import { erf, pow, sigmoid } from "../src/ir/scalar-math.js";

const N = 1 << 20;
const REPS = 15;

const CASES: [Exclude<VMathFn, "pow">, number, number, (x: number) => number][] = [
  ["exp", -10, 10, Math.exp],
  ["expm1", -2, 2, Math.expm1],
  ["log", 1e-3, 100, Math.log],
  ["log1p", -0.9, 10, Math.log1p],
  ["tanh", -5, 5, Math.tanh],
  ["sigmoid", -10, 10, sigmoid],
  ["erf", -4, 4, erf],
  ["sin", -10, 10, Math.sin],
  ["cos", -10, 10, Math.cos],
  ["tan", -1.5, 1.5, Math.tan],
  ["sin", -1e6, 1e6, Math.sin],
  ["cos", -1e6, 1e6, Math.cos],
  ["atan", -10, 10, Math.atan],
  ["sinh", -10, 10, Math.sinh],
  ["cosh", -10, 10, Math.cosh],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeIt(run: () => void): number {
  run();
  run();
  const ts: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    run();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

const memory = new WebAssembly.Memory({ initial: 256, maximum: 256 });
const IN = 0;
const OUT = 4 * N;

function kernel(fn: Exclude<VMathFn, "pow">, hoist: boolean): { map: () => void } {
  const bytes = vmathMapBytes(fn, { shared: false, initial: 256, maximum: 256 }, hoist ? { hoist: [] } : {});
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const run = (inst.exports as { map: (a: number, b: number, n: number) => void }).map;
  return { map: () => run(IN, OUT, 4 * N) };
}

/** Bytes of one expansion, for the table (FunctionBuilder only, no module). */
function expansionBytes(fn: VMathFn): number {
  const f = new FunctionBuilder([], []);
  const x = f.local("v128");
  emitVMath(f, fn, x, x);
  return f.code.length;
}

const xs = new Float32Array(memory.buffer, IN, N);
const ys = new Float32Array(memory.buffer, OUT, N);
const jsOut = new Float32Array(N);
console.log("function  range            wasm ns/elem (consts inline)  JS ns/elem  speedup  code bytes  max |diff| vs JS");
for (const [fn, lo, hi, ref] of CASES) {
  let s = 42;
  for (let i = 0; i < N; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    xs[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  const inline = kernel(fn, false).map;
  const tInline = timeIt(inline);
  const inlineOut = ys.slice();
  const { map } = kernel(fn, true);
  const tw = timeIt(map);
  for (let i = 0; i < N; i++) if (!Object.is(inlineOut[i], ys[i])) throw new Error(`${fn}: hoisted constants changed a result`);
  const tj = timeIt(() => {
    for (let i = 0; i < N; i++) jsOut[i] = ref(xs[i]!);
  });
  let diff = 0;
  for (let i = 0; i < N; i++) diff = Math.max(diff, Math.abs(ys[i]! - jsOut[i]!) / Math.max(Math.abs(jsOut[i]!), 1e-30));
  console.log(
    `${fn.padEnd(9)} [${lo}, ${hi}]`.padEnd(27) +
      `${((tw * 1e6) / N).toFixed(2).padStart(12)} (${((tInline * 1e6) / N).toFixed(2).padStart(5)})  ${((tj * 1e6) / N).toFixed(2).padStart(10)}  ${(tj / tw).toFixed(1).padStart(6)}x  ${String(expansionBytes(fn)).padStart(10)}  ${diff.toExponential(1)} (rel)`,
  );
}

{
  // pow(x, y): x in [0, 10], y in [-8, 8] (positive base: the common case), one more input array
  const YS = 8 * N;
  const bytes = vmathMapBytes("pow", { shared: false, initial: 256, maximum: 256 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const run = (inst.exports as { map: (a: number, b: number, o: number, n: number) => void }).map;
  const ysIn = new Float32Array(memory.buffer, YS, N);
  let s = 7;
  for (let i = 0; i < N; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    xs[i] = (10 * s) / 2 ** 32;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ysIn[i] = (16 * s) / 2 ** 32 - 8;
  }
  const tw = timeIt(() => run(IN, YS, OUT, 4 * N));
  const tj = timeIt(() => {
    for (let i = 0; i < N; i++) jsOut[i] = pow(xs[i]!, ysIn[i]!);
  });
  console.log(
    "pow       x [0, 10], y [-8, 8]".padEnd(27) +
      `${((tw * 1e6) / N).toFixed(2).padStart(12)}          ${((tj * 1e6) / N).toFixed(2).padStart(10)}  ${(tj / tw).toFixed(1).padStart(6)}x  ${String(expansionBytes("pow")).padStart(10)}`,
  );
}
