/**
 * Control flow on the WebGPU device. A compiled call only queues GPU work (it cannot wait for a
 * value), so only ops whose trip count is static run here: `for` (attrs lo, hi) and `scan` (attr
 * length). Each body region is compiled once (recursively, by the caller's compiler, so nested
 * for/scan work too), and a run records the body's passes trip-count times into the caller's
 * command encoder: no host sync, no extra submit.
 *
 * Carries live in GPU buffers that ping-pong between two sets owned by the step (iteration k
 * reads set (k-1)%2 and writes set k%2; the first reads the node's operands, the last writes the
 * node's result buffers directly). The loop index is one i32 buffer filled before each iteration
 * by a 4-byte copy from an index table uploaded at compile time; scan's rows of xs are copied into
 * row buffers and each step's ys copied into the stacked results (copyBufferToBuffer: encoder
 * commands, ordered with the compute passes around them). The semantics mirror `evalRegions` in
 * src/ir/ops/control.ts (index values lo..hi-1, carry first, scan's reverse with ys in row order).
 *
 * `cond` and `while` choose what runs next from a value computed on the GPU, which a synchronous
 * call cannot read: they stay a DeviceError that says so and what to do instead.
 */
import { DeviceError, ValueError } from "../../ir/errors.js";
import type { Constant, Graph, Node, Region } from "../../ir/graph.js";
import { formatType, type TensorType } from "../../ir/types.js";
import type { GpuStorage } from "./buffers.js";
import type { WebGPURuntime } from "./runtime.js";
import { gpuBytes, upload } from "./transfer.js";

/** A compiled region: records its work into `enc`, writing its results into `outputs` (one buffer per result). */
export interface RegionEncoder {
  encodeInto(enc: GPUCommandEncoder, inputs: readonly GpuStorage[], outputs: readonly GpuStorage[]): void;
  dispose(): void;
}

/** A control-flow node compiled for the GPU: records the whole loop between compute passes. */
export interface ControlStep {
  encode(enc: GPUCommandEncoder, inputs: readonly GpuStorage[], outputs: readonly GpuStorage[]): void;
  dispose(): void;
}

const I32: TensorType = { dtype: "int32", shape: [] };

/** Names a region reads (operands and results, nested regions included): to pick the constants it needs. */
function namesRead(region: Region, into: Set<string>): Set<string> {
  for (const n of region.nodes) {
    for (const o of n.operands) into.add(o);
    for (const r of n.regions ?? []) namesRead(r, into);
  }
  for (const r of region.results) into.add(r);
  return into;
}

/** Region `k` of `node` as a closed graph: its parameters, the graph constants it reads, its body. */
function regionGraph(node: Node, k: number, constants: readonly Constant[], name: string): Graph {
  const r = node.regions![k]!;
  const used = namesRead(r, new Set());
  return { name, params: r.params, constants: constants.filter((c) => used.has(c.name)), nodes: r.nodes, results: r.results };
}

function intAttr(node: Node, name: string, at: string): number {
  const v = node.attrs[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new ValueError(`${at}: attribute "${name}" must be an integer, got ${JSON.stringify(v ?? null)}`);
  return v;
}

/** The DeviceError for control flow whose next step depends on a GPU value. */
function hostDecisionError(node: Node, at: string): DeviceError {
  const why =
    node.op === "cond"
      ? "cond picks a branch by its predicate's value"
      : node.op === "while"
        ? "whileLoop decides after every iteration, from its condition's value, whether to run the body again"
        : `${node.op} has regions the webgpu compiler does not run`;
  const instead =
    node.op === "cond"
      ? "compute both branches and select with where(pred, a, b)"
      : node.op === "while"
        ? "use forLoop(lo, hi, ...) with a static upper bound on the trip count and keep the carry unchanged once done (where(done, carry, next))"
        : "express it with forLoop or scan";
  return new DeviceError(
    `${at}: ${why}, but a webgpu function call is synchronous: it only queues GPU work and cannot wait to read a value computed on the GPU. ` +
      `Run this function on the cpu (cpu tensors, or fn(f, { device: "cpu" })), or ${instead}; forLoop and scan (static trip counts) run on the webgpu device`,
  );
}

/**
 * Compiles a control-flow node: `for` and `scan` to a ControlStep; `cond`, `while` (and any other
 * op with regions) throw DeviceError. `compileRegion` compiles a closed region graph for the GPU.
 */
export function compileControl(
  rt: WebGPURuntime,
  node: Node,
  types: ReadonlyMap<string, TensorType>,
  constants: readonly Constant[],
  at: string,
  compileRegion: (g: Graph) => RegionEncoder,
): ControlStep {
  if (node.op !== "for" && node.op !== "scan") throw hostDecisionError(node, at);
  if (node.regions?.length !== 1) throw new ValueError(`${at}: ${node.op} has exactly one region, got ${node.regions?.length ?? 0}`);
  const base = node.results[0]?.name ?? node.op;
  const owned: GpuStorage[] = [];
  const acquire = (t: TensorType, what: string): GpuStorage => {
    const s = rt.pool.acquire(Math.max(4, gpuBytes(t)), `${at}: ${what} ${formatType(t)}`);
    owned.push(s);
    return s;
  };
  let body: RegionEncoder | undefined;
  const dispose = (): void => {
    body?.dispose();
    body = undefined;
    for (const s of owned.splice(0)) s.release();
  };
  try {
    body = compileRegion(regionGraph(node, 0, constants, `${base}.body`));
    const step = node.op === "for" ? forStep(rt, node, body, acquire, owned, at) : scanStep(node, types, body, acquire, at);
    return { encode: step, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

type Encode = ControlStep["encode"];

/** Copies whole buffers `from[k]` -> `to[k]` (a loop of zero iterations returns its initial carry). */
function copyAll(enc: GPUCommandEncoder, from: readonly GpuStorage[], to: readonly GpuStorage[], types: readonly TensorType[]): void {
  types.forEach((t, k) => {
    const bytes = gpuBytes(t);
    if (bytes > 0) enc.copyBufferToBuffer(from[k]!.buffer, 0, to[k]!.buffer, 0, bytes);
  });
}

function forStep(rt: WebGPURuntime, node: Node, body: RegionEncoder, acquire: (t: TensorType, what: string) => GpuStorage, owned: GpuStorage[], at: string): Encode {
  const lo = intAttr(node, "lo", at);
  const hi = intAttr(node, "hi", at);
  const n = intAttr(node, "numCarry", at);
  const carryTypes = node.results.slice(0, n).map((v) => v.type);
  const trips = Math.max(0, hi - lo);
  // The index table, uploaded once: iteration k copies entry k into the body's i32[] parameter.
  let table: GpuStorage | undefined;
  if (trips > 0) {
    table = upload(rt, Int32Array.from({ length: trips }, (_, k) => lo + k), { dtype: "int32", shape: [trips] }, `${at}: loop indices`);
    owned.push(table);
  }
  const index = acquire(I32, "loop index");
  const sets = trips > 1 ? [0, 1].map((s) => carryTypes.map((t) => acquire(t, `carry buffer ${s}`))) : [];
  return (enc, inputs, outputs) => {
    const captures = inputs.slice(n);
    let carry = inputs.slice(0, n);
    if (trips === 0) copyAll(enc, carry, outputs, carryTypes);
    for (let k = 0; k < trips; k++) {
      enc.copyBufferToBuffer(table!.buffer, 4 * k, index.buffer, 0, 4);
      const dst = k === trips - 1 ? outputs.slice(0, n) : sets[k % 2]!;
      body.encodeInto(enc, [index, ...carry, ...captures], dst);
      carry = dst;
    }
  };
}

function scanStep(node: Node, types: ReadonlyMap<string, TensorType>, body: RegionEncoder, acquire: (t: TensorType, what: string) => GpuStorage, at: string): Encode {
  const length = intAttr(node, "length", at);
  const nc = intAttr(node, "numCarry", at);
  const nx = intAttr(node, "numXs", at);
  const reverse = node.attrs["reverse"] === true;
  const carryTypes = node.results.slice(0, nc).map((v) => v.type);
  const rowTypes = node.operands.slice(nc, nc + nx).map((o) => {
    const t = types.get(o)!;
    return { dtype: t.dtype, shape: t.shape.slice(1) };
  });
  const yRowTypes = node.results.slice(nc).map((v) => ({ dtype: v.type.dtype, shape: v.type.shape.slice(1) }));
  const rowBytes = rowTypes.map(gpuBytes);
  const yRowBytes = yRowTypes.map(gpuBytes);
  const rows = rowTypes.map((t) => acquire(t, "row of xs"));
  const yRows = yRowTypes.map((t) => acquire(t, "row of ys"));
  const sets = length > 1 ? [0, 1].map((s) => carryTypes.map((t) => acquire(t, `carry buffer ${s}`))) : [];
  return (enc, inputs, outputs) => {
    const xs = inputs.slice(nc, nc + nx);
    const captures = inputs.slice(nc + nx);
    const ys = outputs.slice(nc);
    let carry = inputs.slice(0, nc);
    if (length === 0) copyAll(enc, carry, outputs, carryTypes);
    for (let s = 0; s < length; s++) {
      const t = reverse ? length - 1 - s : s;
      for (let k = 0; k < nx; k++) if (rowBytes[k]! > 0) enc.copyBufferToBuffer(xs[k]!.buffer, t * rowBytes[k]!, rows[k]!.buffer, 0, rowBytes[k]!);
      const dst = s === length - 1 ? outputs.slice(0, nc) : sets[s % 2]!;
      body.encodeInto(enc, [...carry, ...rows, ...captures], [...dst, ...yRows]);
      for (let k = 0; k < ys.length; k++) if (yRowBytes[k]! > 0) enc.copyBufferToBuffer(yRows[k]!.buffer, 0, ys[k]!.buffer, t * yRowBytes[k]!, yRowBytes[k]!);
      carry = dst;
    }
  };
}
