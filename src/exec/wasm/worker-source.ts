/**
 * The pool's worker, as one self-contained JavaScript string: Node runs it with
 * `new Worker(code, { eval: true })` and browsers from a Blob URL, so it works the same from the
 * esbuild bundle, tsx, vitest and a web page (no file to resolve next to the bundle).
 *
 * Protocol (see pool.ts for the calling side). The control block is an Int32Array over a
 * SharedArrayBuffer:
 * - SEQ: odd while a job is open, even while closed; the caller bumps it to open a job (and
 *   notifies), and bumps it again to close the job.
 * - ACTIVE: how many workers are inside the claim loop. A worker increments ACTIVE *before* it
 *   reads SEQ; the caller closes SEQ and then spins until ACTIVE is 0. With sequentially
 *   consistent atomics either the caller sees the worker's increment (and waits for it), or the
 *   worker sees the closed SEQ (and claims nothing), so a late worker can never read the job
 *   parameters or the chunk counter while the caller rewrites them for the next job.
 * - NEXT: the next chunk index, claimed with Atomics.add; chunk i covers items
 *   [i * grain, min(count, (i + 1) * grain)).
 * - ERR / ERRLEN / ERRMSG: the first exception a worker met (its message as UTF-16 code units).
 *
 * Waiting: workers block in Atomics.waitAsync, not Atomics.wait, so that their event loop stays
 * free between jobs to receive newly loaded kernel modules by postMessage (and the exit message).
 * A worker that has not yet received a job's module simply skips the job; the calling thread and
 * the other workers run its chunks. Where waitAsync is missing (older Firefox) a worker waits with
 * a short Atomics.wait timeout and yields to its event loop in between.
 */

/** Int32 indices into the control block; SEQ, ACTIVE and NEXT sit on separate 64-byte lines. */
export const CTL = {
  SEQ: 0,
  ACTIVE: 16,
  NEXT: 32,
  ARGS: 48,
  COUNT: 49,
  GRAIN: 50,
  NCHUNKS: 51,
  KERNEL: 52,
  ERR: 64,
  ERRLEN: 65,
  ERRKIND: 66,
  ERRMSG: 80,
} as const;
/** Longest error message a worker reports, in UTF-16 code units. */
export const ERR_MAX = 512;
/** Control block length in Int32 elements. */
export const CTL_LENGTH = CTL.ERRMSG + ERR_MAX;

/** How long (ms) a worker polls for the next job before it sleeps. */
export type SpinMs = number;

/** Messages the pool posts to a worker. */
export type ToWorker =
  | {
      type: "init";
      memory: WebAssembly.Memory;
      control: SharedArrayBuffer;
      modules: [mid: number, module: WebAssembly.Module][];
      kernels: [id: number, mid: number, entry: string][];
      spin: SpinMs;
    }
  | { type: "module"; mid: number; module: WebAssembly.Module }
  | { type: "kernel"; id: number; mid: number; entry: string }
  | { type: "drop"; id: number }
  | { type: "dropModule"; mid: number }
  | { type: "exit" };
/** Messages a worker posts back: it has started and is waiting for jobs. */
export type FromWorker = { type: "ready" };

export const WORKER_SOURCE = `"use strict";
const SEQ = ${CTL.SEQ}, ACTIVE = ${CTL.ACTIVE}, NEXT = ${CTL.NEXT}, ARGS = ${CTL.ARGS}, COUNT = ${CTL.COUNT},
  GRAIN = ${CTL.GRAIN}, NCHUNKS = ${CTL.NCHUNKS}, KERNEL = ${CTL.KERNEL}, ERR = ${CTL.ERR}, ERRLEN = ${CTL.ERRLEN},
  ERRKIND = ${CTL.ERRKIND}, ERRMSG = ${CTL.ERRMSG}, ERR_MAX = ${ERR_MAX};
const node = typeof process === "object" && process !== null && typeof require === "function";
let ctl = null, memory = null, spin = 0, seen = 0;
const instances = [];
const kernels = [];

function loadModule(mid, module) {
  try {
    instances[mid] = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (e) {
    // Left undefined: this worker skips jobs of the module's kernels and the other threads run them.
  }
}

function addKernel(id, mid, entry) {
  const ex = instances[mid];
  kernels[id] = ex !== undefined && typeof ex[entry] === "function" ? ex[entry] : undefined;
}

function report(e) {
  if (Atomics.compareExchange(ctl, ERR, 0, 1) !== 0) return;
  let msg;
  try { msg = String(e && e.message !== undefined ? e.message : e); } catch (_) { msg = "unknown error"; }
  msg = msg.slice(0, ERR_MAX);
  for (let i = 0; i < msg.length; i++) ctl[ERRMSG + i] = msg.charCodeAt(i);
  ctl[ERRLEN] = msg.length;
  ctl[ERRKIND] = e instanceof WebAssembly.RuntimeError ? 1 : e instanceof RangeError ? 2 : 0;
  Atomics.store(ctl, ERR, 2);
}

function work() {
  Atomics.add(ctl, ACTIVE, 1);
  const s = Atomics.load(ctl, SEQ);
  if ((s & 1) === 1) {
    const run = kernels[ctl[KERNEL]];
    if (run !== undefined) {
      const args = ctl[ARGS], count = ctl[COUNT], grain = ctl[GRAIN], n = ctl[NCHUNKS];
      for (;;) {
        const i = Atomics.add(ctl, NEXT, 1) >>> 0;
        if (i >= n) break;
        const begin = i * grain;
        try {
          run(args, begin, Math.min(count, begin + grain));
        } catch (e) {
          report(e);
          Atomics.store(ctl, NEXT, n);
          break;
        }
      }
    }
  }
  Atomics.sub(ctl, ACTIVE, 1);
  return s;
}

function loop() {
  for (;;) {
    let s = Atomics.load(ctl, SEQ);
    if (s === seen && spin > 0) {
      const until = performance.now() + spin;
      while (s === seen && performance.now() < until) {
        for (let k = 0; s === seen && k < 64; k++) s = Atomics.load(ctl, SEQ);
      }
    }
    if (s !== seen) {
      // Cheap look before joining: a job whose chunks are all claimed (the usual case for a worker
      // woken late) is skipped without touching ACTIVE, which the caller would wait on.
      seen = (s & 1) === 1 && Atomics.load(ctl, NEXT) >>> 0 < ctl[NCHUNKS] ? work() : s;
      continue;
    }
    if (typeof Atomics.waitAsync === "function") {
      const r = Atomics.waitAsync(ctl, SEQ, seen);
      if (r.async) {
        r.value.then(loop);
        return;
      }
    } else {
      Atomics.wait(ctl, SEQ, seen, 20);
      setTimeout(loop, 0);
      return;
    }
  }
}

function onMessage(m) {
  switch (m.type) {
    case "init":
      memory = m.memory;
      ctl = new Int32Array(m.control);
      spin = m.spin;
      for (const [mid, module] of m.modules) loadModule(mid, module);
      for (const [id, mid, entry] of m.kernels) addKernel(id, mid, entry);
      // -1 is never a SEQ value seen in practice, so a job that is open right now is joined.
      seen = -1;
      loop();
      post({ type: "ready" });
      break;
    case "module":
      loadModule(m.mid, m.module);
      break;
    case "kernel":
      addKernel(m.id, m.mid, m.entry);
      break;
    case "drop":
      kernels[m.id] = undefined;
      break;
    case "dropModule":
      instances[m.mid] = undefined;
      break;
    case "exit":
      // Handled between jobs (a job runs within one task), never inside the claim loop.
      if (node) process.exit(0);
      else self.close();
      break;
  }
}

const port = node ? require("node:worker_threads").parentPort : null;
function post(m) {
  if (port !== null) port.postMessage(m);
  else self.postMessage(m);
}
if (port !== null) port.on("message", onMessage);
else self.onmessage = (ev) => onMessage(ev.data);
`;
