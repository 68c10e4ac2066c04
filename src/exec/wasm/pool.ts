/**
 * Loading WebAssembly kernels and running them on the calling thread plus a pool of workers.
 *
 * parallelFor() cuts [0, count) into ceil(count / grain) chunks of `grain` items, a split that
 * depends only on count and grain, so results never depend on the thread count or on which thread
 * ran which chunk. Chunks are claimed with Atomics.add on a shared counter: a worker that is late
 * (still starting, asleep, or without the kernel's module yet) just claims nothing, and the calling
 * thread, which claims chunks itself, does the work. The caller never blocks in Atomics.wait (not
 * allowed on a browser main thread): after its last claim it spins only while a worker is inside
 * the claim loop, i.e. running a chunk it claimed. The worker side and the protocol are in
 * worker-source.ts.
 */

import { DeviceError, ValueError } from "../../ir/errors.js";
import { getNumThreads, getWasmRuntime, type WasmRuntime } from "./runtime.js";
import { detectFeatures, nodeWorkerConstructor } from "./runtime-features.js";
import { CTL, CTL_LENGTH, WORKER_SOURCE, type FromWorker, type ToWorker } from "./worker-source.js";

/** A compiled kernel module, instantiated on the calling thread and known to the workers. */
export interface WasmKernel {
  /** Pool-wide id (the workers' table index). */
  readonly id: number;
  readonly name: string;
  /** The exported entry `(args, begin, end)` of the calling thread's instance. */
  readonly run: (args: number, begin: number, end: number) => void;
  readonly instance: WebAssembly.Instance;
  /**
   * Forgets the kernel in the pool (workers drop the module's instance with its last kernel); the
   * kernel must not be used afterwards.
   */
  dispose(): void;
}

/**
 * How long (ms) a worker keeps polling for the next job after one ends, before it sleeps in
 * Atomics.waitAsync: long enough to catch the next kernel of a compiled function (steps run back
 * to back), short enough not to hold a shared core. Waking a sleeping worker costs the caller an
 * Atomics.notify, about 10-15 µs on a 2-core Linux VM; joining a job it is polling for costs
 * nothing.
 */
const WORKER_SPIN_MS = 0.05;

interface WorkerHandle {
  post(message: ToWorker): void;
  exit(): void;
  /** Node: whether the worker keeps the process alive (only while warmUpPool() waits for it). */
  hold(on: boolean): void;
  readonly ready: Promise<void>;
  dead: boolean;
}

/** A compiled module, shared by the kernels of its entries (a matmul's pack and multiply phases). */
interface LoadedModule {
  readonly mid: number;
  readonly module: WebAssembly.Module;
  readonly instance: WebAssembly.Instance;
  /** Live kernels using it; at 0 the workers drop their instance. */
  refs: number;
}

/** Modules by the bytes they were compiled from (the same object: a plan's phases share it). */
const moduleOfBytes = new WeakMap<Uint8Array, LoadedModule>();
/** What a worker needs to rebuild every live kernel: modules, and kernel id -> (module, entry). */
const liveModules = new Map<number, LoadedModule>();
const liveKernels = new Map<number, { readonly mid: number; readonly entry: string }>();
let nextModuleId = 0;
let nextKernelId = 0;
const workers: WorkerHandle[] = [];
let control: SharedArrayBuffer | undefined;
let ctl: Int32Array<ArrayBufferLike> = new Int32Array(0);
/** The control block's SEQ value while closed (even); a job is open at seq + 1. */
let seq = 0;
let spawnError: string | undefined;
let blobUrl: string | undefined;
/** Chunks run, in total and by the calling thread: lets tests see that workers took part. */
let chunksTotal = 0;
let chunksOnCaller = 0;

function runtimeOrThrow(): WasmRuntime {
  const rt = getWasmRuntime();
  if (rt === undefined) throw new DeviceError("WebAssembly kernels are not available here (see backendInfo().cpu.reason)");
  return rt;
}

/**
 * Compiles `bytes` synchronously (once per bytes object), instantiates the module on the calling
 * thread against the runtime's memory (import `env.memory`), and sends it to the workers. `entry`
 * names the exported function `entry(args: i32, begin: i32, end: i32)` this kernel runs; a module
 * with several entries (phases) is loaded once per entry with the same bytes object and compiled
 * once.
 */
export function loadKernel(bytes: Uint8Array, entry = "run", name: string = entry): WasmKernel {
  const rt = runtimeOrThrow();
  let m = moduleOfBytes.get(bytes);
  if (m === undefined) {
    const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    const instance = new WebAssembly.Instance(module, { env: { memory: rt.memory } });
    m = { mid: nextModuleId++, module, instance, refs: 0 };
    moduleOfBytes.set(bytes, m);
  }
  const run = m.instance.exports[entry];
  if (typeof run !== "function") throw new ValueError(`loadKernel(${name}): the module exports no function ${JSON.stringify(entry)}`);
  const id = nextKernelId++;
  const loaded = m;
  loaded.refs++;
  if (rt.shared) {
    if (!liveModules.has(loaded.mid)) {
      liveModules.set(loaded.mid, loaded);
      for (const w of workers) w.post({ type: "module", mid: loaded.mid, module: loaded.module });
    }
    liveKernels.set(id, { mid: loaded.mid, entry });
    for (const w of workers) w.post({ type: "kernel", id, mid: loaded.mid, entry });
  }
  let disposed = false;
  return {
    id,
    name,
    run: run as (args: number, begin: number, end: number) => void,
    instance: loaded.instance,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      liveKernels.delete(id);
      for (const w of workers) w.post({ type: "drop", id });
      if (--loaded.refs === 0) {
        moduleOfBytes.delete(bytes);
        if (liveModules.delete(loaded.mid)) for (const w of workers) w.post({ type: "dropModule", mid: loaded.mid });
      }
    },
  };
}

/**
 * Runs `kernel.run(args, begin, end)` over [0, count) in chunks of `grain` items, on the calling
 * thread and the pool's workers, and returns when every chunk is done. A kernel that traps on any
 * thread throws here (a WebAssembly.RuntimeError, the message naming the worker when it was one).
 */
export function parallelFor(kernel: WasmKernel, args: number, count: number, grain: number): void {
  if (!(count >= 0 && count <= 0x7fffffff && (count | 0) === count)) throw new ValueError(`parallelFor: count must be an integer in [0, 2^31), got ${count}`);
  if (!(grain >= 1 && (grain | 0) === grain)) throw new ValueError(`parallelFor: grain must be an integer >= 1, got ${grain}`);
  const run = kernel.run;
  if (count <= grain) {
    if (count > 0) run(args, 0, count);
    return;
  }
  const threads = getNumThreads();
  if (threads === 1) {
    // The same chunks as the parallel path, so a kernel whose result depends on the split (a
    // per-chunk partial sum) gives the same answer at every thread count.
    for (let begin = 0; begin < count; begin += grain) run(args, begin, Math.min(count, begin + grain));
    return;
  }
  runParallel(kernel, args, count, grain, threads);
}

function runParallel(kernel: WasmKernel, args: number, count: number, grain: number, threads: number): void {
  resizePool(threads - 1);
  const c = ctl;
  const n = Math.ceil(count / grain);
  // Parameters first (plain writes), published by the atomic store that opens the job.
  c[CTL.ARGS] = args;
  c[CTL.COUNT] = count;
  c[CTL.GRAIN] = grain;
  c[CTL.NCHUNKS] = n;
  c[CTL.KERNEL] = kernel.id;
  c[CTL.ERR] = 0;
  Atomics.store(c, CTL.NEXT, 0);
  Atomics.store(c, CTL.SEQ, seq + 1);
  if (workers.length > 0) Atomics.notify(c, CTL.SEQ);
  const run = kernel.run;
  let mine = 0;
  let failed = false;
  let error: unknown;
  try {
    for (;;) {
      // Unsigned: claims past the last chunk keep adding to NEXT, which must not wrap into a
      // "valid" negative index when n is close to 2^31.
      const i = Atomics.add(c, CTL.NEXT, 1) >>> 0;
      if (i >= n) break;
      const begin = i * grain;
      run(args, begin, Math.min(count, begin + grain));
      mine++;
      if (Atomics.load(c, CTL.ERR) !== 0) break;
    }
  } catch (e) {
    failed = true;
    error = e;
    Atomics.store(c, CTL.NEXT, n);
  }
  // Close the job, then wait for the workers inside the claim loop (see worker-source.ts for why
  // this ordering keeps late workers out of the next job).
  Atomics.store(c, CTL.SEQ, seq + 2);
  seq = (seq + 2) | 0;
  while (Atomics.load(c, CTL.ACTIVE) !== 0) {
    // spin: only workers that claimed a chunk (or are about to find none left) are counted
  }
  chunksTotal += n;
  chunksOnCaller += mine;
  if (failed) throw error;
  if (Atomics.load(c, CTL.ERR) !== 0) throw workerError(kernel.name);
}

function workerError(kernelName: string): Error {
  const c = ctl;
  const len = c[CTL.ERRLEN]!;
  let msg = "";
  for (let i = 0; i < len; i++) msg += String.fromCharCode(c[CTL.ERRMSG + i]!);
  const text = `${msg} (kernel ${kernelName}, in a worker thread)`;
  const kind = c[CTL.ERRKIND];
  return kind === 1 ? new WebAssembly.RuntimeError(text) : kind === 2 ? new RangeError(text) : new Error(text);
}

/** Grows or shrinks the pool to `want` workers (the calling thread is not counted). */
function resizePool(want: number): void {
  if (workers.length === want) return;
  while (workers.length > want) workers.pop()!.exit();
  if (spawnError !== undefined) return;
  if (control === undefined) {
    control = new SharedArrayBuffer(CTL_LENGTH * 4);
    ctl = new Int32Array(control);
  }
  while (workers.length < want) {
    const w = spawn();
    if (w === undefined) return;
    workers.push(w);
  }
}

function initMessage(rt: WasmRuntime): ToWorker {
  return {
    type: "init",
    memory: rt.memory,
    control: control!,
    modules: [...liveModules].map(([mid, m]) => [mid, m.module]),
    kernels: [...liveKernels].map(([id, k]) => [id, k.mid, k.entry]),
    spin: WORKER_SPIN_MS,
  };
}

/** Starts one worker; undefined (and the reason kept) where that is not possible. */
function spawn(): WorkerHandle | undefined {
  const rt = runtimeOrThrow();
  const kind = detectFeatures().workers;
  try {
    let handle: WorkerHandle | undefined;
    let resolveReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      resolveReady = resolve;
    });
    const onMessage = (m: unknown): void => {
      if ((m as FromWorker | undefined)?.type === "ready") resolveReady();
    };
    const onError = (): void => {
      // A worker only dies of a fault outside a kernel (kernel traps are caught and reported
      // through the control block); drop it so that later jobs do not wait for it.
      if (handle === undefined || handle.dead) return;
      handle.dead = true;
      const i = workers.indexOf(handle);
      if (i >= 0) workers.splice(i, 1);
      resolveReady();
    };
    if (kind === "node") {
      const Ctor = nodeWorkerConstructor();
      if (Ctor === undefined) return undefined; // worker_threads still loading (older Node): next job
      const w = new Ctor(WORKER_SOURCE, { eval: true, name: "symtensor-wasm" });
      w.on("message", onMessage);
      w.on("error", onError);
      w.on("exit", onError);
      // Never keeps the process alive. (After the listeners: adding a "message" listener refs
      // the worker's port again.)
      w.unref();
      handle = {
        post: (m) => w.postMessage(m),
        exit: () => w.postMessage({ type: "exit" } satisfies ToWorker),
        hold: (on) => (on ? w.ref() : w.unref()),
        ready,
        dead: false,
      };
    } else if (kind === "browser") {
      blobUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
      const w = new Worker(blobUrl, { name: "symtensor-wasm" });
      w.onmessage = (ev: MessageEvent) => onMessage(ev.data);
      w.onerror = onError;
      handle = { post: (m) => w.postMessage(m), exit: () => w.postMessage({ type: "exit" } satisfies ToWorker), hold: () => undefined, ready, dead: false };
    } else {
      spawnError = "no worker support";
      return undefined;
    }
    handle.post(initMessage(rt));
    return handle;
  } catch (e) {
    spawnError = e instanceof Error ? e.message : String(e);
    return undefined;
  }
}

/**
 * Starts the workers for the current thread count now rather than on the first parallel job, and
 * resolves when each has started (benchmarks and tests use it so that a job finds them awake).
 */
export async function warmUpPool(): Promise<void> {
  const rt = getWasmRuntime();
  if (rt === undefined || !rt.shared) return;
  resizePool(getNumThreads() - 1);
  const starting = [...workers];
  // Held while awaited: a script whose only pending work is this promise must not exit under it.
  for (const w of starting) w.hold(true);
  try {
    await Promise.all(starting.map((w) => w.ready));
  } finally {
    for (const w of starting) w.hold(false);
  }
}

/** Asks every worker to exit (between jobs); the next parallel job starts new ones. */
export function shutdownPool(): void {
  while (workers.length > 0) workers.pop()!.exit();
}

export interface PoolStats {
  /** Live workers (threads besides the calling one). */
  readonly workers: number;
  /** Chunks run by parallel jobs so far, and how many of them the calling thread ran. */
  readonly chunksTotal: number;
  readonly chunksOnCaller: number;
  /** Why workers could not be started, if they could not. */
  readonly spawnError?: string;
}

export function poolStats(): PoolStats {
  const s = { workers: workers.length, chunksTotal, chunksOnCaller };
  return spawnError !== undefined ? { ...s, spawnError } : s;
}
