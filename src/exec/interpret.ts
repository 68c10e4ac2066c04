/**
 * The reference interpreter: runs a graph node by node with the CPU backend's single-op kernels
 * (the same kernels eager execution uses). It is the baseline that compiled and optimized graphs
 * are checked against, so it stays simple: no fusion, no buffer reuse, only dropping each
 * intermediate after its last use so a long graph does not keep every intermediate alive. A
 * `fused` node is run by interpreting its region's body, node by node, with the same kernels; a
 * control-flow node (cond, while, for, scan) by its op's `evalRegions`, interpreting a region each
 * time the op runs one.
 *
 * It trusts the graph's structure (callers run `verify` first) but checks the arguments, which come
 * from users.
 */
import { dtypeInfo, isDType, type TypedArray } from "../ir/dtype.js";
import { DTypeError, ShapeError, SymtensorError, ValueError } from "../ir/errors.js";
import type { Graph, Node } from "../ir/graph.js";
import "../ir/ops/index.js";
import { regionEvaluator } from "../ir/ops/control.js";
import { getOp } from "../ir/registry.js";
import { sizeOf } from "../ir/shape.js";
import { formatType, sameShape, type TensorType } from "../ir/types.js";
import type { HostBuffer } from "./backend.js";
import { cpuBackend, hasCpuKernel } from "./cpu/backend.js";
import "./cpu/kernels/index.js";

/**
 * For each top-level value that some node reads, the index of the last node that reads it. Graph
 * results get `graph.nodes.length` (they outlive every node). Values absent from the map are never read.
 */
export function lastUses(graph: Graph): Map<string, number> {
  return lastUsesIn(graph.nodes, graph.results);
}

/** lastUses for a graph's or a region's node list and results. */
function lastUsesIn(nodes: readonly Node[], results: readonly string[]): Map<string, number> {
  const last = new Map<string, number>();
  nodes.forEach((node, i) => {
    for (const name of node.operands) last.set(name, i);
  });
  for (const name of results) last.set(name, nodes.length);
  return last;
}

function signature(graph: Graph): string {
  return graph.params.map((p) => `${p.name}: ${formatType(p.type)}`).join(", ");
}

/** formatType for a caller-supplied type that may be malformed. */
function describeType(t: unknown): string {
  if (typeof t !== "object" || t === null) return String(t);
  const { dtype, shape } = t as { dtype?: unknown; shape?: unknown };
  if (isDType(dtype) && Array.isArray(shape) && shape.every((d) => typeof d === "number")) return formatType({ dtype, shape });
  return "a malformed type";
}

/** Validates the caller's buffers against the graph's parameters. */
function checkArguments(graph: Graph, inputs: readonly HostBuffer[], where: string): void {
  if (!Array.isArray(inputs)) throw new ValueError(`${where}: arguments must be an array of buffers (${signature(graph)})`);
  const n = graph.params.length;
  if (inputs.length !== n) {
    throw new ValueError(`${where}: expected ${n} argument${n === 1 ? "" : "s"} (${signature(graph)}), got ${inputs.length}`);
  }
  graph.params.forEach((p, i) => {
    const arg: unknown = inputs[i];
    const what = `argument ${i} (${p.name})`;
    const want = formatType(p.type);
    if (typeof arg !== "object" || arg === null || !("data" in arg) || !("type" in arg)) {
      const got = arg === null ? "null" : ArrayBuffer.isView(arg) ? `a bare ${arg.constructor.name} (interpretArrays takes those)` : typeof arg;
      throw new ValueError(`${where}: ${what} must be a buffer {data, type} of ${want}, got ${got}`);
    }
    const { data, type } = arg as { data: unknown; type: unknown };
    const t = (typeof type === "object" && type !== null ? type : {}) as Partial<TensorType>;
    if (t.dtype !== p.type.dtype) throw new DTypeError(`${where}: ${what} must be ${want}, got ${describeType(type)}`);
    if (!Array.isArray(t.shape) || !sameShape(t.shape, p.type.shape)) throw new ShapeError(`${where}: ${what} must be ${want}, got ${describeType(type)}`);
    const storage = dtypeInfo(p.type.dtype).array;
    if (!(data instanceof storage)) {
      const got = ArrayBuffer.isView(data) ? data.constructor.name : typeof data;
      throw new DTypeError(`${where}: ${what} is ${want}, whose data must be a ${storage.name}, got ${got}`);
    }
    const size = sizeOf(p.type.shape);
    if (data.length !== size) throw new ShapeError(`${where}: ${what} is ${want} (${size} elements), but its data holds ${data.length}`);
  });
}

function nodeName(node: Node, index: number): string {
  return node.results[0]?.name ?? `node ${index}`;
}

/**
 * Runs one node with the CPU backend and checks what the kernel hands back. A fused node (op kind
 * "fused") has no kernel of its own: its region's body is interpreted with the operands as the
 * region's parameters, so a fused graph runs exactly the kernels of the unfused one.
 */
function runNode(node: Node, index: number, operands: readonly HostBuffer[], where: string, constants: ReadonlyMap<string, HostBuffer>): TypedArray[] {
  const op = getOp(node.op);
  const at = `${nodeName(node, index)} = ${node.op}(...)`;
  const body = node.regions?.[0];
  if (op.kind === "fused" && body) {
    const env = new Map(constants);
    body.params.forEach((p, k) => env.set(p.name, operands[k]!));
    return runNodes(body.nodes, body.results, env, where, constants).map((b) => b.data);
  }
  // Control flow (cond, while, for, scan): the op says when to run which region; each run
  // interprets the region's body afresh, so effects inside it (debugPrint) happen every time.
  const evalRegions = regionEvaluator(op);
  if (evalRegions && node.regions) {
    const regions = node.regions;
    const run = (k: number, args: readonly HostBuffer[]): HostBuffer[] => {
      const region = regions[k]!;
      const env = new Map(constants);
      region.params.forEach((p, j) => env.set(p.name, args[j]!));
      return runNodes(region.nodes, region.results, env, where, constants);
    };
    return evalRegions(operands, node.attrs, run, node.results.map((r) => r.type));
  }
  if (!hasCpuKernel(op)) {
    const why = node.regions?.length ? "has regions and " : "";
    throw new ValueError(`${where}: op ${node.op} (${at}) ${why}has no CPU kernel, so the interpreter cannot run it`);
  }
  const outTypes = node.results.map((r) => r.type);
  let outs: TypedArray[];
  try {
    outs = cpuBackend.execute(op, operands, node.attrs, outTypes);
  } catch (err) {
    if (err instanceof SymtensorError) throw err;
    // A kernel bug, not a user error: keep the original as the cause but surface a typed error.
    const e = new ValueError(`${where}: the CPU kernel of ${node.op} failed at ${at}: ${err instanceof Error ? err.message : String(err)}`);
    Object.defineProperty(e, "cause", { value: err });
    throw e;
  }
  if (outs.length !== outTypes.length) {
    throw new ValueError(`${where}: the CPU kernel of ${node.op} returned ${outs.length} buffers for ${outTypes.length} results at ${at}`);
  }
  outs.forEach((data, k) => {
    const t = outTypes[k]!;
    if (!(data instanceof dtypeInfo(t.dtype).array) || data.length !== sizeOf(t.shape)) {
      throw new ValueError(`${where}: the CPU kernel of ${node.op} returned a ${data.constructor.name} of ${data.length} elements for result ${k} (${formatType(t)}) at ${at}`);
    }
  });
  return outs;
}

/**
 * Runs `graph` on the CPU, one node at a time, with one buffer per parameter; returns the result
 * buffers in order. Buffers are immutable: a returned parameter or constant is the very same buffer.
 */
export function interpret(graph: Graph, inputs: readonly HostBuffer[]): HostBuffer[] {
  const where = `interpret @${graph.name}`;
  checkArguments(graph, inputs, where);
  const env = new Map<string, HostBuffer>();
  graph.params.forEach((p, i) => env.set(p.name, inputs[i]!));
  // Constants are read in place: the graph holds them by reference and nothing writes to them.
  const constants = new Map<string, HostBuffer>();
  for (const c of graph.constants) constants.set(c.name, { data: c.data, type: c.type });
  for (const [name, b] of constants) env.set(name, b);
  return runNodes(graph.nodes, graph.results, env, where, constants);
}

/** Runs a graph's or a region's nodes over `env` (its parameters and the constants) and returns its results. */
function runNodes(nodes: readonly Node[], results: readonly string[], env: Map<string, HostBuffer>, where: string, constants: ReadonlyMap<string, HostBuffer>): HostBuffer[] {
  const last = lastUsesIn(nodes, results);
  nodes.forEach((node, i) => {
    const operands = node.operands.map((name) => {
      const b = env.get(name);
      if (!b) throw new ValueError(`${where}: operand ${name} of ${nodeName(node, i)} is not defined (verify the graph first)`);
      return b;
    });
    const outs = runNode(node, i, operands, where, constants);
    node.results.forEach((r, k) => {
      if (last.has(r.name)) env.set(r.name, { data: outs[k]!, type: r.type });
    });
    for (const name of node.operands) if (last.get(name) === i) env.delete(name);
  });

  return results.map((name) => {
    const b = env.get(name);
    if (!b) throw new ValueError(`${where}: result ${name} is not defined (verify the graph first)`);
    return b;
  });
}

/**
 * `interpret` over bare typed arrays: each input takes its parameter's type, and the results are
 * the output arrays (a returned parameter or constant is the same array: do not mutate it).
 */
export function interpretArrays(graph: Graph, inputs: readonly TypedArray[]): TypedArray[] {
  const where = `interpret @${graph.name}`;
  if (!Array.isArray(inputs)) throw new ValueError(`${where}: arguments must be an array of typed arrays (${signature(graph)})`);
  const buffers = inputs.map((data, i): HostBuffer => {
    const p = graph.params[i];
    // Extra arguments keep a placeholder type; checkArguments reports the count first.
    return { data, type: p ? p.type : { dtype: "float32", shape: [data.length] } };
  });
  return interpret(graph, buffers).map((b) => b.data);
}
