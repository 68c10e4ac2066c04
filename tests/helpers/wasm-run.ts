/**
 * A tiny executor for WasmKernelPlans in tests, standing in for the runtime (src/exec/wasm/runtime.ts)
 * and the thread pool: one shared memory, inputs placed at 16-byte-aligned addresses and padded to
 * 16 bytes, the args block written, and each phase's entry called over fixed chunks
 * [0, grain), [grain, 2 grain), ... in order, or in a shuffled order to prove that the result does
 * not depend on which thread runs which chunk.
 *
 * Guard bytes sit between buffers (after each buffer's 16-byte padding); a kernel that writes past
 * its padding changes them and `runPlan` throws. Outputs start filled with a junk pattern, so an
 * element a kernel never writes shows up as a mismatch against the reference.
 */
import { allocate, type DType, dtypeInfo, type TypedArray } from "../../src/ir/dtype.js";
import { compileKernel, isGeneratedReduction, type KernelSpec, type Ref, type SpecNode } from "../../src/exec/cpu/codegen-fused.js";
import type { Graph } from "../../src/ir/graph.js";
import "../../src/ir/ops/index.js";
import { type Attrs, getOp } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";
import { WASM_MAX_PAGES, type WasmKernelPlan } from "../../src/exec/wasm/abi.js";
import { sizeOf } from "../../src/ir/shape.js";

export interface RunOptions {
  /** Run the chunks of each phase in a random order drawn from this seed. */
  readonly shuffleSeed?: number;
  /** Test only: split phases with this grain instead of the plan's (a flat kernel needs a multiple of 4). */
  readonly grain?: number;
  /** Bytes of guard between buffers (default 64). */
  readonly guard?: number;
}

const GUARD_BYTE = 0xa5;
const JUNK_BYTE = 0x7b;
const ARGS_AT = 64;

let memory: WebAssembly.Memory | undefined;
const modules = new Map<string, WebAssembly.Module>();

function memoryOf(bytes: number): WebAssembly.Memory {
  const pages = Math.ceil(bytes / 65536) + 1;
  memory ??= new WebAssembly.Memory({ initial: pages, maximum: WASM_MAX_PAGES, shared: true });
  const have = memory.buffer.byteLength / 65536;
  if (have < pages) memory.grow(pages - have);
  return memory;
}

/** A seeded permutation of 0..n-1 (mulberry32 + Fisher-Yates). */
export function permutation(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

const pad16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * Runs `plan` on `inputs` and returns fresh arrays of `outputs`' types. `scratchBytes` of scratch
 * are allocated after the outputs when the plan asks for them.
 */
export function runPlan(plan: WasmKernelPlan, inputs: readonly TypedArray[], outputs: readonly { dtype: DType; shape: readonly number[] }[], opts: RunOptions = {}): TypedArray[] {
  const guard = opts.guard ?? 64;
  const sizes = [...inputs.map((a) => a.byteLength), ...outputs.map((t) => sizeOf(t.shape) * dtypeInfo(t.dtype).itemsize)];
  if (plan.scratchBytes > 0) sizes.push(plan.scratchBytes);
  const argsBytes = pad16(4 * sizes.length);
  let at = ARGS_AT + argsBytes + guard;
  const addrs = sizes.map((n) => {
    const a = at;
    at += pad16(n) + guard;
    return a;
  });
  const mem = memoryOf(at + 64);
  const u8 = new Uint8Array(mem.buffer);
  u8.fill(GUARD_BYTE, 0, at + 64);
  const i32 = new Int32Array(mem.buffer);
  addrs.forEach((a, k) => (i32[ARGS_AT / 4 + k] = a));
  inputs.forEach((x, k) => u8.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), addrs[k]!));
  // Outputs and scratch (with their padding) start as junk: a kernel must write what it returns.
  for (let k = inputs.length; k < sizes.length; k++) u8.fill(JUNK_BYTE, addrs[k]!, addrs[k]! + pad16(sizes[k]!));

  let mod = modules.get(plan.key);
  if (!mod) {
    mod = new WebAssembly.Module(plan.bytes);
    modules.set(plan.key, mod);
  }
  const instance = new WebAssembly.Instance(mod, { env: { memory: mem } });
  for (const phase of plan.phases) {
    const entry = instance.exports[phase.entry] as (args: number, begin: number, end: number) => void;
    const grain = opts.grain ?? phase.grain;
    const chunks = Math.ceil(phase.items / grain);
    const order = opts.shuffleSeed === undefined ? Array.from({ length: chunks }, (_, i) => i) : permutation(chunks, opts.shuffleSeed);
    for (const c of order) entry(ARGS_AT, c * grain, Math.min(phase.items, (c + 1) * grain));
  }

  const after = new Uint8Array(mem.buffer);
  const checkGuard = (from: number, to: number, what: string): void => {
    for (let b = from; b < to; b++) if (after[b] !== GUARD_BYTE) throw new Error(`wasm kernel wrote outside its buffers: byte ${b - from} of the guard ${what}`);
  };
  checkGuard(ARGS_AT + argsBytes, ARGS_AT + argsBytes + guard, "before the first buffer");
  addrs.forEach((a, k) => checkGuard(a + pad16(sizes[k]!), a + pad16(sizes[k]!) + guard, `after buffer ${k}`));
  inputs.forEach((x, k) => {
    const now = after.subarray(addrs[k]!, addrs[k]! + x.byteLength);
    const was = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    for (let b = 0; b < was.length; b++) if (now[b] !== was[b]) throw new Error(`wasm kernel modified input ${k} at byte ${b}`);
  });
  return outputs.map((t, o) => {
    const out = allocate(t.dtype, sizeOf(t.shape));
    new Uint8Array(out.buffer).set(after.subarray(addrs[inputs.length + o]!, addrs[inputs.length + o]! + out.byteLength));
    return out;
  });
}

/** Runs `spec` with the JavaScript generator (the reference the wasm kernels reproduce). */
export function runJs(spec: KernelSpec, inputs: readonly TypedArray[]): TypedArray[] {
  const kernel = compileKernel(spec, "wasm-run reference");
  const outs = spec.outputs.map((t) => allocate(t.dtype, sizeOf(t.shape)));
  const env = [...inputs, ...outs];
  kernel.fn(env, Int32Array.from(env, (_, i) => i));
  return outs;
}

/** Index of the first element whose bits differ (NaN matches any NaN), or -1. */
export function firstBitDifference(a: TypedArray, b: TypedArray): number {
  if (a.length !== b.length) return 0;
  const fa = a instanceof Float32Array || a instanceof Float64Array;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (fa && x !== x && y !== y) continue;
    if (!Object.is(x, y)) return i;
  }
  return -1;
}

// ---- building specs ---------------------------------------------------------------------------------

/** One body node for `makeSpec`: op name, operands (`i<k>` an input, `n<j>` an earlier node), attributes. */
export type NodeText = readonly [op: string, operands: readonly string[], attrs?: Attrs];

const parseRef = (s: string): Ref => (s[0] === "i" ? { input: Number(s.slice(1)) } : { node: Number(s.slice(1)) });

/** A KernelSpec from a compact description; node types come from each op's own rule. */
export function makeSpec(kind: KernelSpec["kind"], inputs: readonly TensorType[], nodes: readonly NodeText[], yields: readonly string[]): KernelSpec {
  const built: SpecNode[] = [];
  const typeOf = (r: Ref): TensorType => ("input" in r ? inputs[r.input]! : built[r.node]!.type);
  for (const [op, operands, attrs = {}] of nodes) {
    const def = getOp(op);
    const refs = operands.map(parseRef);
    const [type] = def.infer(refs.map(typeOf), attrs);
    built.push({ op: def, operands: refs, attrs, type: type! });
  }
  const ys = yields.map(parseRef);
  return { kind, inputs, nodes: built, yields: ys, outputs: ys.map(typeOf) };
}

/**
 * The KernelSpec of every fused node of an optimized graph (the operands, then the graph constants
 * its body names, as src/exec/cpu/compile.ts builds them), plus single elementwise/reduce nodes.
 */
export function specsOf(graph: Graph): { spec: KernelSpec; inputs: string[] }[] {
  const types = new Map<string, TensorType>();
  for (const p of graph.params) types.set(p.name, p.type);
  for (const c of graph.constants) types.set(c.name, c.type);
  const out: { spec: KernelSpec; inputs: string[] }[] = [];
  for (const node of graph.nodes) {
    for (const r of node.results) types.set(r.name, r.type);
    const op = getOp(node.op);
    if (op.kind !== "fused") {
      const kind = op.kind === "elementwise" ? "elementwise" : isGeneratedReduction(op.name) ? "reduce" : undefined;
      if (kind === undefined) continue;
      const inputs = node.operands.map((o) => types.get(o)!);
      out.push({
        spec: { kind, inputs, nodes: [{ op, operands: inputs.map((_, k) => ({ input: k })), attrs: node.attrs, type: node.results[0]!.type }], yields: [{ node: 0 }], outputs: [node.results[0]!.type] },
        inputs: [...node.operands],
      });
      continue;
    }
    const region = node.regions![0]!;
    const refs = new Map<string, Ref>();
    const inputNames = [...node.operands];
    const inputTypes = node.operands.map((o) => types.get(o)!);
    region.params.forEach((p, k) => refs.set(p.name, { input: k }));
    const ref = (name: string): Ref => {
      const r = refs.get(name);
      if (r) return r;
      const c: Ref = { input: inputNames.length };
      inputNames.push(name);
      inputTypes.push(types.get(name)!);
      refs.set(name, c);
      return c;
    };
    const nodes: SpecNode[] = region.nodes.map((n, j) => {
      const s: SpecNode = { op: getOp(n.op), operands: n.operands.map(ref), attrs: n.attrs, type: n.results[0]!.type };
      refs.set(n.results[0]!.name, { node: j });
      return s;
    });
    const yields = region.results.map(ref);
    out.push({ spec: { kind: node.attrs["kind"] as KernelSpec["kind"], inputs: inputTypes, nodes, yields, outputs: node.results.map((r) => r.type) }, inputs: inputNames });
  }
  return out;
}
