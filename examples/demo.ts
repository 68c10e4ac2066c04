/**
 * The walk-through: `npm run demo`. Sections 1-5 run eagerly, op by op, on the CPU device; every
 * value you see was brought to the host by .numpy() (or item()/tolist(), which use it). Sections
 * 6-7 trace a small MLP with fn() and show what happens to .numpy() inside a trace.
 */
import {
  add, arange, argmax, cast, layerNorm, matmul, randomKey, randomNormal, randomUniform, reduceMean,
  reduceSum, relu, ShapeError, softmax, splitKey, type Tensor, tensor, where, fn, SymbolicTensorError, backendInfo,
} from "../src/index.js";

const section = (title: string) => console.log(`\n=== ${title} ${"=".repeat(Math.max(0, 66 - title.length))}`);

section("1. Tensors are eager and typed");
const x = tensor([[1, 2, 3], [4, 5, 6]]);
console.log("x =", x.toString());
console.log(`x.shape = [${x.shape}], x.dtype = ${x.dtype}, x.device = ${x.device}`);
const i = arange(6).reshape([2, 3]);
console.log("arange(6).reshape([2, 3]) =", i.toString());

section("2. Broadcasting and dtype promotion (docs/dtypes.md)");
console.log("x + [10, 20, 30]   ->", add(x, [10, 20, 30]).toString());
console.log("int32 * 2 stays int32 ->", i.mul(2).toString());
console.log("int32 + float32 -> float32 (JAX's rule, not NumPy's float64):", i.add(x).dtype);
console.log("where(x > 2, x, 0) ->", where(x.greater(2), x, 0).toString());

section("3. A tiny MLP forward pass with reproducible random weights");
const [k1, k2, k3] = splitKey(randomKey(42), 3) as [Tensor, Tensor, Tensor];
const batch = randomUniform(k1, [4, 8], { minval: -1, maxval: 1 });
const w1 = randomNormal(k2, [8, 16], { stddev: 0.5 });
const w2 = randomNormal(k3, [16, 3], { stddev: 0.5 });
const hidden = relu(layerNorm(matmul(batch, w1)));
const probs = softmax(matmul(hidden, w2), -1);
console.log("class probabilities:", probs.toString());
console.log("rows sum to", reduceSum(probs, -1).toString());
console.log("predicted classes:", argmax(probs, -1).toString());

section("4. .numpy() gives an independent host copy");
const host = probs.numpy();
console.log(`NDArray dtype=${host.dtype} shape=[${host.shape}] strides=[${host.strides}] data is a ${host.data.constructor.name}`);
host.set(123, 0, 0);
console.log("after host.set(123, 0, 0): host[0,0] =", host.get(0, 0), "but probs[0,0] is still", probs.numpy().get(0, 0));
console.log("mean probability (0-d tensor -> JS number with item()):", reduceMean(probs).item());
console.log("as nested JS arrays:", JSON.stringify(cast(x, "int32").tolist()));
console.log(`.npy bytes for NumPy: ${x.numpy().toNpy().length} bytes, starting with ${JSON.stringify(new TextDecoder().decode(x.numpy().toNpy().slice(1, 6)))}`);

section("5. Mistakes get typed errors with the fix");
try {
  matmul(x, tensor([[1, 2], [3, 4]]));
} catch (e) {
  if (!(e instanceof ShapeError)) throw e;
  console.log(`${e.name} [${e.code}]: ${e.message}`);
}

section("6. fn(): trace once, run the graph on every call");
const mlp = fn((params: { w1: Tensor; w2: Tensor }, xb: Tensor) => {
  const h = relu(matmul(xb, params.w1));
  return argmax(softmax(matmul(h, params.w2), -1), -1);
}, { name: "mlp" });
const params = { w1, w2 };
console.log("traced prediction:", mlp(params, batch).toString());
console.log("second call, same shapes -> no retrace; traceCount =", (mlp(params, batch), mlp.traceCount));
const traced = mlp.ir(params, batch, { stage: "traced", loc: false }).trimEnd().split("\n");
const optimized = mlp.ir(params, batch, { loc: false }).trimEnd().split("\n");
const width = Math.max(...traced.map((l) => l.length)) + 3;
console.log(`\n${"traced IR: mlp.ir(params, batch, { stage: \"traced\" })".padEnd(width)}optimized IR: mlp.ir(params, batch)`);
for (let i = 0; i < Math.max(traced.length, optimized.length); i++) {
  console.log(`${(traced[i] ?? "").padEnd(width)}${optimized[i] ?? ""}`);
}
const plan = mlp.memoryPlan(params, batch);
console.log(`\n${mlp.kernels(params, batch).length} kernels; memory plan: ${plan.buffers} buffers, peak ${plan.peakBytes} bytes`);

section("7. Inside a trace, tensors are symbolic: .numpy() has no value to give");
const leaky = fn((xb: Tensor) => {
  const logits = matmul(xb, w1);
  console.log("  (console.log runs once, at trace time:", `${logits})`); // symtensor-disable-line ST006 -- shows trace-time printing on purpose
  return logits.numpy(); // symtensor-disable-line ST001 -- shows the runtime error on purpose
}, { name: "leaky" });
try {
  leaky(batch);
} catch (e) {
  if (!(e instanceof SymbolicTensorError)) throw e;
  console.log(`${e.name} [${e.code}]: ${e.message}`);
}

section("8. Where it runs: WebAssembly SIMD kernels on worker threads (docs/performance.md)");
console.log("backendInfo() =", JSON.stringify(backendInfo()));
const big = fn((xb: Tensor, w: Tensor) => relu(matmul(xb, w)), { name: "big" });
const [k4, k5] = splitKey(randomKey(7), 2) as [Tensor, Tensor];
const xb = randomUniform(k4, [256, 256]);
const wb = randomUniform(k5, [256, 256]);
console.log("relu(matmul) on [256,256] runs:", big.kernels(xb, wb).map((k) => `${k.op} (${k.backend})`).join(", "));
console.log("small kernels stay JavaScript (cheaper to call):", mlp.kernels(params, batch).map((k) => k.backend ?? "library").join(", "));

section("More");
console.log("npm run train   trains a classifier with grad + adam in one traced step (examples/train-mlp.ts)");
console.log("npm run bench   compares symtensor with tfjs, onnxruntime-node and jax-js (docs/performance.md)");
console.log("symtensor lint  finds .numpy() inside traced code before it runs (docs/lint.md)");
console.log("await initWebGPU(), then tensor(x, { device: \"webgpu\" })   runs on the GPU (docs/webgpu.md)");

section("Result: the predicted classes as a host array");
console.log(argmax(probs, -1).numpy().toString());
