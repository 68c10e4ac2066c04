/**
 * Per-call overhead of a tiny compiled graph (a 4-element add) in a standalone loop: fn + numpy(),
 * fn + numpy() + dispose(), and the eager add. Takes the checkout to load symtensor from, so two
 * commits can be compared back to back on one machine state:
 *   git worktree add /tmp/old <commit> && ln -s "$PWD/node_modules" /tmp/old/node_modules
 *   npx tsx bench/tiny-call.ts /tmp/old; npx tsx bench/tiny-call.ts "$PWD"
 * Prints medians of 60 samples of 2000 calls, in microseconds per call.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

interface Api {
  tensor(x: Float32Array): unknown;
  fn(f: (a: never, b: never) => unknown): (a: unknown, b: unknown) => { numpy(): { data: ArrayLike<number> }; dispose(): void };
  add(a: never, b: never): unknown;
}

const root = resolve(process.argv[2] ?? ".");
const st = (await import(pathToFileURL(`${root}/src/index.ts`).href)) as Api;
const a = st.tensor(new Float32Array([1, 2, 3, 4]));
const b = st.tensor(new Float32Array([5, 6, 7, 8]));
const f = st.fn((x, y) => st.add(x, y));
const eager = (): { numpy(): { data: ArrayLike<number> } } => st.add(a as never, b as never) as { numpy(): { data: ArrayLike<number> } };
let sink = 0;

function perCall(g: () => void): number {
  const calls = 2000;
  const samples: number[] = [];
  for (let s = 0; s < 60; s++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) g();
    samples.push(((performance.now() - t0) * 1000) / calls);
  }
  samples.sort((p, q) => p - q);
  return samples[30]!;
}

for (let round = 0; round < 2; round++) {
  const fnNumpy = perCall(() => void (sink += f(a, b).numpy().data[0]!));
  const fnDispose = perCall(() => {
    const y = f(a, b);
    sink += y.numpy().data[0]!;
    y.dispose();
  });
  const eagerNumpy = perCall(() => void (sink += eager().numpy().data[0]!));
  console.log(`${root}: fn+numpy ${fnNumpy.toFixed(3)} µs, fn+numpy+dispose ${fnDispose.toFixed(3)} µs, eager+numpy ${eagerNumpy.toFixed(3)} µs`);
}
if (sink === 0.5) console.log("");
process.exit(0);
