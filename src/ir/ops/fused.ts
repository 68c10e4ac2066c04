/**
 * `fused`: one kernel made by the fuse pass (src/ir/passes/fuse.ts, which documents the region
 * format precisely). Its single region is the body the kernel computes; the node's operands are
 * the region's parameters, and its results are the region's yields. The `kind` attribute says
 * which of three body shapes it has, so a code generator can pick a loop structure without
 * analysing the body:
 *
 *   elementwise  only elementwise ops (cast and where included) over the parameters, any
 *                broadcasting among them; one or more yields, each of the node's broadcast output
 *                shape (the broadcast of every parameter's shape)
 *   reduce       elementwise ops, then one reduction (reduceSum/Max/Min/Prod/Mean) as the last
 *                node, whose result is the last yield; the yields before it (zero or more) are
 *                distinct elementwise body values of the reduction's input shape, written by the
 *                same loop that accumulates; every parameter broadcasts to the reduction's input
 *                shape
 *   matmul       a matmul of two parameters (each of rank >= 2) first, then elementwise ops that
 *                read the values computed so far and parameters broadcastable to the matmul
 *                result (bias, scale), each result of the matmul's shape; the last node's result
 *                is the only yield
 *
 * In every kind the body reads only its parameters and its own values (never the graph's
 * constants directly: the pass passes them as operands), and no body node has an effect.
 */
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import type { Node } from "../graph.js";
import { type Attrs, defineOp, getOp, hasOp, type OpDef } from "../registry.js";
import { broadcastShapes, describe } from "../shape.js";
import { formatType, sameShape, sameType, type TensorType } from "../types.js";
import type { RegionTypes } from "../verify.js";

export type FusedKind = "elementwise" | "reduce" | "matmul";
export const FUSED_KINDS: readonly FusedKind[] = ["elementwise", "reduce", "matmul"];

/** The reductions a reduce fusion may end with. */
export const FUSIBLE_REDUCTIONS: ReadonlySet<string> = new Set(["reduceSum", "reduceMax", "reduceMin", "reduceProd", "reduceMean"]);

/** An op that may sit in a fused body as an elementwise step: pointwise and free of effects. */
export function isFusibleElementwise(def: OpDef): boolean {
  return def.kind === "elementwise" && !def.effect && !def.regions;
}

function kindAttr(attrs: Attrs): FusedKind {
  const k = attrs["kind"];
  if (typeof k !== "string" || !(FUSED_KINDS as readonly string[]).includes(k)) {
    throw new ValueError(`fused: attribute "kind" must be one of ${FUSED_KINDS.map((x) => `"${x}"`).join(", ")}, got ${describe(k)}`);
  }
  return k as FusedKind;
}

const list = (ts: readonly TensorType[]): string => ts.map(formatType).join(", ");

/** Whether `t` broadcasts to `shape` without growing it. */
function broadcastsTo(t: readonly number[], shape: readonly number[]): boolean {
  try {
    return sameShape(broadcastShapes(t, shape), shape);
  } catch {
    return false;
  }
}

/** The body checks, by kind; names and types inside the region are already verified. */
function checkBody(node: Node, region: RegionTypes, kind: FusedKind): void {
  const body = node.regions![0]!;
  const params = new Set(body.params.map((p) => p.name));
  const types = new Map<string, TensorType>(body.params.map((p) => [p.name, p.type]));
  for (const n of body.nodes) for (const r of n.results) types.set(r.name, r.type);
  const computed = new Set<string>();
  const describeNode = (n: Node): string => `${n.results.map((r) => r.name).join(", ") || n.op} = ${n.op}(${n.operands.join(", ")})`;

  const first = body.nodes[0];
  if (kind === "matmul" && first && first.op !== "matmul") {
    throw new ValueError(`fused {kind = "matmul"}: the first body node must be a matmul, got ${describeNode(first)}`);
  }
  body.nodes.forEach((n, i) => {
    for (const [k, name] of n.operands.entries()) {
      if (!params.has(name) && !computed.has(name)) {
        throw new ValueError(`fused: body node ${describeNode(n)} reads ${name} (operand ${k}), which is neither a region parameter nor an earlier body value; pass graph values and constants as operands`);
      }
    }
    const def = hasOp(n.op) ? getOp(n.op) : undefined;
    const last = i === body.nodes.length - 1;
    const allowed =
      def !== undefined &&
      (isFusibleElementwise(def) || (kind === "reduce" && last && FUSIBLE_REDUCTIONS.has(n.op)) || (kind === "matmul" && i === 0 && n.op === "matmul"));
    if (!allowed) {
      const want =
        kind === "elementwise"
          ? "only elementwise ops"
          : kind === "reduce"
            ? `elementwise ops followed by one of ${[...FUSIBLE_REDUCTIONS].join(", ")} as the last node`
            : "a matmul first, then elementwise ops";
      throw new ValueError(`fused {kind = "${kind}"}: body node ${i} (${describeNode(n)}) is not allowed here; the body holds ${want}`);
    }
    for (const r of n.results) computed.add(r.name);
  });

  const yields = body.results;
  if (kind === "elementwise") {
    if (yields.length === 0) throw new ValueError(`fused {kind = "elementwise"}: the body yields nothing; it must yield one or more values`);
    let shape: number[] = [];
    try {
      for (const p of region.params) shape = broadcastShapes(shape, p.shape, "fused");
    } catch {
      throw new ShapeError(`fused {kind = "elementwise"}: the parameters do not broadcast together (${list(region.params)})`);
    }
    region.results.forEach((t, k) => {
      if (!sameShape(t.shape, shape)) {
        throw new ShapeError(`fused {kind = "elementwise"}: yield ${k} (${yields[k]}) is ${formatType(t)}, but every yield must have the broadcast output shape [${shape.join(",")}]`);
      }
    });
    return;
  }

  const lastNode = body.nodes[body.nodes.length - 1];
  if (!lastNode) throw new ValueError(`fused {kind = "${kind}"}: the body is empty; it needs ${kind === "reduce" ? "a reduction" : "a matmul"}`);
  const lastName = lastNode.results[0]?.name;

  if (kind === "reduce") {
    if (!FUSIBLE_REDUCTIONS.has(lastNode.op)) {
      throw new ValueError(`fused {kind = "reduce"}: the last body node is ${describeNode(lastNode)}, not one of ${[...FUSIBLE_REDUCTIONS].join(", ")}`);
    }
    if (yields.length === 0 || yields[yields.length - 1] !== lastName) {
      throw new ValueError(`fused {kind = "reduce"}: the body's last yield must be the reduction's result (${lastName ?? "none"}), got [${yields.join(", ")}]`);
    }
    const input = types.get(lastNode.operands[0]!)!;
    // Extra yields are elementwise values written by the loop that accumulates: one per element of
    // the reduction's input, so each must have exactly that shape.
    const extra = new Set<string>();
    yields.slice(0, -1).forEach((name, k) => {
      if (params.has(name) || name === lastName || extra.has(name)) {
        const why = params.has(name) ? "a region parameter" : extra.has(name) ? "yielded twice" : "the reduction's result, yielded twice";
        throw new ValueError(`fused {kind = "reduce"}: yield ${k} (${name}) is ${why}; the yields before the reduction's result are distinct elementwise body values`);
      }
      const t = types.get(name)!;
      if (!sameShape(t.shape, input.shape)) {
        throw new ShapeError(`fused {kind = "reduce"}: yield ${k} (${name}) is ${formatType(t)}, but an extra yield of a reduce body must have the reduction's input shape [${input.shape.join(",")}]`);
      }
      extra.add(name);
    });
    for (const p of region.params) {
      if (!broadcastsTo(p.shape, input.shape)) {
        throw new ShapeError(`fused {kind = "reduce"}: parameter ${formatType(p)} does not broadcast to the reduction's input ${formatType(input)}`);
      }
    }
    return;
  }

  if (yields.length !== 1 || yields[0] !== lastName) {
    throw new ValueError(`fused {kind = "${kind}"}: the body must yield exactly one value, the last node's result (${lastName ?? "none"}), got [${yields.join(", ")}]`);
  }

  // matmul
  const mm = body.nodes[0]!;
  // Being the first node, the matmul can only read parameters.
  for (const [k, name] of mm.operands.entries()) {
    const t = types.get(name)!;
    if (t.shape.length < 2) throw new ShapeError(`fused {kind = "matmul"}: matmul operand ${k} (${name}) is ${formatType(t)}; a matmul fusion takes 2-D or batched operands`);
  }
  const mmType = mm.results[0]!.type;
  const chain = new Set<string>([mm.results[0]!.name]);
  for (const n of body.nodes.slice(1)) {
    if (!n.operands.some((o) => chain.has(o))) {
      throw new ValueError(`fused {kind = "matmul"}: epilogue node ${describeNode(n)} reads no value computed from the matmul`);
    }
    for (const o of n.operands) {
      if (chain.has(o)) continue;
      const t = types.get(o)!;
      if (!broadcastsTo(t.shape, mmType.shape)) {
        throw new ShapeError(`fused {kind = "matmul"}: epilogue operand ${o} is ${formatType(t)}, which does not broadcast to the matmul result ${formatType(mmType)}`);
      }
    }
    const r = n.results[0]!;
    if (!sameShape(r.type.shape, mmType.shape)) {
      throw new ShapeError(`fused {kind = "matmul"}: epilogue node ${describeNode(n)} gives ${formatType(r.type)}, not the matmul result's shape [${mmType.shape.join(",")}]`);
    }
    chain.add(r.name);
  }
}

interface RegionHook {
  verifyRegions(node: Node, regions: readonly RegionTypes[]): void;
}

// The verifier looks the region hook up on the definition object, so it is defined here as a
// plain object property (OpDef itself does not know about graph nodes).
const fused: OpDef & RegionHook = {
  name: "fused",
  kind: "fused",
  arity: "variadic",
  regions: 1,
  doc: "a kernel made by the fuse pass: runs its region's body on the operands (the region's parameters) and returns what the body yields",
  attributes: {
    kind: { type: '"elementwise" | "reduce" | "matmul"', doc: "the body's shape: elementwise ops; elementwise ops then one reduction; a matmul then elementwise ops" },
  },
  infer(_inputs, attrs) {
    kindAttr(attrs);
    throw new ValueError("fused: the result types are the types its region yields; a fused node is made by the fuse pass (the verifier types it with inferRegions), not by calling the op");
  },
  inferRegions(inputs, attrs, regions) {
    kindAttr(attrs);
    const r = regions[0];
    if (!r) throw new ValueError("fused: needs one region");
    if (r.params.length !== inputs.length) {
      throw new ValueError(`fused: the region takes ${r.params.length} parameter${r.params.length === 1 ? "" : "s"} (${list(r.params)}), but the node has ${inputs.length} operand${inputs.length === 1 ? "" : "s"} (${list(inputs)})`);
    }
    inputs.forEach((t, k) => {
      const p = r.params[k]!;
      if (sameType(t, p)) return;
      const E = t.dtype === p.dtype ? ShapeError : DTypeError;
      throw new E(`fused: operand ${k} is ${formatType(t)}, but region parameter ${k} is ${formatType(p)}; they must be equal`);
    });
    return r.results.map((t) => ({ dtype: t.dtype, shape: [...t.shape] }));
  },
  verifyRegions(node, regions) {
    const region = regions[0];
    if (!region || !node.regions?.[0]) throw new ValueError("fused: needs one region");
    checkBody(node, region, kindAttr(node.attrs));
  },
};

defineOp(fused);
