/**
 * What every KernelSpec generator shares: checking a spec, finding the body nodes a set of values
 * needs, and emitting those nodes as WGSL `let` statements through the scalar templates.
 */
import { ValueError } from "../../ir/errors.js";
import { broadcastStrides } from "../../ir/shape.js";
import { formatType, type TensorType } from "../../ir/types.js";
import type { KernelSpec, Ref } from "../cpu/codegen-fused.js";
import { checkTypes, storageType } from "./wgsl-common.js";
import { type Helpers, wgslExpr } from "./wgsl-scalar.js";

export const isInput = (r: Ref): r is { readonly input: number } => "input" in r;
export const refKey = (r: Ref): string => (isInput(r) ? `i${r.input}` : `n${r.node}`);
/** The WGSL name of a value inside a kernel: inputs are loaded into `xK`, body nodes computed into `vJ`. */
export const valueName = (r: Ref): string => (isInput(r) ? `x${r.input}` : `v${r.node}`);

export function refType(spec: KernelSpec, r: Ref): TensorType {
  return isInput(r) ? spec.inputs[r.input]! : spec.nodes[r.node]!.type;
}

/**
 * The structural checks the GPU generators rely on (the CPU generator's checkSpec holds the full
 * set; a spec reaching here came from the same compiler): refs in range and in order, body node
 * kinds by position, declared types equal to the op rules, yields matching outputs, and every type
 * storable on the GPU.
 */
export function checkSpec(spec: KernelSpec, where: string): void {
  const fail = (msg: string): never => {
    throw new ValueError(`${where}: ${msg}`);
  };
  checkTypes([...spec.inputs, ...spec.outputs, ...spec.nodes.map((n) => n.type)], where);
  const valid = (r: Ref, before: number): boolean =>
    isInput(r) ? Number.isInteger(r.input) && r.input >= 0 && r.input < spec.inputs.length : Number.isInteger(r.node) && r.node >= 0 && r.node < before;
  spec.nodes.forEach((n, i) => {
    const want = spec.kind === "matmul" && i === 0 ? "matmul" : spec.kind === "reduce" && i === spec.nodes.length - 1 ? "reduction" : "elementwise";
    if (want === "matmul" && n.op.name !== "matmul") fail(`a "matmul" body starts with a matmul node, got ${n.op.name}`);
    if (want !== "matmul" && n.op.kind !== want) fail(`body node ${i} (${n.op.name}) is a ${n.op.kind} op where a "${spec.kind}" body needs an ${want} op`);
    n.operands.forEach((r, k) => {
      if (!valid(r, i)) fail(`body node ${i} (${n.op.name}) operand ${k} refers to an undefined value`);
      if (want === "matmul" && !isInput(r)) fail(`the matmul of a "matmul" body must read two inputs of the node`);
    });
    const inferred = n.op.infer(n.operands.map((r) => refType(spec, r)), n.attrs);
    const t = inferred[0];
    if (inferred.length !== 1 || t === undefined || formatType(t) !== formatType(n.type)) {
      fail(`body node ${i} (${n.op.name}) is declared ${formatType(n.type)} but its operands give ${inferred.map(formatType).join(", ")}`);
    }
  });
  if (spec.kind !== "elementwise" && spec.nodes.length === 0) fail(`a "${spec.kind}" body needs at least one node`);
  if (spec.yields.length !== spec.outputs.length) fail(`the body yields ${spec.yields.length} values for ${spec.outputs.length} results`);
  spec.yields.forEach((r, o) => {
    if (!valid(r, spec.nodes.length)) fail(`yield ${o} refers to an undefined value`);
    if (formatType(refType(spec, r)) !== formatType(spec.outputs[o]!)) fail(`yield ${o} is ${formatType(refType(spec, r))} but result ${o} is ${formatType(spec.outputs[o]!)}`);
  });
}

/** Body nodes needed to compute `roots` (in order) and the inputs they read; `stop` nodes count as given. */
export function needed(spec: KernelSpec, roots: readonly Ref[], stop: ReadonlySet<number> = new Set()): { nodes: number[]; inputs: number[] } {
  const seen = new Set<string>();
  const nodes = new Set<number>();
  const inputs = new Set<number>();
  const visit = (r: Ref): void => {
    const k = refKey(r);
    if (seen.has(k)) return;
    seen.add(k);
    if (isInput(r)) {
      inputs.add(r.input);
      return;
    }
    if (stop.has(r.node)) return;
    nodes.add(r.node);
    for (const o of spec.nodes[r.node]!.operands) visit(o);
  };
  roots.forEach(visit);
  return { nodes: [...nodes].sort((a, b) => a - b), inputs: [...inputs].sort((a, b) => a - b) };
}

/** `let vJ: T = <expr>;` for each body node in `nodes`, in order. */
export function nodeLines(spec: KernelSpec, nodes: readonly number[], h: Helpers, pad: string, where: string): string {
  let code = "";
  for (const j of nodes) {
    const n = spec.nodes[j]!;
    const ins = n.operands.map((r) => refType(spec, r).dtype);
    const expr = wgslExpr(n.op, n.operands.map(valueName), ins, n.type.dtype, n.attrs, h);
    if (expr === undefined) {
      throw new ValueError(`${where}: body node ${j} (${n.op.name} of ${ins.join(", ")}) has no WGSL code on the webgpu device`);
    }
    code += `${pad}let v${j}: ${storageType(n.type.dtype)} = ${expr};\n`;
  }
  return code;
}

/** Broadcast strides of `shape` within `space`, or a ValueError naming `what`. */
export function stridesIn(shape: readonly number[], space: readonly number[], what: string, where: string): number[] {
  const off = space.length - shape.length;
  const fits = off >= 0 && shape.every((d, i) => d === 1 || d === space[off + i]);
  if (!fits) throw new ValueError(`${where}: ${what} has shape [${shape.join(",")}], which does not broadcast to the kernel's iteration space [${space.join(",")}]`);
  return broadcastStrides(shape, space);
}

/** The broadcast of the output shapes: the iteration space of an elementwise kernel (shared with the CPU generator). */
export { resultSpace } from "../cpu/codegen-fused.js";
