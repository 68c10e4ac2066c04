/**
 * The CPU compiler: `compile(graph) -> Executable`. Everything a run needs is decided here, once:
 * each node becomes a step (a closure over its resolved kernel, its operand and result slots in
 * the value table, its attributes and result types), intermediates get buffers from the memory plan
 * (memory-plan.ts), and `run` only checks its arguments and calls the steps in order: no graph walk,
 * no registry or kernel-table lookup, no per-node allocation except fresh result buffers.
 *
 * Fused nodes, and single elementwise, reduction (sum, mean, prod, max, min, any, all) and matmul
 * nodes, run generated kernels that write into planned buffers: WebAssembly SIMD where a generator
 * in ../wasm takes the spec and the work is large enough (compile-hooks.ts), else JavaScript
 * (codegen-fused.ts). Every other op runs its library kernel (conv2d may also run WebAssembly),
 * which allocates its own results. With JavaScript kernels results equal `interpret(graph)` bit
 * for bit; WebAssembly kernels keep exact ops exact and bound the rest (transcendentals in ulps,
 * float32 matmul accumulation: docs/architecture.md).
 */
import { allocate, type DType, dtypeInfo, isDType, type TypedArray } from "../../ir/dtype.js";
import { DTypeError, ShapeError, SymtensorError, ValueError } from "../../ir/errors.js";
import type { Graph, Node, Region } from "../../ir/graph.js";
import "../../ir/ops/index.js";
import { type Attrs, getOp, type OpDef } from "../../ir/registry.js";
import { sizeOf } from "../../ir/shape.js";
import { formatType, sameShape, sameType, type TensorType } from "../../ir/types.js";
import type { HostBuffer } from "../backend.js";
import { cpuBackend, getCpuKernel, hasCpuKernel } from "./backend.js";
import { FUSED_KINDS, type FusedKind } from "../../ir/ops/fused.js";
import { regionEvaluator } from "../../ir/ops/control.js";
import { clearKernelCache as clearJsKernelCache, type CompiledKernel, compileKernel, isGeneratedReduction, type KernelSpec, type Ref, type SpecNode } from "./codegen-fused.js";
import "./kernels/index.js";
import { type MemoryPlan, type PlanOptions, type PlanOutput, type PlanStep, planMemory, slotViews } from "./memory-plan.js";
import { allocateTensorData, markMutable } from "../wasm/executor.js";
import { clearWasmPlanCache, stageConstant, type WasmMode, wasmKernelFor, wasmOpKernelFor, wasmSlotAllocator } from "../wasm/compile-hooks.js";

export { kernelCacheStats } from "./codegen-fused.js";

/** Empties the process-wide caches of generated kernels, JavaScript and WebAssembly (benchmarks of first calls). */
export function clearKernelCache(): void {
  clearJsKernelCache();
  clearWasmPlanCache();
}
export type { MemoryPlan } from "./memory-plan.js";

export interface CompileOptions extends PlanOptions {
  /**
   * WebAssembly SIMD kernels: "auto" (default) for kernels with enough work where the runtime is
   * available, "always" for every kernel a WASM generator supports (tests), "never" for the
   * JavaScript kernels only. SYMTENSOR_WASM=0 turns the runtime off altogether.
   */
  readonly wasm?: WasmMode;
}

export interface KernelInfo {
  /** The node's first result (or `node N` for a node without results). */
  readonly node: string;
  readonly op: string;
  /** Generated kernels only: the JavaScript source (or a WebAssembly kernel's description) and the structural hash it is cached by. */
  readonly source?: string;
  readonly hash?: string;
  /** Generated kernels only: which code runs it. */
  readonly backend?: "js" | "wasm";
}

export interface Executable {
  /** Runs the graph on buffers matching its parameters; returns fresh result buffers. Not re-entrant. */
  run(inputs: readonly HostBuffer[]): HostBuffer[];
  /** One entry per step, in execution order. */
  readonly kernels: readonly KernelInfo[];
  readonly plan: MemoryPlan;
}

type Step = (env: TypedArray[]) => void;

/** A node, resolved: either a generated kernel over named inputs, or a library kernel. */
type Resolved =
  | { readonly kind: "generated"; readonly node: Node; readonly kernel: CompiledKernel; readonly inputs: readonly string[]; readonly wasm: boolean }
  | { readonly kind: "library"; readonly node: Node; readonly op: OpDef }
  /** Control flow: each region compiled once into its own executable, run by the op's evalRegions. */
  | { readonly kind: "regions"; readonly node: Node; readonly op: OpDef; readonly regions: readonly Executable[] };

const nodeName = (node: Node, i: number): string => node.results[0]?.name ?? `node ${i}`;

/** Compiles `graph` for the CPU. Throws ValueError for a node it cannot run (no kernel, malformed fused body). */
export function compile(graph: Graph, options: CompileOptions = {}): Executable {
  const where = `compile @${graph?.name}`;
  if (typeof graph !== "object" || graph === null || !Array.isArray(graph.nodes) || !Array.isArray(graph.params)) {
    throw new ValueError(`${where}: expected an IR graph`);
  }
  const wasmMode: WasmMode = options.wasm ?? "auto";
  const types = new Map<string, TensorType>();
  const define = (name: string, type: TensorType): void => {
    if (types.has(name)) throw new ValueError(`${where}: value ${name} is defined twice (verify the graph first)`);
    types.set(name, type);
  };
  for (const p of graph.params) define(p.name, p.type);
  for (const c of graph.constants) define(c.name, c.type);
  const constants = new Map(graph.constants.map((c) => [c.name, c]));

  const resolved = graph.nodes.map((node, i): Resolved => {
    const at = `${where}: ${nodeName(node, i)} = ${node.op}(...)`;
    for (const o of node.operands) if (!types.has(o)) throw new ValueError(`${at}: operand ${o} is not defined (verify the graph first)`);
    const r = resolve(node, types, constants, at, wasmMode);
    for (const v of node.results) define(v.name, v.type);
    return r;
  });
  for (const r of graph.results) if (!types.has(r)) throw new ValueError(`${where}: result ${r} is not defined (verify the graph first)`);

  const planSteps = resolved.map((r) => planStep(r, types));
  const plan = planMemory({ params: graph.params, constants: graph.constants, steps: planSteps, results: graph.results }, options);

  // The value table: one slot per name; constants, slot views and empty values are bound once.
  const slotOf = new Map<string, number>();
  for (const name of types.keys()) slotOf.set(name, slotOf.size);
  const base = new Array<TypedArray>(slotOf.size).fill(EMPTY);
  // WebAssembly kernels address one memory: when any step runs one, intermediates and the
  // constants those steps read live in it, so only parameters and returned results are copied at
  // run time. Their blocks are freed when `base` is collected, which only the executable's run
  // closure holds.
  const owner = base;
  const wasmReads = new Set(resolved.flatMap((r) => (r.kind === "generated" && r.wasm ? r.inputs : [])));
  const slotAllocator = wasmReads.size > 0 ? wasmSlotAllocator(owner) : undefined;
  for (const c of graph.constants) base[slotOf.get(c.name)!] = slotAllocator && wasmReads.has(c.name) ? stageConstant(c.data, c.type, owner) : c.data;
  for (const [name, view] of slotViews(plan, slotAllocator)) {
    markMutable(view);
    base[slotOf.get(name)!] = view;
  }
  const fresh = new Set<string>();
  for (const v of plan.values) {
    if (v.placement.kind === "empty") base[slotOf.get(v.name)!] = allocate(v.type.dtype, 0);
    if (v.placement.kind === "output") fresh.add(v.name);
  }
  const slot = (name: string): number => slotOf.get(name)!;
  const names = graph.nodes.map(nodeName);
  // Library results are dropped from the table after their last use (as the interpreter does), so
  // the garbage collector can take them mid-run, as the plan's peak assumes.
  const release: number[][] = resolved.map(() => []);
  for (const v of plan.values) if (v.placement.kind === "kernel" && v.end < resolved.length) release[v.end]!.push(slot(v.name));
  const steps = resolved.map((r, i) => {
    const at = `compiled @${graph.name}: ${names[i]!} = ${r.node.op}(...)`;
    const step = r.kind === "generated" ? generatedStep(r, slot, fresh) : r.kind === "regions" ? regionStep(r, slot, types) : libraryStep(r, slot, types, at);
    return release[i]!.length === 0 ? step : releasing(step, Int32Array.from(release[i]!));
  });
  const kernels: KernelInfo[] = resolved.map((r, i) => ({
    node: names[i]!,
    op: r.node.op,
    ...(r.kind === "generated" ? { source: r.kernel.source, hash: r.kernel.hash, backend: r.wasm ? ("wasm" as const) : ("js" as const) } : {}),
  }));

  const check = argumentChecker(graph, `compiled @${graph.name}`);
  const paramSlots = graph.params.map((p) => slot(p.name));
  const resultSlots = graph.results.map(slot);
  const resultTypes = graph.results.map((r) => types.get(r)!);
  let running = false;
  return {
    kernels,
    plan,
    run(inputs: readonly HostBuffer[]): HostBuffer[] {
      check(inputs);
      if (running) {
        throw new ValueError(`compiled @${graph.name}: run() was called while a run of the same executable is in progress (from a debugPrint sink?); its planned buffers are not re-entrant`);
      }
      running = true;
      const env = base.slice();
      for (let k = 0; k < paramSlots.length; k++) env[paramSlots[k]!] = inputs[k]!.data;
      let i = 0;
      try {
        for (; i < steps.length; i++) steps[i]!(env);
      } catch (err) {
        if (err instanceof SymtensorError) throw err;
        // A kernel bug, not a user error: keep the original as the cause but surface a typed error.
        const e = new ValueError(`compiled @${graph.name}: the kernel of ${graph.nodes[i]!.op} failed at ${names[i]}: ${err instanceof Error ? err.message : String(err)}`);
        Object.defineProperty(e, "cause", { value: err });
        throw e;
      } finally {
        running = false;
      }
      return resultSlots.map((s, r) => ({ data: env[s]!, type: resultTypes[r]! }));
    },
  };
}

const EMPTY: TypedArray = new Float32Array(0);

// ---- resolving nodes ----------------------------------------------------------------------------

/** Single ops the generator compiles; every other op runs its library kernel. */
function singleOpKind(op: OpDef): FusedKind | undefined {
  if (op.kind === "elementwise") return "elementwise";
  if (isGeneratedReduction(op.name)) return "reduce";
  if (op.name === "matmul") return "matmul";
  return undefined;
}

function resolve(node: Node, types: ReadonlyMap<string, TensorType>, constants: ReadonlyMap<string, Graph["constants"][number]>, at: string, wasm: WasmMode): Resolved {
  const op = getOp(node.op);
  if (op.kind === "fused") {
    const kind = node.attrs["kind"];
    if (typeof kind !== "string" || !(FUSED_KINDS as readonly string[]).includes(kind)) {
      throw new ValueError(`${at}: attribute "kind" must be one of ${FUSED_KINDS.map((k) => `"${k}"`).join(", ")}, got ${JSON.stringify(kind ?? null)}`);
    }
    if (node.regions?.length !== 1) throw new ValueError(`${at}: a fused node has exactly one region, got ${node.regions?.length ?? 0}`);
    const { spec, inputs } = regionSpec(kind as FusedKind, node, node.regions[0]!, types, constants, at);
    return generated(node, spec, inputs, `${at} {kind = "${kind}"}`, wasm);
  }
  if (regionEvaluator(op) && node.regions) {
    const regions = node.regions.map((r, k) =>
      compile({ name: `${nodeName(node, 0)}.region${k}`, params: r.params, constants: [...constants.values()] as Graph["constants"], nodes: r.nodes, results: r.results }, { wasm }),
    );
    return { kind: "regions", node, op, regions };
  }
  if (node.regions?.length) throw new ValueError(`${at}: op ${node.op} has regions, which the CPU compiler does not run`);
  const single = singleOpKind(op);
  if (single && node.results.length === 1) {
    const inputs = node.operands.map((o) => types.get(o)!);
    const spec: KernelSpec = {
      kind: single,
      inputs,
      nodes: [{ op, operands: inputs.map((_, k) => ({ input: k })), attrs: node.attrs, type: node.results[0]!.type }],
      yields: [{ node: 0 }],
      outputs: [node.results[0]!.type],
    };
    return generated(node, spec, node.operands, at, wasm);
  }
  const w = wasmOpKernelFor(op.name, node.operands.map((o) => types.get(o)!), node.attrs, node.results.map((v) => v.type), wasm);
  if (w) return { kind: "generated", node, kernel: w, inputs: node.operands, wasm: true };
  if (!hasCpuKernel(op)) throw new ValueError(`${at}: op ${node.op} has no CPU kernel`);
  return { kind: "library", node, op };
}

/** A generated kernel: WebAssembly where a generator takes the spec (and the mode allows), else JavaScript. */
function generated(node: Node, spec: KernelSpec, inputs: readonly string[], at: string, wasm: WasmMode): Resolved {
  const w = wasmKernelFor(spec, wasm);
  if (w) return { kind: "generated", node, kernel: w, inputs, wasm: true };
  return { kind: "generated", node, kernel: compileKernel(spec, at), inputs, wasm: false };
}

/** A fused node's body as a kernel spec; its inputs are the node's operands, then the constants the body names. */
export function regionSpec(
  kind: FusedKind,
  node: Node,
  region: Region,
  types: ReadonlyMap<string, TensorType>,
  constants: { has(name: string): boolean },
  at: string,
): { spec: KernelSpec; inputs: string[] } {
  if (region.params.length !== node.operands.length) {
    throw new ValueError(`${at}: the region has ${region.params.length} parameters for ${node.operands.length} operands`);
  }
  const refs = new Map<string, Ref>();
  const inputTypes: TensorType[] = [];
  const inputs: string[] = [...node.operands];
  region.params.forEach((p, k) => {
    const t = types.get(node.operands[k]!)!;
    if (!sameType(p.type, t)) throw new ValueError(`${at}: region parameter ${p.name} is ${formatType(p.type)} but operand ${k} (${node.operands[k]}) is ${formatType(t)}`);
    refs.set(p.name, { input: k });
    inputTypes.push(t);
  });
  const ref = (name: string, what: string): Ref => {
    const r = refs.get(name);
    if (r) return r;
    if (constants.has(name)) {
      const c: Ref = { input: inputs.length };
      inputs.push(name);
      inputTypes.push(types.get(name)!);
      refs.set(name, c);
      return c;
    }
    throw new ValueError(`${at}: ${what} reads ${name}, which is neither a region parameter, an earlier body value nor a graph constant`);
  };
  const nodes: SpecNode[] = region.nodes.map((n, j) => {
    if (n.results.length !== 1) throw new ValueError(`${at}: body node ${j} (${n.op}) has ${n.results.length} results; fused bodies hold single-result ops`);
    if (n.regions?.length) throw new ValueError(`${at}: body node ${j} (${n.op}) has regions`);
    const spec: SpecNode = { op: getOp(n.op), operands: n.operands.map((o) => ref(o, `body node ${j} (${n.op})`)), attrs: n.attrs, type: n.results[0]!.type };
    refs.set(n.results[0]!.name, { node: j });
    return spec;
  });
  const yields = region.results.map((r) => ref(r, "yield"));
  return { spec: { kind, inputs: inputTypes, nodes, yields, outputs: node.results.map((r) => r.type) }, inputs };
}

// ---- planning and steps ---------------------------------------------------------------------------

function planStep(r: Resolved, types: ReadonlyMap<string, TensorType>): PlanStep {
  const { node } = r;
  if (r.kind === "generated") {
    const writes: PlanOutput[] = node.results.map((v, o) => ({
      name: v.name,
      type: v.type,
      storage: "planned",
      inPlace: (r.kernel.inPlace[o] ?? []).map((k) => r.inputs[k]!),
    }));
    return { reads: r.inputs, writes, scratchBytes: r.kernel.scratchBytes };
  }
  // A kernel can only hand back an operand's array as a result of the same storage class and length.
  const sameStorage = (a: TensorType, b: TensorType): boolean => dtypeInfo(a.dtype).array === dtypeInfo(b.dtype).array && sizeOf(a.shape) === sizeOf(b.shape);
  const writes: PlanOutput[] = node.results.map((v) => ({
    name: v.name,
    type: v.type,
    storage: "kernel",
    mayAlias: node.operands.filter((o) => sameStorage(types.get(o)!, v.type)),
  }));
  return { reads: node.operands, writes };
}

/** A control-flow node: its op decides which compiled region runs when, on fresh buffers each time. */
function regionStep(r: Extract<Resolved, { kind: "regions" }>, slot: (name: string) => number, types: ReadonlyMap<string, TensorType>): Step {
  const evalRegions = regionEvaluator(r.op)!;
  const { node } = r;
  const inSlots = node.operands.map(slot);
  const inTypes = node.operands.map((o) => types.get(o)!);
  const outSlots = node.results.map((v) => slot(v.name));
  const outTypes = node.results.map((v) => v.type);
  const run = (k: number, args: readonly HostBuffer[]): HostBuffer[] => r.regions[k]!.run(args);
  return (env) => {
    const operands = inSlots.map((s, k): HostBuffer => ({ data: env[s]!, type: inTypes[k]! }));
    const outs = evalRegions(operands, node.attrs, run, outTypes);
    for (let k = 0; k < outs.length; k++) env[outSlots[k]!] = outs[k]!;
  };
}

function releasing(step: Step, slots: Int32Array): Step {
  return (env) => {
    step(env);
    for (let k = 0; k < slots.length; k++) env[slots[k]!] = EMPTY;
  };
}

function generatedStep(r: Extract<Resolved, { kind: "generated" }>, slot: (name: string) => number, fresh: ReadonlySet<string>): Step {
  const fn = r.kernel.fn;
  const slots = Int32Array.from([...r.inputs.map(slot), ...r.node.results.map((v) => slot(v.name))]);
  // Results the caller receives are allocated every run; everything else was bound at compile time.
  const outs = r.node.results.filter((v) => fresh.has(v.name));
  if (outs.length === 0) return (env) => fn(env, slots);
  const outSlots = outs.map((v) => slot(v.name));
  const outDTypes: DType[] = outs.map((v) => v.type.dtype);
  const outSizes = outs.map((v) => sizeOf(v.type.shape));
  if (r.wasm) {
    // Results a WebAssembly kernel writes whole: in its memory where possible, so no copy out.
    return (env) => {
      for (let k = 0; k < outSlots.length; k++) env[outSlots[k]!] = allocateTensorData(outDTypes[k]!, outSizes[k]!, false);
      fn(env, slots);
    };
  }
  return (env) => {
    for (let k = 0; k < outSlots.length; k++) env[outSlots[k]!] = allocate(outDTypes[k]!, outSizes[k]!);
    fn(env, slots);
  };
}

function libraryStep(r: Extract<Resolved, { kind: "library" }>, slot: (name: string) => number, types: ReadonlyMap<string, TensorType>, at: string): Step {
  const { node, op } = r;
  const attrs: Attrs = node.attrs;
  const outTypes = node.results.map((v) => v.type);
  const inSlots = node.operands.map(slot);
  const outSlots = node.results.map((v) => slot(v.name));
  // Operand holders are reused every run and emptied afterwards, so they never keep a caller's data alive.
  const holders: { data: TypedArray; type: TensorType }[] = node.operands.map((o) => ({ data: EMPTY, type: types.get(o)! }));
  const ctors = outTypes.map((t) => dtypeInfo(t.dtype).array);
  const sizes = outTypes.map((t) => sizeOf(t.shape));
  // Bound once here, so a run does no kernel-table lookup (elementwise ops have no table entry:
  // their generated kernel is resolved through execute).
  const kernel = getCpuKernel(op.name);
  const execute = kernel ? (_op: OpDef, ins: readonly HostBuffer[], a: Attrs, t: readonly TensorType[]) => kernel(ins, a, t) : cpuBackend.execute;
  return (env) => {
    for (let k = 0; k < holders.length; k++) holders[k]!.data = env[inSlots[k]!]!;
    const outs = execute(op, holders, attrs, outTypes);
    for (let k = 0; k < holders.length; k++) holders[k]!.data = EMPTY;
    if (outs.length !== outTypes.length) throw new ValueError(`${at}: the CPU kernel returned ${outs.length} buffers for ${outTypes.length} results`);
    for (let k = 0; k < outs.length; k++) {
      const data = outs[k]!;
      if (!(data instanceof ctors[k]!) || data.length !== sizes[k]) {
        throw new ValueError(`${at}: the CPU kernel returned a ${data.constructor.name} of ${data.length} elements for result ${k} (${formatType(outTypes[k]!)})`);
      }
      env[outSlots[k]!] = data;
    }
  };
}

// ---- arguments --------------------------------------------------------------------------------------

/** formatType for a caller-supplied type that may be malformed. */
function describeType(t: unknown): string {
  if (typeof t !== "object" || t === null) return String(t);
  const { dtype, shape } = t as { dtype?: unknown; shape?: unknown };
  if (isDType(dtype) && Array.isArray(shape) && shape.every((d) => typeof d === "number")) return formatType({ dtype, shape });
  return "a malformed type";
}

/** Validates a run's buffers against the parameters, with the interpreter's typed errors. */
function argumentChecker(graph: Graph, where: string): (inputs: readonly HostBuffer[]) => void {
  const signature = graph.params.map((p) => `${p.name}: ${formatType(p.type)}`).join(", ");
  const params = graph.params.map((p) => ({ p, want: formatType(p.type), storage: dtypeInfo(p.type.dtype).array, size: sizeOf(p.type.shape) }));
  const n = params.length;
  return (inputs) => {
    if (!Array.isArray(inputs)) throw new ValueError(`${where}: arguments must be an array of buffers (${signature})`);
    if (inputs.length !== n) throw new ValueError(`${where}: expected ${n} argument${n === 1 ? "" : "s"} (${signature}), got ${inputs.length}`);
    for (let i = 0; i < n; i++) {
      const { p, want, storage, size } = params[i]!;
      const arg: unknown = inputs[i];
      const what = `argument ${i} (${p.name})`;
      if (typeof arg !== "object" || arg === null || !("data" in arg) || !("type" in arg)) {
        const got = arg === null ? "null" : ArrayBuffer.isView(arg) ? `a bare ${arg.constructor.name}` : typeof arg;
        throw new ValueError(`${where}: ${what} must be a buffer {data, type} of ${want}, got ${got}`);
      }
      const { data, type } = arg as { data: unknown; type: unknown };
      const t = (typeof type === "object" && type !== null ? type : {}) as Partial<TensorType>;
      if (t.dtype !== p.type.dtype) throw new DTypeError(`${where}: ${what} must be ${want}, got ${describeType(type)}`);
      if (!Array.isArray(t.shape) || !sameShape(t.shape, p.type.shape)) throw new ShapeError(`${where}: ${what} must be ${want}, got ${describeType(type)}`);
      if (!(data instanceof storage)) {
        const got = ArrayBuffer.isView(data) ? data.constructor.name : typeof data;
        throw new DTypeError(`${where}: ${what} is ${want}, whose data must be a ${storage.name}, got ${got}`);
      }
      if (data.length !== size) throw new ShapeError(`${where}: ${what} is ${want} (${size} elements), but its data holds ${data.length}`);
    }
  };
}
