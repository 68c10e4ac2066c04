/**
 * What this JavaScript engine offers the WebAssembly kernels: SIMD, shared memory, worker threads,
 * and the environment switches (SYMTENSOR_WASM, SYMTENSOR_THREADS). Probed once, lazily, without
 * static imports of Node modules, so that the library bundle (esbuild platform "neutral") runs
 * unchanged in browsers.
 */

import { ModuleBuilder } from "./emit.js";

/** The part of Node's `worker_threads` module the pool uses. */
export interface NodeWorkerLike {
  postMessage(message: unknown): void;
  on(event: "error" | "exit" | "message", listener: (arg: unknown) => void): unknown;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}
export type NodeWorkerConstructor = new (code: string, options: { eval: true; name?: string }) => NodeWorkerLike;

export interface Features {
  /** WebAssembly exists and validates a module that uses v128 instructions. */
  readonly simd: boolean;
  /** `new WebAssembly.Memory({ shared: true })` works, SharedArrayBuffer exists, and (in a browser) the page is cross-origin isolated. */
  readonly sharedMemory: boolean;
  /** How workers start here: Node's worker_threads, a browser Worker from a Blob URL, or not at all. */
  readonly workers: "node" | "browser" | "none";
  /** Set when SYMTENSOR_WASM=0 turned the WebAssembly kernels off. */
  readonly disabledByEnv: boolean;
  /** SYMTENSOR_THREADS when it holds a valid count. */
  readonly envThreads: number | undefined;
  /** min(4, hardware threads); 1 where unknown. */
  readonly defaultThreads: number;
  /** Why something is off, one clause each (empty when all is on). */
  readonly reasons: readonly string[];
}

interface ProcessLike {
  env?: Record<string, string | undefined>;
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): ProcessLike | undefined {
  const proc = (globalThis as { process?: ProcessLike }).process;
  return proc?.versions?.node !== undefined ? proc : undefined;
}

/** Node's worker_threads Worker, once it is loaded. */
let nodeWorkerCtor: NodeWorkerConstructor | undefined;
let nodeWorkerImport: Promise<void> | undefined;

/**
 * `process.getBuiltinModule` (Node >= 20.16) loads worker_threads synchronously. On older Node
 * versions the module is imported asynchronously (through a variable specifier, which bundlers
 * leave alone); until it has arrived the pool simply runs on the calling thread.
 */
export function nodeWorkerConstructor(): NodeWorkerConstructor | undefined {
  if (nodeWorkerCtor !== undefined) return nodeWorkerCtor;
  const proc = nodeProcess();
  if (proc === undefined) return undefined;
  const mod = proc.getBuiltinModule?.("node:worker_threads") as { Worker?: NodeWorkerConstructor } | undefined;
  if (mod?.Worker !== undefined) {
    nodeWorkerCtor = mod.Worker;
    return nodeWorkerCtor;
  }
  if (nodeWorkerImport === undefined) {
    const specifier = "node:worker_threads";
    nodeWorkerImport = (import(/* @vite-ignore */ specifier) as Promise<{ Worker?: NodeWorkerConstructor }>).then(
      (m) => {
        nodeWorkerCtor = m.Worker;
      },
      () => undefined,
    );
  }
  return undefined;
}

function simdSupported(): boolean {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.validate !== "function") return false;
  try {
    const mb = new ModuleBuilder();
    mb.func("f", ["v128"], ["v128"], (f) => {
      f.localGet(0);
      f.f32x4.const(1, 2, 3, 4);
      f.f32x4.add();
    });
    return WebAssembly.validate(mb.bytes());
  } catch {
    return false;
  }
}

function sharedMemorySupported(reasons: string[]): boolean {
  if (typeof SharedArrayBuffer !== "function") {
    reasons.push("SharedArrayBuffer is not available (a browser page needs cross-origin isolation: COOP/COEP headers)");
    return false;
  }
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    reasons.push("the page is not cross-origin isolated (COOP/COEP headers), so memory cannot be shared with workers");
    return false;
  }
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    if (m.buffer instanceof SharedArrayBuffer) return true;
  } catch {
    // fall through
  }
  reasons.push("this engine cannot create a shared WebAssembly.Memory");
  return false;
}

function workerSupport(): "node" | "browser" | "none" {
  if (nodeProcess() !== undefined) {
    // A Node version without getBuiltinModule still counts: the asynchronous import started here
    // supplies the constructor before (or soon after) the first parallel job.
    nodeWorkerConstructor();
    return "node";
  }
  const g = globalThis as { Worker?: unknown; Blob?: unknown; URL?: { createObjectURL?: unknown } };
  if (typeof g.Worker === "function" && typeof g.Blob === "function" && typeof g.URL?.createObjectURL === "function") return "browser";
  return "none";
}

function hardwareThreads(): number {
  const proc = nodeProcess();
  if (proc !== undefined) {
    const os = proc.getBuiltinModule?.("node:os") as { availableParallelism?: () => number; cpus?: () => unknown[] } | undefined;
    const n = os?.availableParallelism?.() ?? os?.cpus?.().length;
    if (n !== undefined && n >= 1) return n;
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const hc = nav?.hardwareConcurrency;
  return typeof hc === "number" && hc >= 1 ? hc : 1;
}

/** Parses a thread count: a decimal integer >= 1, or undefined. */
export function parseThreadCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

let features: Features | undefined;

/** Probes once; later calls return the same object. */
export function detectFeatures(): Features {
  if (features !== undefined) return features;
  const reasons: string[] = [];
  const env = nodeProcess()?.env ?? {};
  const disabledByEnv = env["SYMTENSOR_WASM"] === "0";
  if (disabledByEnv) reasons.push("WebAssembly kernels disabled by SYMTENSOR_WASM=0");
  const simd = simdSupported();
  if (!simd) reasons.push("WebAssembly SIMD is not available in this engine");
  const sharedMemory = simd && sharedMemorySupported(reasons);
  const workers = workerSupport();
  if (workers === "none") reasons.push("no worker threads (neither Node's worker_threads nor a browser Worker)");
  const rawThreads = env["SYMTENSOR_THREADS"];
  const envThreads = parseThreadCount(rawThreads);
  if (rawThreads !== undefined && envThreads === undefined) reasons.push(`SYMTENSOR_THREADS=${JSON.stringify(rawThreads)} ignored (want an integer >= 1)`);
  features = { simd, sharedMemory, workers, disabledByEnv, envThreads, defaultThreads: Math.min(4, hardwareThreads()), reasons };
  return features;
}

