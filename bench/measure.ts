/**
 * Runs one workload on every system: each is prepared (untimed), checked against the reference
 * output and warmed up; then the timed samples are taken in ROUNDS rounds that visit every system
 * in turn (the order rotating), and each system's median is over all its samples. Systems marked
 * `exclusive` (their threads spin while they exist) are then timed one at a time, alone. The dev machine
 * is shared and its speed drifts by up to 2x over minutes, so timing one system after another
 * would turn that drift into a ratio between systems; interleaving spreads it over all of them.
 */
import { checkOutput, type Prepared, type System, type Workload } from "./workloads.js";

/**
 * Lets the event loop turn before a system starts, so finalizers for the garbage the previous
 * system left (JavaScript heap, WebAssembly memory blocks, GPU buffers) can run. No forced
 * collection: enabling --expose-gc at run time (v8.setFlagsFromString) slowed every system here,
 * symtensor and tfjs alike, by up to 2x.
 */
async function settle(): Promise<void> {
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

/** A system ready to be timed: prepared, checked and warmed up. */
interface Ready {
  readonly base: { readonly system: string; readonly label: string };
  readonly p: Prepared;
  readonly isAsync: boolean;
  readonly firstMs: number;
  readonly note: string;
  readonly runs: number;
  readonly times: number[];
}

/** Rounds of timed samples; every system takes its share of samples in each. */
const ROUNDS = 5;

/** Prepares, checks and warms up one system; a finished result when it cannot be timed. */
async function readySystem(w: Workload, s: System, ref: Reference | undefined, opts: MeasureOptions): Promise<Ready | SystemResult> {
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
        if (!c.ok) {
          await disposeQuietly(p);
          return { ...base, status: "mismatch", firstMs, note: `differs from ${ref.system}: ${c.detail}` };
        }
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
    return { base, p, isAsync, firstMs, note, runs, times };
  } catch (e) {
    await disposeQuietly(p);
    return { ...base, status: "error", note: message(e) };
  }
}

/** Takes round `round`'s share of a ready system's samples; a result when it fails. */
async function timeRound(w: Workload, r: Ready, round: number): Promise<SystemResult | undefined> {
  const until = Math.ceil((r.runs * (round + 1)) / ROUNDS);
  try {
    await r.p.activate?.();
    while (r.times.length < until) r.times.push(await sample(r.p, w.callsPerSample, r.isAsync));
    return undefined;
  } catch (e) {
    return { ...r.base, status: "error", note: message(e) };
  }
}

function finished(w: Workload, r: Ready): SystemResult {
  const medianMs = median(r.times);
  const out: SystemResult = { ...r.base, status: "ok", medianMs, runs: r.times.length, firstMs: r.firstMs, note: r.note };
  return w.flops === undefined ? out : { ...out, gflops: w.flops / (medianMs * 1e6) };
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
  const results = new Map<System, SystemResult>();
  const isReady = (x: Ready | SystemResult): x is Ready => "p" in x;
  /** Prepares `group`, times it in interleaved rounds, frees it. */
  const timeTogether = async (group: readonly System[]): Promise<void> => {
    const slots: (Ready | SystemResult)[] = [];
    for (const s of group) {
      const why = unavailable.get(s.id);
      slots.push(why !== undefined ? { system: s.id, label: s.label, status: "skipped", note: why } : await readySystem(w, s, ref, opts));
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = slots.map((_, i) => i).filter((i) => isReady(slots[i]!));
      // Rotate the order, so no system always runs right after the same neighbour.
      for (let k = 0; k < order.length; k++) {
        const i = order[(k + round) % order.length]!;
        // A pause between turns lets the previous system's threads go to sleep.
        await new Promise((res) => setTimeout(res, 5));
        const failed = await timeRound(w, slots[i] as Ready, round);
        if (failed) {
          await disposeQuietly((slots[i] as Ready).p);
          slots[i] = failed;
        }
      }
    }
    for (const [k, x] of slots.entries()) {
      results.set(group[k]!, isReady(x) ? finished(w, x) : x);
      if (isReady(x)) await disposeQuietly(x.p);
    }
  };
  await timeTogether(systems.filter((s) => !s.exclusive));
  for (const s of systems.filter((x) => x.exclusive)) await timeTogether([s]);
  const ordered = systems.map((s) => results.get(s)!);
  const fnTime = ordered.find((r) => r.system === "st-fn" && r.status === "ok")?.medianMs;
  if (fnTime !== undefined) for (const r of ordered) if (r.medianMs !== undefined) r.ratio = r.medianMs / fnTime;
  if (sink === 0.123456789) console.log(""); // keeps `sink` observable
  const out: WorkloadResult = { id: w.id, group: w.group, title: w.title, callsPerSample: w.callsPerSample, micro: w.micro, results: ordered };
  return { ...out, ...(w.flops === undefined ? {} : { flops: w.flops }), ...(ref ? { reference: ref.system } : {}) };
}
