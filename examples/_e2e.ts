import * as st from "../src/index.js";
import { residentTensorBytes } from "../src/exec/wasm/executor.js";
const n = 1 << 20;
const xs = new Float32Array(n).map((_, i) => Math.sin(i) * 3);
const x = st.tensor(xs);
const chain = (x: st.Tensor) => x.mul(0.5).add(1).tanh().mul(x).add(x.sigmoid());
const f = st.fn(chain);
for (const t of [1, 2, 1, 2]) {
  st.setNumThreads(t);
  for (let k = 0; k < 5; k++) f(x);
  const ts: number[] = [];
  for (let k = 0; k < 40; k++) { const t0 = performance.now(); f(x); ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b);
  console.log(t, "threads median", ts[20]!.toFixed(3), "min", ts[0]!.toFixed(3), "resident MB", (residentTensorBytes() / 2 ** 20).toFixed(0));
  await new Promise((r) => setTimeout(r, 50));
}
