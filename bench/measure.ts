/**
 * Runs one workload on every system, one system after another: prepare (untimed), check the
 * output against the reference, warm up, then time at least `minRuns` samples and keep the median.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { checkOutput, type Prepared, type System, type Workload } from "./workloads.js";

setFlagsFromString("--expose-gc");
/** A full collection, available without starting Node with --expose-gc. */
const collect = runInNewContext("gc") as () => void;

/**
 * Collects garbage and lets finalizers run before a system starts, so no system pays for the
 * garbage (JavaScript heap, WebAssembly memory blocks, GPU buffers) the previous one left.
 */
async function settle(): Promise<void> {
  collect();
  for (let i = 0; i < 2; i++) await new Promise((r) => setTimeout(r, 0));
}

export type Status = "ok" | "mismatch" | "error" | "skipped" | "n/a";

export interface SystemResult {
  readonly system: string;
  readonly label: string;
  readonly status: Status;
  /** Median time of one call in milliseconds. */
  readonly medianMs?: number;
  readonly runs?: number;
  /**
   * The first call after prepare (before any warm-up), in ms: for fn-like systems this includes
   * tracing and compiling; for the first-call workload it is the cold first call in the process.
   */
  readonly firstMs?: number;
  /** medianMs / (symtensor fn's medianMs): above 1 is slower than symtensor fn. */
  ratio?: number;
  readonly gflops?: number;
  /** How the output compared with the reference (or why the system did not run). */
  readonly note?: string;
}

export interface WorkloadResult {
  readonly id: string;
  readonly group: string;
  readonly title: string;
  readonly flops?: number;
  readonly callsPerSample: number;
  readonly micro: boolean;
  /** The system whose output the others were checked against. */
  readonly reference?: string;
  readonly results: SystemResult[];
}

export interface MeasureOptions {
  /** Aim for about this much timed work per system (more samples when a call is fast). */
  readonly targetMs: number;
  readonly maxRuns: number;
  /** Called before each system starts (progress output). */
  readonly onStart?: (w: Workload, s: System) => void;
}

/** Systems whose output may serve as the reference, in order of preference. */
export const REFERENCE_SYSTEMS = ["st-eager", "js"] as const;

/** A sink the timed results feed, so no engine can drop a call whose result is unused. */
let sink = 0;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function message(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.split("\n")[0]!.slice(0, 300);
}

/** One sample: `calls` back-to-back calls, in ms per call. Sync systems are not awaited. */
async function sample(p: Prepared, calls: number, isAsync: boolean): Promise<number> {
  if (isAsync) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) sink += (await p.run())[0] ?? 0;
    return (performance.now() - t0) / calls;
  }
  const t0 = performance.now();
  // Reading an element (not just .length) keeps the engine from skipping the computation.
  for (let c = 0; c < calls; c++) sink += (p.run() as Float32Array)[0] ?? 0;
  return (performance.now() - t0) / calls;
}

async function disposeQuietly(p: Prepared | undefined): Promise<void> {
  try {
    await p?.dispose?.();
  } catch {
    // freeing failed: nothing more to measure on it anyway
  }
}

interface Reference {
  readonly system: string;
  readonly output: Float32Array;
  readonly firstMs: number;
  /** Kept for timing when the reference system's task is the timed task itself. */
  readonly prepared?: Prepared;
}

/** The first reference system that runs the reference task; its output is what others must match. */
async function computeReference(w: Workload, systems: readonly System[]): Promise<Reference | undefined> {
  const sameTask = w.referenceTask() === w.task();
  for (const id of REFERENCE_SYSTEMS) {
    const s = systems.find((x) => x.id === id);
    if (!s) continue;
    try {
      const p = await s.prepare(w.referenceTask());
      if (!p) continue;
      const t0 = performance.now();
      const output = await p.run();
      const firstMs = performance.now() - t0;
      if (sameTask) return { system: id, output, firstMs, prepared: p };
      await disposeQuietly(p);
      return { system: id, output, firstMs };
    } catch {
      // this reference failed (its own row reports the error): try the next one
    }
  }
  return undefined;
}

async function measureSystem(w: Workload, s: System, ref: Reference | undefined, opts: MeasureOptions): Promise<SystemResult> {
  const base = { system: s.id, label: s.label };
  let p: Prepared | undefined;
  await settle();
  try {
    const reused = ref?.system === s.id ? ref.prepared : undefined;
    p = reused ?? (await s.prepare(w.task()));
    if (!p) return { ...base, status: "n/a" };
    opts.onStart?.(w, s);
    let firstMs: number;
    let isAsync: boolean;
    let note: string;
    if (reused && ref) {
      // Its first call already ran, as the reference; async-ness is found on the next call.
      firstMs = ref.firstMs;
      const again = p.run();
      isAsync = again instanceof Promise;
      await again;
      note = "reference";
    } else {
      const t0 = performance.now();
      const first = p.run();
      isAsync = first instanceof Promise;
      const out = await first;
      firstMs = performance.now() - t0;
      if (!ref) note = "no reference output to check against";
      else {
        const c = checkOutput(w, out, ref.output);
        if (!c.ok) return { ...base, status: "mismatch", firstMs, note: `differs from ${ref.system}: ${c.detail}` };
        note = c.detail;
      }
    }
    if (p.note) note = `${note}; ${p.note}`;
    // Warm-up stops early for slow calls: one second of warm-up is enough for the JIT to settle.
    const warmStart = performance.now();
    for (let i = 0; i < w.warmup && performance.now() - warmStart < 1000; i++) await sample(p, w.callsPerSample, isAsync);
    const times = [await sample(p, w.callsPerSample, isAsync)];
    const perSample = Math.max(times[0]! * w.callsPerSample, 1e-3);
    const runs = Math.max(w.minRuns, Math.min(opts.maxRuns, Math.floor(opts.targetMs / perSample)));
    while (times.length < runs) times.push(await sample(p, w.callsPerSample, isAsync));
    const medianMs = median(times);
    const r: SystemResult = { ...base, status: "ok", medianMs, runs, firstMs, note };
    return w.flops === undefined ? r : { ...r, gflops: w.flops / (medianMs * 1e6) };
  } catch (e) {
    return { ...base, status: "error", note: message(e) };
  } finally {
    await disposeQuietly(p);
  }
}

/**
 * Runs a workload on `systems`; `unavailable` maps a system that failed to load to why. The
 * reference output comes from `referencePool` (loaded systems, whether timed here or not).
 */
export async function measureWorkload(
  w: Workload,
  systems: readonly System[],
  referencePool: readonly System[],
  unavailable: ReadonlyMap<string, string>,
  opts: MeasureOptions,
): Promise<WorkloadResult> {
  const ref = await computeReference(w, referencePool.filter((s) => !unavailable.has(s.id)));
  if (ref && !systems.some((s) => s.id === ref.system)) await disposeQuietly(ref.prepared);
  const results: SystemResult[] = [];
  for (const s of systems) {
    const why = unavailable.get(s.id);
    if (why !== undefined) {
      results.push({ system: s.id, label: s.label, status: "skipped", note: why });
      continue;
    }
    results.push(await measureSystem(w, s, ref, opts));
  }
  const fnTime = results.find((r) => r.system === "st-fn" && r.status === "ok")?.medianMs;
  if (fnTime !== undefined) for (const r of results) if (r.medianMs !== undefined) r.ratio = r.medianMs / fnTime;
  if (sink === 0.123456789) console.log(""); // keeps `sink` observable
  const out: WorkloadResult = { id: w.id, group: w.group, title: w.title, callsPerSample: w.callsPerSample, micro: w.micro, results };
  return { ...out, ...(w.flops === undefined ? {} : { flops: w.flops }), ...(ref ? { reference: ref.system } : {}) };
}
