/**
 * Generated elementwise kernels. Each (op, attrs, dtypes) gets one JavaScript function compiled
 * with `new Function` from the op's scalar template, so the inner loop is straight-line typed-array
 * code with no per-element dispatch or closures. Shapes and strides are arguments, not baked in,
 * so one compiled kernel serves every shape.
 */
import { allocate, type TypedArray } from "../../ir/dtype.js";
import type { Attrs, OpDef } from "../../ir/registry.js";
import * as M from "../../ir/scalar-math.js";
import { broadcastStrides, sizeOf } from "../../ir/shape.js";
import type { TensorType } from "../../ir/types.js";
import type { HostBuffer } from "../backend.js";

type Compiled = (ins: readonly TypedArray[], out: TypedArray, shape: readonly number[], strides: readonly (readonly number[])[], contiguous: boolean) => void;

const cache = new Map<string, Compiled>();

export function kernelSource(op: OpDef, inTypes: readonly TensorType[], outType: TensorType, attrs: Attrs): string {
  const n = inTypes.length;
  const xs = Array.from({ length: n }, (_, k) => `x${k}`);
  const expr = op.scalar!(xs, { inputs: inTypes.map((t) => t.dtype), output: outType.dtype }, attrs);
  const decl = (idx: (k: number) => string) => xs.map((x, k) => `const ${x} = a${k}[${idx(k)}];`).join(" ");
  return `
const ${xs.map((_, k) => `a${k} = ins[${k}]`).join(", ")};
const n = out.length;
if (n === 0) return;
if (contiguous) {
  for (let i = 0; i < n; i++) { ${decl(() => "i")} out[i] = ${expr}; }
  return;
}
const rank = shape.length;
const inner = shape[rank - 1];
${xs.map((_, k) => `const s${k} = strides[${k}], t${k} = s${k}[rank - 1]; let o${k} = 0;`).join("\n")}
const idx = new Int32Array(rank);
for (let base = 0; base < n; base += inner) {
  ${xs.map((_, k) => `let i${k} = o${k};`).join(" ")}
  for (let j = 0; j < inner; j++) {
    ${decl((k) => `i${k}`)}
    out[base + j] = ${expr};
    ${xs.map((_, k) => `i${k} += t${k};`).join(" ")}
  }
  for (let d = rank - 2; d >= 0; d--) {
    idx[d]++;
    ${xs.map((_, k) => `o${k} += s${k}[d];`).join(" ")}
    if (idx[d] < shape[d]) break;
    ${xs.map((_, k) => `o${k} -= s${k}[d] * shape[d];`).join(" ")}
    idx[d] = 0;
  }
}`;
}

function compile(op: OpDef, inTypes: readonly TensorType[], outType: TensorType, attrs: Attrs): Compiled {
  const key = `${op.name}|${JSON.stringify(attrs)}|${inTypes.map((t) => t.dtype).join(",")}|${outType.dtype}`;
  let fn = cache.get(key);
  if (!fn) {
    const body = kernelSource(op, inTypes, outType, attrs);
    fn = new Function("M", `return function ${op.name}_kernel(ins, out, shape, strides, contiguous) {${body}\n};`)(M) as Compiled;
    cache.set(key, fn);
  }
  return fn;
}

/** Merges adjacent dimensions that every operand walks contiguously, so inner loops run longer. */
function collapse(shape: readonly number[], strides: number[][]): { shape: number[]; strides: number[][] } {
  if (shape.length <= 1) return { shape: shape.length ? [...shape] : [1], strides: strides.map((s) => (s.length ? s : [0])) };
  const outShape = [shape[0]!];
  const outStrides = strides.map((s) => [s[0]!]);
  for (let d = 1; d < shape.length; d++) {
    const last = outShape.length - 1;
    const mergeable = strides.every((s, k) => outStrides[k]![last] === s[d]! * shape[d]!);
    if (mergeable) {
      outShape[last]! *= shape[d]!;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(shape[d]!);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

export function runElementwise(op: OpDef, inputs: readonly HostBuffer[], attrs: Attrs, outType: TensorType): TypedArray {
  const out = allocate(outType.dtype, sizeOf(outType.shape));
  const fn = compile(op, inputs.map((b) => b.type), outType, attrs);
  const target = outType.shape;
  const contiguous = inputs.every((b) => b.data.length === out.length && b.type.shape.length === target.length);
  if (contiguous) {
    fn(inputs.map((b) => b.data), out, target, [], true);
  } else {
    const c = collapse(target, inputs.map((b) => broadcastStrides(b.type.shape, target)));
    fn(inputs.map((b) => b.data), out, c.shape, c.strides, false);
  }
  return out;
}
