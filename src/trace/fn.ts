/**
 * `fn()`: trace a function once per input signature into an IR graph, then run the graph.
 *
 * Signature = the tree structure of the arguments + each tensor leaf's (shape, dtype, device) +
 * the value of every other leaf (static, like Python values in tf.function). The first call with
 * a new signature traces; later calls with it reuse the graph. Inside the trace, tensor arguments
 * are SymbolicTensors; eager tensors the function closes over become graph constants.
 */
import type { Graph } from "../ir/graph.js";
import { ValueError } from "../ir/errors.js";
import { formatType, type TensorType } from "../ir/types.js";
import { toDot } from "../ir/dot.js";
import { print } from "../ir/print.js";
import { verify } from "../ir/verify.js";
import type { HostBuffer } from "../exec/backend.js";
import { interpret } from "../exec/interpret.js";
import { cpuBackend } from "../exec/cpu/backend.js";
import { compile, type Executable, type KernelInfo, type MemoryPlan } from "../exec/cpu/compile.js";
import { DEFAULT_PIPELINE, type Pass, type PassStage, runPasses } from "../ir/passes/index.js";
import { tensor } from "./create.js";
import { checkDevice, countHostToDevice, getDefaultDevice } from "./device.js";
import { compileWebGPU, type GpuExecutable } from "../exec/webgpu/compile.js";
import type { GpuStorage } from "../exec/webgpu/buffers.js";
import { requireWebGPU } from "../exec/webgpu/runtime.js";
import { upload } from "../exec/webgpu/transfer.js";
import { DeviceError } from "../ir/errors.js";
import { describeStatic, flatten, isTensorLeaf, staticKey, treeDefKey, type TreeDef, unflatten } from "./pytree.js";
import { currentTrace, SymbolicTensor, Trace, userCallSite, withTrace, escapedTracerError } from "./symbolic.js";
import { type Device, EagerTensor, Tensor } from "./tensor.js";
import { nameFromCallSite } from "./names.js";
import { emitWarning } from "./warnings.js";

export interface FnOptions {
  /** The name used in IR (`func @name`) and in messages; defaults to the function's own name. */
  name?: string;
  /**
   * The device the compiled graph runs on. Default: the device of the tensor arguments (the first
   * one's), or the default device (getDefaultDevice()) when there are none. On "webgpu", cpu
   * tensor arguments are uploaded for the call (counted in transferStats()).
   */
  device?: Device;
  /** The optimization pipeline: pass names or passes (default: canonicalize, cse, dce, fuse, dce). */
  passes?: readonly (string | Pass)[];
  /** Verify the graph after every pass (default: off; the final graph is always verified). */
  verifyEach?: boolean;
  /**
   * "compiled" (default): generated CPU kernels with a memory plan. "interpreter": run the
   * optimized graph op by op with the reference interpreter (for debugging the compiler).
   */
  executor?: "compiled" | "interpreter";
}

export interface IrOptions {
  /** `"traced"`: the graph as recorded; `"optimized"` (default): after the pass pipeline. */
  stage?: "traced" | "optimized";
  format?: "text" | "json" | "dot";
  /** Print large constants as `dense<...>` (readable, not parseable). Default true for `ir()`. */
  elideConstants?: boolean;
  /** Include `loc(...)` source locations (default true). */
  loc?: boolean;
}

const IR_OPTION_KEYS = new Set(["stage", "format", "elideConstants", "loc"]);

export interface TracedFunction<A extends unknown[], R> {
  (...args: A): R;
  /** How many times the function has been traced (once per new signature). */
  readonly traceCount: number;
  /** The traced IR graph for these arguments (traces if this signature is new; does not run). */
  lower(...args: A): Graph;
  /** The graph after the pass pipeline. */
  optimized(...args: A): Graph;
  /** Every pass's output, in order, with its time. */
  stages(...args: A): readonly PassStage[];
  /** The compiled executable's memory plan (peak bytes, buffers) for these arguments. */
  memoryPlan(...args: A): MemoryPlan;
  /** The compiled kernels, with the generated JavaScript source of each fused kernel. */
  kernels(...args: A): readonly KernelInfo[];
  /** The IR as text (or JSON / Graphviz DOT) for these arguments; options may follow the arguments. */
  ir(...args: [...A] | [...A, IrOptions]): string;
  /** Drops every cached trace. */
  clearCache(): void;
}

interface Entry {
  /** The graph as traced. */
  readonly traced: Graph;
  /** The graph after the passes: what runs. */
  readonly graph: Graph;
  readonly stages: readonly PassStage[];
  readonly executable: Executable | undefined;
  /** The compiled graph when it runs on the webgpu device. */
  readonly gpu: GpuExecutable | undefined;
  readonly device: Device;
  readonly outDef: TreeDef;
  /** Per output leaf: the index of the graph result it takes, or the static value to return. */
  readonly outLeaves: readonly ({ result: number } | { value: unknown })[];
}

interface Signature {
  readonly key: string;
  readonly def: TreeDef;
  readonly paths: readonly string[];
  readonly leafKeys: readonly string[];
  /** Per leaf, what a user reads: `f32[4]`, `0.5`, `"relu"`. */
  readonly leafText: readonly string[];
}

const RETRACE_WINDOW = 5;

function tensorKey(t: Tensor): string {
  return `T:${t.dtype}[${t.shape.join(",")}]@${t.device}`;
}

function signatureOf(leaves: readonly unknown[], def: TreeDef, paths: readonly string[], extra: string): Signature {
  const leafKeys = leaves.map((x) => (x instanceof Tensor ? tensorKey(x) : staticKey(x)));
  const leafText = leaves.map((x) => (x instanceof Tensor ? `${formatType(x.type)}${x.device === "cpu" ? "" : ` on ${x.device}`}` : describeStatic(x)));
  return { key: `${extra}|${treeDefKey(def)}|${leafKeys.join("|")}`, def, paths, leafKeys, leafText };
}

/** Names the argument whose shape, dtype or value changed between two signatures. */
function explainChange(prev: Signature, next: Signature): string {
  if (treeDefKey(prev.def) !== treeDefKey(next.def)) return "the structure of the arguments changed (a different nesting of arrays/objects, or a different number of arguments)";
  for (let i = 0; i < next.leafKeys.length; i++) {
    if (prev.leafKeys[i] !== next.leafKeys[i]) {
      return `argument ${next.paths[i]} changed from ${prev.leafText[i]} to ${next.leafText[i]}`;
    }
  }
  return "the signature changed";
}

function paramName(path: string): string {
  // `[0].w` -> `%arg0.w`, `[1][2]` -> `%arg1.2`: names that IR text accepts.
  const cleaned = path.replace(/^\[(\d+)\]/, "arg$1").replace(/\[(\d+)\]/g, ".$1").replace(/[^A-Za-z0-9_.$]/g, "_");
  return `%${cleaned || "arg"}`;
}

function splitIrArgs(args: unknown[]): { args: unknown[]; opts: IrOptions } {
  const last = args[args.length - 1];
  if (last !== null && typeof last === "object" && Object.getPrototypeOf(last) === Object.prototype) {
    const keys = Object.keys(last);
    if (keys.length > 0 && keys.every((k) => IR_OPTION_KEYS.has(k))) return { args: args.slice(0, -1), opts: last as IrOptions };
  }
  return { args, opts: {} };
}

/** The device a call runs on when fn() was given none: its first tensor argument's, else the default. */
function deviceOfLeaves(leaves: readonly unknown[]): Device {
  for (const x of leaves) if (x instanceof EagerTensor) return x.device;
  return getDefaultDevice();
}

class Compiler {
  readonly name: string;
  /** The device named in the options (undefined: follow the arguments). */
  readonly device: Device | undefined;
  traceCount = 0;
  private readonly cache = new Map<string, Entry>();
  /** The previous call's arguments, kept to explain a retrace warning. */
  private previous: { thisArg: unknown; args: unknown[] } | undefined;
  private readonly history: boolean[] = [];
  private warned = false;

  constructor(
    private readonly f: (...args: unknown[]) => unknown,
    options: FnOptions,
  ) {
    this.name = options.name ?? (f.name || nameFromCallSite(userCallSite()) || "anonymous");
    this.device = options.device === undefined ? undefined : checkDevice(options.device, "fn");
    this.passes = options.passes ?? DEFAULT_PIPELINE;
    this.verifyEach = options.verifyEach ?? envFlag("SYMTENSOR_VERIFY_EACH");
    this.executor = options.executor ?? "compiled";
    if (this.executor !== "compiled" && this.executor !== "interpreter") {
      throw new ValueError(`fn: executor must be "compiled" or "interpreter", got ${describeStatic(this.executor)}`);
    }
  }
  private readonly passes: readonly (string | Pass)[];
  private readonly verifyEach: boolean;
  private readonly executor: "compiled" | "interpreter";

  clear(): void {
    // GPU executables hold slot buffers and constants: give them back to the pool.
    for (const e of this.cache.values()) e.gpu?.dispose();
    this.cache.clear();
    this.previous = undefined;
    this.history.length = 0;
  }

  /** Flattens arguments, converting NDArray/TypedArray leaves to tensors. */
  private prepare(thisArg: unknown, args: unknown[]): { leaves: unknown[]; sig: Signature } {
    const flat = flatten(args);
    const leaves = flat.leaves.map((x) => (isTensorLeaf(x) && !(x instanceof Tensor) ? tensor(x as never) : x));
    for (const [i, x] of leaves.entries()) {
      if (x instanceof SymbolicTensor) throw escapedTracerError(x, `as argument ${flat.paths[i]} of \`${this.name}\``);
    }
    const sig = signatureOf(leaves, flat.def, flat.paths, thisKey(thisArg));
    return { leaves, sig };
  }

  /**
   * The cache entry for these arguments, tracing on a miss. The hit path is one walk over the
   * arguments that builds the key and collects the leaves (quickKey); the full signature, with
   * paths and readable types, is only built to trace or to explain a retrace.
   */
  lookup(thisArg: unknown, args: unknown[]): { entry: Entry; leaves: unknown[] } {
    let leaves: unknown[] = [];
    const quick = quickKey(args, leaves);
    // Keys from the slow path (unusual arguments) get their own namespace, so the two never collide.
    // Without a device option the device follows the arguments (their devices are in the key) or,
    // without tensor arguments, the default device: the key names it (no walk over the leaves).
    let key = quick === undefined ? undefined : `q|${thisKey(thisArg)}|${quick}${this.device === undefined ? getDefaultDevice() : ""}`;
    let entry = key === undefined ? undefined : this.cache.get(key);
    let retraced = false;
    if (!entry) {
      const prepared = this.prepare(thisArg, args);
      leaves = prepared.leaves;
      key ??= `s|${prepared.sig.key}${this.device === undefined ? getDefaultDevice() : ""}`;
      entry = this.cache.get(key);
      if (!entry) {
        retraced = true;
        entry = this.trace(thisArg, prepared.sig, leaves);
        this.cache.set(key, entry);
      }
    }
    this.noteCall(retraced, thisArg, args);
    return { entry, leaves };
  }

  private noteCall(retraced: boolean, thisArg: unknown, args: unknown[]): void {
    this.history.push(retraced);
    if (this.history.length > RETRACE_WINDOW) this.history.shift();
    const previous = this.previous;
    this.previous = { thisArg, args };
    if (!this.warned && retraced && previous && this.history.length === RETRACE_WINDOW && this.history.every(Boolean)) {
      this.warned = true;
      const before = this.prepare(previous.thisArg, previous.args).sig;
      const after = this.prepare(thisArg, args).sig;
      emitWarning(
        "ST007",
        `\`${this.name}\` was traced on each of its last ${RETRACE_WINDOW} calls (${this.traceCount} traces so far): ${explainChange(before, after)}. ` +
          "Every new shape, dtype or static value traces and compiles again. Pass values that change as tensors (not JS numbers), and keep shapes fixed (pad batches to one size).",
      );
    }
  }

  private trace(thisArg: unknown, sig: Signature, leaves: unknown[]): Entry {
    const device = this.device ?? deviceOfLeaves(leaves);
    if (device === "webgpu" && this.executor === "interpreter") {
      throw new ValueError(`fn \`${this.name}\`: executor "interpreter" runs on the cpu; use the default executor on the webgpu device`);
    }
    const trace = new Trace(this.name, device);
    const loc = userCallSite();
    const symbolic = leaves.map((x, i) => (x instanceof Tensor ? trace.param(paramName(sig.paths[i]!), x.type, loc) : x));
    const args = unflatten(sig.def, symbolic) as unknown[];
    const out = withTrace(trace, () => this.f.apply(thisArg, args));
    const flatOut = flatten(out);
    const results: string[] = [];
    const outLeaves = flatOut.leaves.map((x, i): { result: number } | { value: unknown } => {
      if (x instanceof SymbolicTensor) {
        if (x.trace !== trace) throw escapedTracerError(x, `as result ${flatOut.paths[i] || ""} of \`${this.name}\``);
        results.push(x.value.name);
        return { result: results.length - 1 };
      }
      if (x instanceof EagerTensor) {
        results.push(trace.constant(x).name);
        return { result: results.length - 1 };
      }
      return { value: x };
    });
    const traced = trace.builder.build(results);
    verify(traced);
    this.traceCount++;
    const { graph, stages } = runPasses(traced, this.passes, {
      verifyEach: this.verifyEach,
      evaluate: (op, inputs, attrs, outTypes) => cpuBackend.execute(op, inputs, attrs, outTypes),
    });
    verify(graph);
    const gpu = device === "webgpu" ? compileWebGPU(requireWebGPU(`fn \`${this.name}\``), graph) : undefined;
    const executable = this.executor === "compiled" && !gpu ? compile(graph) : undefined;
    dumpStages(this.name, this.traceCount, traced, stages, executable);
    return { traced, graph, stages, executable, gpu, device, outDef: flatOut.def, outLeaves };
  }

  run(entry: Entry, leaves: readonly unknown[]): unknown {
    if (entry.gpu) return this.runGpu(entry, entry.gpu, leaves);
    const inputs: HostBuffer[] = [];
    for (const x of leaves) {
      if (!(x instanceof EagerTensor)) continue;
      if (x.device !== "cpu") throw new DeviceError(`\`${this.name}\` runs on cpu (its device option), but an argument is on ${x.device}; move it with \`await t.to("cpu")\``);
      inputs.push({ data: x.buffer(), type: x.type });
    }
    const outs = entry.executable ? entry.executable.run(inputs) : interpret(entry.graph, inputs);
    const values: unknown[] = new Array(entry.outLeaves.length);
    for (let i = 0; i < values.length; i++) {
      const o = entry.outLeaves[i]!;
      if ("value" in o) values[i] = o.value;
      else {
        const b = outs[o.result]!;
        values[i] = new EagerTensor(b.data, b.type, "cpu");
      }
    }
    // A single returned tensor (the common case) needs no tree rebuilt.
    return entry.outDef.kind === "leaf" ? values[0] : unflatten(entry.outDef, values);
  }

  /** A run on the webgpu device: cpu arguments are uploaded for the call, results stay on the GPU. */
  private runGpu(entry: Entry, gpu: GpuExecutable, leaves: readonly unknown[]): unknown {
    const rt = requireWebGPU(`\`${this.name}\``);
    const inputs: GpuStorage[] = [];
    const uploaded: GpuStorage[] = [];
    let outs: GpuStorage[];
    try {
      for (const x of leaves) {
        if (!(x instanceof EagerTensor)) continue;
        if (x.device === "webgpu") inputs.push(x.gpuStorage());
        else {
          const s = upload(rt, x.buffer(), x.type, `\`${this.name}\` argument`);
          countHostToDevice("webgpu", x.size * 4);
          uploaded.push(s);
          inputs.push(s);
        }
      }
      outs = gpu.run(inputs);
    } finally {
      // Safe before the GPU ran: later writes to these buffers are queued after this run.
      for (const s of uploaded) s.release();
    }
    const types = entry.graph.results.map((r) => resultType(entry.graph, r));
    const used = new Array<boolean>(outs.length).fill(false);
    const values: unknown[] = new Array(entry.outLeaves.length);
    for (let i = 0; i < values.length; i++) {
      const o = entry.outLeaves[i]!;
      if ("value" in o) values[i] = o.value;
      else {
        // A result returned twice shares one buffer: the second tensor takes its own reference.
        const s = used[o.result] ? outs[o.result]!.retain() : outs[o.result]!;
        used[o.result] = true;
        values[i] = EagerTensor.onGpu(s, types[o.result]!);
      }
    }
    for (let r = 0; r < outs.length; r++) if (!used[r]) outs[r]!.release();
    // A single returned tensor (the common case) needs no tree rebuilt.
    return entry.outDef.kind === "leaf" ? values[0] : unflatten(entry.outDef, values);
  }
}

/** The type of a graph result (a parameter, constant or node result). */
function resultType(graph: Graph, name: string): TensorType {
  for (const p of graph.params) if (p.name === name) return p.type;
  for (const c of graph.constants) if (c.name === name) return c.type;
  for (const n of graph.nodes) for (const r of n.results) if (r.name === name) return r.type;
  throw new ValueError(`result ${name} is not defined`);
}

const MAX_QUICK_DEPTH = 64;

/**
 * One walk over the arguments: appends the leaves to `leaves` (NDArray/TypedArray converted to
 * tensors) and returns the cache key, or undefined when the slow path must decide (a symbolic
 * tensor, which is an error to report with its path, or nesting deep enough to be a cycle).
 */
function quickKey(args: readonly unknown[], leaves: unknown[]): string | undefined {
  const state = { key: "" };
  return quickWalk(args, 0, leaves, state) ? state.key : undefined;
}

function quickWalk(x: unknown, depth: number, leaves: unknown[], state: { key: string }): boolean {
  if (x instanceof EagerTensor) {
    leaves.push(x);
    state.key += x.signatureKey + ";";
    return true;
  }
  if (depth > MAX_QUICK_DEPTH || x instanceof SymbolicTensor) return false;
  if (Array.isArray(x)) {
    state.key += "[";
    for (let i = 0; i < x.length; i++) if (!quickWalk(x[i], depth + 1, leaves, state)) return false;
    state.key += "]";
    return true;
  }
  if (x !== null && typeof x === "object") {
    const proto = Object.getPrototypeOf(x);
    if (proto === Object.prototype || proto === null) {
      const keys = Object.keys(x).sort();
      state.key += "{";
      for (const k of keys) {
        state.key += JSON.stringify(k) + ":";
        if (!quickWalk((x as Record<string, unknown>)[k], depth + 1, leaves, state)) return false;
      }
      state.key += "}";
      return true;
    }
    if (isTensorLeaf(x)) {
      const t = tensor(x as never) as EagerTensor;
      leaves.push(t);
      state.key += t.signatureKey + ";";
      return true;
    }
  }
  leaves.push(x);
  state.key += staticKey(x) + ";";
  return true;
}

/** `this` of a decorated method is static: its identity, plus the identity of each tensor field. */
function thisKey(thisArg: unknown): string {
  if (thisArg === undefined || thisArg === null || typeof thisArg !== "object") return "";
  const fields = Object.entries(thisArg as Record<string, unknown>)
    .filter(([, v]) => v instanceof Tensor)
    .map(([k, v]) => `${k}=${staticKey(v)}`);
  return `${staticKey(thisArg)}{${fields.join(",")}}`;
}

function makeTraced<A extends unknown[], R>(f: (...args: A) => R, options: FnOptions): TracedFunction<A, R> {
  const compiler = new Compiler(f as (...args: unknown[]) => unknown, options);
  const call = function (this: unknown, ...args: A): R {
    // Inside another trace, a traced function is inlined into that trace, as jit inside jit.
    if (currentTrace()) return f.apply(this, args);
    const { entry, leaves } = compiler.lookup(this, args);
    return compiler.run(entry, leaves) as R;
  };
  const entryOf = function (thisArg: unknown, args: A): Entry {
    return compiler.lookup(thisArg, args).entry;
  };
  const lower = function (this: unknown, ...args: A): Graph {
    return entryOf(this, args).traced;
  };
  const executableOf = (thisArg: unknown, args: A, what: string): Executable | GpuExecutable => {
    const entry = entryOf(thisArg, args);
    const exe = entry.executable ?? entry.gpu;
    if (!exe) throw new ValueError(`${what}: \`${compiler.name}\` runs with the interpreter (executor: "interpreter"), which has no compiled executable`);
    return exe;
  };
  Object.defineProperties(call, {
    traceCount: { get: () => compiler.traceCount },
    name: { value: compiler.name },
    lower: { value: lower },
    optimized: { value: function (this: unknown, ...args: A) { return entryOf(this, args).graph; } },
    stages: { value: function (this: unknown, ...args: A) { return entryOf(this, args).stages; } },
    memoryPlan: { value: function (this: unknown, ...args: A) { return executableOf(this, args, "memoryPlan").plan; } },
    kernels: { value: function (this: unknown, ...args: A) { return executableOf(this, args, "kernels").kernels; } },
    ir: {
      value: function (this: unknown, ...all: unknown[]): string {
        const { args, opts } = splitIrArgs(all);
        const stage = opts.stage ?? "optimized";
        if (stage !== "traced" && stage !== "optimized") {
          throw new ValueError(`ir: unknown stage ${JSON.stringify(opts.stage)}; available: "traced", "optimized"`);
        }
        const entry = entryOf(this, args as A);
        const graph = stage === "traced" ? entry.traced : entry.graph;
        const format = opts.format ?? "text";
        if (format === "json") return JSON.stringify(graph, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v), 2);
        if (format === "dot") return toDot(graph, { elideConstants: opts.elideConstants ?? true });
        if (format !== "text") throw new ValueError(`ir: unknown format ${JSON.stringify(format)}; available: "text", "json", "dot"`);
        return print(graph, { elideConstants: opts.elideConstants ?? true, loc: opts.loc ?? true });
      },
    },
    clearCache: { value: () => compiler.clear() },
  });
  return call as unknown as TracedFunction<A, R>;
}

type MethodDecorator = <This, A extends unknown[], R>(
  method: (this: This, ...args: A) => R,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
) => (this: This, ...args: A) => R;

/**
 * Traces `f` once per input signature into an IR graph and runs the graph. Also a TC39 method
 * decorator: `@fn() forward(x) { ... }` (then `this` is part of the signature: its identity and
 * the identity of each of its tensor fields).
 */
export function fn<A extends unknown[], R>(f: (...args: A) => R, options?: FnOptions): TracedFunction<A, R>;
export function fn(options?: FnOptions): MethodDecorator;
export function fn<A extends unknown[], R>(fOrOptions?: ((...args: A) => R) | FnOptions, options: FnOptions = {}): TracedFunction<A, R> | MethodDecorator {
  if (typeof fOrOptions === "function") return makeTraced(fOrOptions, options);
  if (fOrOptions !== undefined && (typeof fOrOptions !== "object" || fOrOptions === null)) {
    throw new ValueError(`fn: expected a function or an options object, got ${describeStatic(fOrOptions)}`);
  }
  const decoratorOptions = fOrOptions ?? {};
  return function <This, MA extends unknown[], MR>(method: (this: This, ...args: MA) => MR, context: ClassMethodDecoratorContext<This, (this: This, ...args: MA) => MR>) {
    const name = decoratorOptions.name ?? String(context.name);
    const traced = makeTraced(method as (...args: MA) => MR, { ...decoratorOptions, name });
    return function (this: This, ...args: MA): MR {
      return traced.apply(this, args);
    };
  } as MethodDecorator;
}

/** True while a trace is recording (inside a function that fn() is tracing). */
export function isTracing(): boolean {
  return currentTrace() !== undefined;
}

function envFlag(name: string): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.[name];
  return v !== undefined && v !== "" && v !== "0" && v !== "false";
}

interface DumpFs {
  mkdirSync(path: string, options: { recursive: boolean }): unknown;
  writeFileSync(path: string, data: string): void;
}

/**
 * SYMTENSOR_DUMP=after-all SYMTENSOR_DUMP_DIR=dir writes every stage of every compiled function
 * (and the generated kernels) to files, like XLA's --xla_dump_to. Node only.
 */
function dumpStages(name: string, traceIndex: number, traced: Graph, stages: readonly PassStage[], exe: Executable | undefined): void {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown } }).process;
  if (proc?.env?.["SYMTENSOR_DUMP"] !== "after-all") return;
  const dir = proc.env["SYMTENSOR_DUMP_DIR"] || "symtensor-dump";
  const fs = proc.getBuiltinModule?.("node:fs") as DumpFs | undefined;
  if (!fs) return;
  fs.mkdirSync(dir, { recursive: true });
  const base = `${dir}/${name.replace(/[^A-Za-z0-9_.-]/g, "_")}.${traceIndex}`;
  fs.writeFileSync(`${base}.00-traced.stir`, print(traced));
  stages.forEach((s, i) => fs.writeFileSync(`${base}.${String(i + 1).padStart(2, "0")}-${s.pass}.stir`, print(s.graph)));
  if (exe) {
    const text = exe.kernels.filter((k) => k.source).map((k) => `// ${k.node} = ${k.op}\n${k.source}\n`).join("\n");
    fs.writeFileSync(`${base}.kernels.js`, text);
  }
}
