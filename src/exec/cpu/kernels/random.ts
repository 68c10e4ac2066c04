/**
 * CPU kernels for random ops. The scheme (which words make which element) is specified at the top
 * of src/ir/ops/random.ts; each kernel draws the key's stream into an Int32Array with
 * threefryStream, then turns each element's W words into a value in one plain loop.
 */
import type { DType, TypedArray } from "../../../ir/dtype.js";
import { roundToFloat, SPLIT_DOMAIN, VALUES_DOMAIN } from "../../../ir/ops/random.js";
import type { Attrs } from "../../../ir/registry.js";
import { sizeOf } from "../../../ir/shape.js";
import { threefry2x32, threefryStream } from "../../../ir/threefry.js";
import type { HostBuffer } from "../../backend.js";
import { registerCpuKernel } from "../backend.js";

const TWO_M23 = 2 ** -23;
const TWO_M32 = 2 ** -32;
const TWO_M52 = 2 ** -52;
const TWO_32 = 2 ** 32;
const TWO_PI = 2 * Math.PI;

/** The first `words` words of the key's values stream. */
function stream(key: HostBuffer, words: number): Int32Array {
  const out = new Int32Array(words);
  threefryStream(key.data[0]!, key.data[1]!, VALUES_DOMAIN, out);
  return out;
}

function num(attrs: Attrs, name: string): number {
  return attrs[name] as number;
}

/** The largest value of the float dtype below x (x finite). */
function nextDown(x: number, dtype: DType): number {
  if (x === 0) return dtype === "float32" ? -(2 ** -149) : -Number.MIN_VALUE;
  if (dtype === "float32") {
    const f = new Float32Array([x]);
    const b = new Int32Array(f.buffer);
    b[0]! += x > 0 ? -1 : 1;
    return f[0]!;
  }
  const f = new Float64Array([x]);
  const b = new BigInt64Array(f.buffer);
  b[0]! += x > 0 ? -1n : 1n;
  return f[0]!;
}

registerCpuKernel("randomSplit", (inputs, _attrs, outTypes) => {
  const key = inputs[0]!;
  return outTypes.map((_, i) => {
    const k = new Int32Array(2);
    threefry2x32(key.data[0]!, key.data[1]!, i, SPLIT_DOMAIN, k, 0);
    return k;
  });
});

registerCpuKernel("randomBits", (inputs, _attrs, outTypes) => [stream(inputs[0]!, sizeOf(outTypes[0]!.shape))]);

registerCpuKernel("randomUniform", (inputs, attrs, outTypes) => {
  const { dtype, shape } = outTypes[0]!;
  const n = sizeOf(shape);
  const lo = roundToFloat(num(attrs, "minval"), dtype);
  const hi = roundToFloat(num(attrs, "maxval"), dtype);
  const span = hi - lo;
  const below = nextDown(hi, dtype);
  const out: TypedArray = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  if (dtype === "float64") {
    const w = stream(inputs[0]!, 2 * n);
    if (Number.isFinite(span)) {
      for (let i = 0; i < n; i++) {
        const u = ((w[2 * i]! >>> 12) * TWO_32 + (w[2 * i + 1]! >>> 0)) * TWO_M52;
        const v = lo + u * span;
        out[i] = v < hi ? v : below;
      }
    } else {
      // maxval - minval overflows float64: interpolate between the halves, which cannot.
      const h = 0.5 * hi - 0.5 * lo;
      for (let i = 0; i < n; i++) {
        const u = ((w[2 * i]! >>> 12) * TWO_32 + (w[2 * i + 1]! >>> 0)) * TWO_M52;
        const v = 2 * (0.5 * lo + u * h);
        out[i] = v < hi ? (v > lo ? v : lo) : below;
      }
    }
  } else {
    // float32 bounds are below 2^128, so the float64 arithmetic here never overflows.
    const w = stream(inputs[0]!, n);
    for (let i = 0; i < n; i++) {
      const v = Math.fround(lo + (w[i]! >>> 9) * TWO_M23 * span);
      out[i] = v < hi ? v : below;
    }
  }
  return [out];
});

registerCpuKernel("randomNormal", (inputs, attrs, outTypes) => {
  const { dtype, shape } = outTypes[0]!;
  const n = sizeOf(shape);
  const mean = num(attrs, "mean");
  const sd = num(attrs, "stddev");
  if (dtype === "float64") {
    const out = new Float64Array(n);
    const w = stream(inputs[0]!, 4 * n);
    for (let i = 0; i < n; i++) {
      const j = 4 * i;
      const u1 = ((w[j]! >>> 12) * TWO_32 + (w[j + 1]! >>> 0) + 1) * TWO_M52;
      const u2 = ((w[j + 2]! >>> 12) * TWO_32 + (w[j + 3]! >>> 0)) * TWO_M52;
      out[i] = mean + sd * (Math.sqrt(-2 * Math.log(u1)) * Math.cos(TWO_PI * u2));
    }
    return [out];
  }
  const out = new Float32Array(n);
  const w = stream(inputs[0]!, 2 * n);
  for (let i = 0; i < n; i++) {
    const u1 = ((w[2 * i]! >>> 0) + 1) * TWO_M32;
    const u2 = (w[2 * i + 1]! >>> 0) * TWO_M32;
    out[i] = mean + sd * (Math.sqrt(-2 * Math.log(u1)) * Math.cos(TWO_PI * u2));
  }
  return [out];
});

registerCpuKernel("randomBernoulli", (inputs, attrs, outTypes) => {
  const n = sizeOf(outTypes[0]!.shape);
  const threshold = num(attrs, "p") * TWO_32;
  const w = stream(inputs[0]!, n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (w[i]! >>> 0) < threshold ? 1 : 0;
  return [out];
});

/** (x * y) mod r for integers x, y < r <= 2^32, exactly: every partial product stays below 2^53. */
function mulMod(x: number, y: number, r: number): number {
  const xh = Math.floor(x / 65536);
  const xl = x - xh * 65536;
  let t = (xh * y) % r;
  t = (t * 65536) % r;
  return (t + ((xl * y) % r)) % r;
}

registerCpuKernel("randomInt", (inputs, attrs, outTypes) => {
  const { dtype, shape } = outTypes[0]!;
  const n = sizeOf(shape);
  const lo = num(attrs, "minval");
  const r = num(attrs, "maxval") - lo;
  const scale = TWO_32 % r; // 2^32 mod r, so (a * 2^32 + b) mod r = (a * scale + b) mod r
  const w = stream(inputs[0]!, 2 * n);
  const out: TypedArray = dtype === "uint8" ? new Uint8Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = (w[2 * i]! >>> 0) % r;
    const b = (w[2 * i + 1]! >>> 0) % r;
    out[i] = lo + ((mulMod(a, scale, r) + b) % r);
  }
  return [out];
});
