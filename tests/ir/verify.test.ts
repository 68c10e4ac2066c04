import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IRVerifyError, ValueError } from "../../src/ir/errors.js";
import { type Graph, GraphBuilder, type Node, type Region } from "../../src/ir/graph.js";
import { defineOp, listOps } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";
import { type RegionTypes, verify } from "../../src/ir/verify.js";

const f32 = (...shape: number[]): TensorType => ({ dtype: "float32", shape });
const i32 = (...shape: number[]): TensorType => ({ dtype: "int32", shape });

// A test-only op that takes one region (the fusion/control-flow ops of later issues will look like
// this): its region's parameters take the operands' types and its results the node's.
defineOp({
  name: "test.regionOp",
  kind: "shape",
  arity: "variadic",
  regions: 1,
  doc: "test op with one region",
  attributes: {},
  infer: (inputs) => [inputs[0]!],
  verifyRegions(node: Node, regions: readonly RegionTypes[]) {
    const r = regions[0]!;
    if (r.results.length !== node.results.length) throw new ValueError(`test.regionOp: region yields ${r.results.length} values for ${node.results.length} results`);
  },
} as Parameters<typeof defineOp>[0]);

/** Runs verify and returns the IRVerifyError it throws (failing the test if it throws anything else or nothing). */
function verifyError(g: unknown): IRVerifyError {
  try {
    verify(g);
  } catch (err) {
    expect(err).toBeInstanceOf(IRVerifyError);
    const e = err as IRVerifyError;
    expect(e.code).toBe("ST302");
    return e;
  }
  throw new Error("verify accepted the graph");
}

function expectRule(g: unknown, rule: string, where: string, ...inMessage: string[]): IRVerifyError {
  const e = verifyError(g);
  expect(e.rule).toBe(rule);
  expect(e.where).toBe(where);
  expect(e.message).toContain(`${where}: ${rule}: `);
  for (const s of inMessage) expect(e.message).toContain(s);
  return e;
}

/** %0 = add(%arg0, %arg1) on f32[2,3] + f32[3]. */
function addGraph(): Graph {
  const b = new GraphBuilder("f");
  b.addParam("%arg0", f32(2, 3));
  b.addParam("%arg1", f32(3));
  const [r] = b.addNode("add", ["%arg0", "%arg1"], {}, [f32(2, 3)]);
  return b.build([r!.name]);
}

/** Mutable deep copy (typed arrays are copied too, which is fine for the verifier). */
function clone<T>(x: T): T {
  return structuredClone(x);
}
type Mutable = Record<string, unknown>;
const mut = (x: unknown): Mutable => x as Mutable;

describe("verify: valid graphs", () => {
  it("accepts elementwise chains with broadcasting", () => {
    const b = new GraphBuilder("chain");
    b.addParam("%x", f32(2, 3));
    b.addParam("%b", f32(3));
    const [s] = b.addNode("add", ["%x", "%b"], {}, [f32(2, 3)]);
    const [r] = b.addNode("relu", [s!.name], {}, [f32(2, 3)]);
    const [c] = b.addNode("greater", [r!.name, "%x"], {}, [{ dtype: "bool", shape: [2, 3] }]);
    const [w] = b.addNode("where", [c!.name, r!.name, "%b"], {}, [f32(2, 3)]);
    const [k] = b.addNode("cast", [w!.name], { dtype: "int32" }, [i32(2, 3)]);
    expect(() => verify(b.build([k!.name, c!.name]))).not.toThrow();
  });

  it("accepts reductions, shape ops, matmul, split with several results, concat and constants", () => {
    const b = new GraphBuilder("mix");
    b.addParam("%x", f32(4, 6));
    const w = b.addConstant(f32(6, 2), new Float32Array(12));
    const mask = b.addConstant({ dtype: "bool", shape: [2] }, new Uint8Array([1, 0]));
    const [m] = b.addNode("matmul", ["%x", w.name], {}, [f32(4, 2)]);
    const [s] = b.addNode("reduceSum", [m!.name], { axes: [1], keepDims: true }, [f32(4, 1)]);
    const [mean] = b.addNode("reduceMean", ["%x"], { axes: [0, 1], keepDims: false }, [f32()]);
    const [am] = b.addNode("argmax", ["%x"], { axis: 1, keepDims: false }, [i32(4)]);
    const [rs] = b.addNode("reshape", ["%x"], { shape: [2, 12] }, [f32(2, 12)]);
    const [tr] = b.addNode("transpose", [rs!.name], { perm: [1, 0] }, [f32(12, 2)]);
    const parts = b.addNode("split", ["%x"], { axis: 1, sizes: [1, 2, 3] }, [f32(4, 1), f32(4, 2), f32(4, 3)]);
    const [cat] = b.addNode("concat", [parts[2]!.name, parts[0]!.name], { axis: 1 }, [f32(4, 4)]);
    const [any] = b.addNode("reduceAny", [mask.name], { axes: [0] }, [{ dtype: "bool", shape: [] }]);
    const g = b.build([s!.name, mean!.name, am!.name, tr!.name, parts[1]!.name, cat!.name, any!.name, w.name, "%x"]);
    expect(() => verify(g)).not.toThrow();
  });

  it("accepts an empty graph, a graph returning its parameter, and nodes with zero results", () => {
    expect(() => verify({ name: "empty", params: [], constants: [], nodes: [], results: [] })).not.toThrow();
    const b = new GraphBuilder("id");
    b.addParam("%key", i32(2));
    b.addNode("randomSplit", ["%key"], { n: 0 }, []);
    expect(() => verify(b.build(["%key", "%key"]))).not.toThrow();
  });

  it("accepts a region that sees its parameters and the graph's constants", () => {
    const b = new GraphBuilder("fused");
    b.addParam("%x", f32(3));
    const c = b.addConstant(f32(3), new Float32Array([1, 2, 3]));
    const body: Region = {
      params: [{ name: "%a", type: f32(3) }],
      nodes: [
        { op: "add", operands: ["%a", c.name], attrs: {}, results: [{ name: "%t", type: f32(3) }] },
        { op: "relu", operands: ["%t"], attrs: {}, results: [{ name: "%u", type: f32(3) }] },
      ],
      results: ["%u"],
    };
    const [r] = b.addNode("test.regionOp", ["%x"], {}, [f32(3)], undefined, [body]);
    expect(() => verify(b.build([r!.name]))).not.toThrow();
  });
});

describe("verify: one broken graph per rule", () => {
  it("malformed: not a graph, missing fields, bad node fields, non-JSON attributes", () => {
    expectRule(null, "malformed", "@graph");
    expectRule({ name: 3 }, "malformed", "@graph", "name");
    const g = mut(clone(addGraph()));
    delete g["nodes"];
    expectRule(g, "malformed", "@f", `"nodes" must be an array`);

    const badAttrs = mut(clone(addGraph()));
    mut((badAttrs["nodes"] as unknown[])[0])["attrs"] = { f: () => 1 };
    expectRule(badAttrs, "malformed", "%0", "attrs.f is function");

    const badOperands = mut(clone(addGraph()));
    mut((badOperands["nodes"] as unknown[])[0])["operands"] = ["%arg0", 7];
    expectRule(badOperands, "malformed", "%0", "operands");

    const sparse = { ...addGraph(), results: [, "%0"] };
    expectRule(sparse, "malformed", "@f", "graph result 0 is undefined");
    const holes = mut(clone(addGraph()));
    mut((holes["nodes"] as unknown[])[0])["operands"] = new Array(2);
    expectRule(holes, "malformed", "%0", "operands");

    const badLoc = mut(clone(addGraph()));
    mut((badLoc["nodes"] as unknown[])[0])["loc"] = { file: "a.ts" };
    expectRule(badLoc, "malformed", "%0", "loc");

    const noResults = mut(clone(addGraph()));
    mut((noResults["nodes"] as unknown[])[0])["results"] = "%0";
    expectRule(noResults, "malformed", "@f#node0");
  });

  it("ssa: a name defined twice, and an invalid name", () => {
    const b = new GraphBuilder("f");
    b.addParam("%arg0", f32(2));
    b.addParam("%arg0", f32(2));
    expectRule(b.build([]), "ssa", "%arg0", "redefines %arg0");

    const twice: Graph = {
      ...addGraph(),
      nodes: [...addGraph().nodes, { op: "neg", operands: ["%arg1"], attrs: {}, results: [{ name: "%0", type: f32(3) }] }],
    };
    expectRule(twice, "ssa", "%0", "%0 is already defined", "%0 = neg(%arg1) : f32[3]");

    const badName = { ...addGraph(), params: [{ name: "arg0", type: f32(2, 3) }, { name: "%arg1", type: f32(3) }] };
    expectRule(badName, "ssa", "@f", `"arg0"`);
  });

  it("use-before-def: an operand defined later, and an undefined graph result", () => {
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2));
    b.addNode("neg", ["%1"], {}, [f32(2)]);
    b.addNode("neg", ["%x"], {}, [f32(2)]);
    expectRule(b.build(["%0"]), "use-before-def", "%0", "operand 0 (%1)", "%0 = neg(%1) : f32[2]");
    expectRule({ ...addGraph(), results: ["%9"] }, "use-before-def", "@f", "returns %9");
  });

  it("unknown-op", () => {
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2));
    b.addNode("frobnicate", ["%x"], {}, [f32(2)]);
    expectRule(b.build(["%0"]), "unknown-op", "%0", `"frobnicate" is not in the op registry`, "%0 = frobnicate(%x)");
  });

  it("arity: fixed and variadic", () => {
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2));
    b.addNode("add", ["%x"], {}, [f32(2)]);
    expectRule(b.build(["%0"]), "arity", "%0", "add takes 2 operands, got 1");
    const c = new GraphBuilder("f");
    c.addNode("concat", [], { axis: 0 }, [f32(2)]);
    expectRule(c.build(["%0"]), "arity", "%0", "concat takes at least 1 operand, got 0");
  });

  it("type-rule: the op's rule throws (its message, without the docs link)", () => {
    const g: Graph = { ...addGraph(), params: [{ name: "%arg0", type: f32(2, 3) }, { name: "%arg1", type: f32(4) }] };
    const e = expectRule(g, "type-rule", "%0", "add: shapes [2,3] and [4] cannot be broadcast together", "%0 = add(%arg0, %arg1) : f32[2,3]");
    expect(e.message.match(/See docs\/errors\.md/g)).toHaveLength(1);
  });

  it("type-rule: bad attributes", () => {
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2, 3));
    b.addNode("reduceSum", ["%x"], { axes: [2], keepDims: false }, [f32(2)]);
    expectRule(b.build(["%0"]), "type-rule", "%0", "reduceSum: axis 2", "{axes = [2], keepDims = false}");
  });

  it("type-rule: declared types differ from the inferred ones", () => {
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2, 3));
    b.addNode("transpose", ["%x"], { perm: [1, 0] }, [f32(2, 3)]);
    expectRule(b.build(["%0"]), "type-rule", "%0", "result 0 (%0) the type f32[3,2], but the node declares f32[2,3]");

    const d = new GraphBuilder("f");
    d.addParam("%x", i32(2));
    d.addNode("reduceSum", ["%x"], { axes: [0] }, [f32()]);
    expectRule(d.build(["%0"]), "type-rule", "%0", "i32[], but the node declares f32[]");

    const s = new GraphBuilder("f");
    s.addParam("%x", f32(4));
    s.addNode("split", ["%x"], { axis: 0, sizes: [2, 2] }, [f32(2)]);
    expectRule(s.build(["%0"]), "type-rule", "%0", "split gives 2 results (f32[2], f32[2]), but the node declares 1 (f32[2])");
  });

  it("constant: wrong array class, wrong length, bool data other than 0/1", () => {
    const b = new GraphBuilder("f");
    b.addConstant(f32(2), new Float64Array(2));
    expectRule(b.build([]), "constant", "%c0", "Float32Array", "Float64Array");
    const c = new GraphBuilder("f");
    c.addConstant(f32(2, 2), new Float32Array(3));
    expectRule(c.build([]), "constant", "%c0", "4 elements, but its data holds 3");
    const d = new GraphBuilder("f");
    d.addConstant({ dtype: "bool", shape: [3] }, new Uint8Array([0, 1, 2]));
    expectRule(d.build([]), "constant", "%c0", "0 or 1, got 2 at index 2");
    const e = new GraphBuilder("f");
    e.addConstant(f32(1), [1] as unknown as Float32Array);
    expectRule(e.build([]), "constant", "%c0");
  });

  it("type: unknown dtype, negative or fractional dimensions", () => {
    expectRule({ ...addGraph(), params: [{ name: "%arg0", type: { dtype: "float16", shape: [2] } }] }, "type", "%arg0", `unknown dtype "float16"`);
    expectRule({ ...addGraph(), params: [{ name: "%arg0", type: f32(2, -1) }] }, "type", "%arg0", "shape[1] is -1");
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2));
    b.addNode("neg", ["%x"], {}, [f32(1.5)]);
    expectRule(b.build(["%0"]), "type", "%0", "result 0 (%0): shape[0] is 1.5", "%0 = neg(%x) : <bad type>");
  });

  it("region: regions on an op that takes none, or a missing region", () => {
    const body: Region = { params: [], nodes: [], results: [] };
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2));
    b.addNode("neg", ["%x"], {}, [f32(2)], undefined, [body]);
    expectRule(b.build(["%0"]), "region", "%0", "neg takes no regions, but the node has 1");
    const c = new GraphBuilder("f");
    c.addParam("%x", f32(2));
    c.addNode("test.regionOp", ["%x"], {}, [f32(2)]);
    expectRule(c.build(["%0"]), "region", "%0", "test.regionOp takes 1 region, but the node has 0");
  });

  it("region: isolation from the enclosing graph, unique params, defined results, the op's hook", () => {
    const withBody = (body: Region): Graph => {
      const b = new GraphBuilder("f");
      b.addParam("%x", f32(2));
      b.addNode("neg", ["%x"], {}, [f32(2)]);
      b.addNode("test.regionOp", ["%0"], {}, [f32(2)], undefined, [body]);
      return b.build(["%1"]);
    };
    const a = { name: "%a", type: f32(2) };
    expectRule(
      withBody({ params: [a], nodes: [{ op: "add", operands: ["%a", "%x"], attrs: {}, results: [{ name: "%t", type: f32(2) }] }], results: ["%t"] }),
      "region", "%t", "operand 1 (%x) is a value of the enclosing graph", "in region 0 of %1: %t = add(%a, %x) : f32[2]",
    );
    expectRule(withBody({ params: [a, a], nodes: [], results: ["%a"] }), "region", "%1", "parameter 1 of region 0 of %1 is named %a");
    expectRule(withBody({ params: [a], nodes: [], results: ["%b"] }), "region", "%1", "region 0 of %1 returns %b");
    expectRule(withBody({ params: [a], nodes: [], results: ["%0"] }), "region", "%1", "belongs to the enclosing graph");
    expectRule(withBody({ params: [a], nodes: [], results: [] }), "region", "%1", "test.regionOp: region yields 0 values for 1 results");
    // Inside a region the other rules apply as usual, reported at the inner node.
    expectRule(
      withBody({ params: [a], nodes: [{ op: "add", operands: ["%a"], attrs: {}, results: [{ name: "%t", type: f32(2) }] }], results: ["%t"] }),
      "arity", "%t", "in region 0 of %1",
    );
    expectRule(
      withBody({ params: [a], nodes: [{ op: "neg", operands: ["%a"], attrs: {}, results: [{ name: "%a", type: f32(2) }] }], results: ["%a"] }),
      "ssa", "%a", "%a is already defined in region 0 of %1",
    );
  });

  it("reports the first problem in graph order", () => {
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2));
    b.addNode("nope", ["%x"], {}, [f32(2)]);
    b.addNode("add", ["%x"], {}, [f32(2)]);
    expect(verifyError(b.build(["%9"])).rule).toBe("unknown-op");
  });
});

// ---- attributes: names checked against each op's declaration -------------------------------------

/** A graph with one node `op(%x)` on x, declaring the given result types. */
function oneNode(op: string, attrs: Record<string, unknown>, x: TensorType, results: TensorType[]): Graph {
  const b = new GraphBuilder("f");
  b.addParam("%x", x);
  b.addNode(op, ["%x"], attrs as never, results);
  return b.build(results.length ? ["%0"] : []);
}

describe("verify: attributes", () => {
  it("rejects an attribute the op does not declare, naming the op, the attribute and the declared list", () => {
    expectRule(oneNode("neg", { axis: 1 }, f32(2), [f32(2)]), "attributes", "%0", `neg has no attribute "axis"; it declares no attributes`, "%0 = neg(%x) {axis = 1}");
    expectRule(
      oneNode("reduceSum", { axes: [0], keepdims: true }, f32(2), [f32(1)]),
      "attributes", "%0", `reduceSum has no attribute "keepdims"; it declares axes, keepDims (optional)`,
    );
    expectRule(
      oneNode("cumsum", { axis: 0, inclusive: true }, f32(2), [f32(2)]),
      "attributes", "%0", `"inclusive"`, "axis, exclusive (optional), reverse (optional)",
    );
  });

  it("rejects a missing required attribute, with its type and doc", () => {
    expectRule(oneNode("reshape", {}, f32(2, 3), [f32(6)]), "attributes", "%0", `reshape needs attribute "shape" (int[]: `, "it declares shape");
    expectRule(oneNode("cast", {}, f32(2), [i32(2)]), "attributes", "%0", `cast needs attribute "dtype" (dtype: `);
    expectRule(oneNode("argmax", { keepDims: true }, f32(2), [i32(1)]), "attributes", "%0", `argmax needs attribute "axis" (int | null: `);
    expectRule(oneNode("randomUniform", { shape: [2], dtype: "float32", minval: 0 }, i32(2), [f32(2)]), "attributes", "%0", `"maxval"`);
    expectRule(oneNode("debugPrint", {}, f32(2), [f32(2)]), "attributes", "%0", `debugPrint needs attribute "label" (string: `);
  });

  it("accepts optional attributes left out, and null as an attribute's value", () => {
    expect(() => verify(oneNode("reduceSum", { axes: [0] }, f32(2), [f32()]))).not.toThrow();
    expect(() => verify(oneNode("cumsum", { axis: null }, f32(2, 2), [f32(4)]))).not.toThrow();
    expect(() => verify(oneNode("argmax", { axis: null }, f32(2, 2), [i32()]))).not.toThrow();
    expect(() => verify(oneNode("gelu", {}, f32(2), [f32(2)]))).not.toThrow();
    expect(() => verify(oneNode("gelu", { approximate: true }, f32(2), [f32(2)]))).not.toThrow();
  });

  it("does not count inherited names (toString, __proto__, constructor) as declared", () => {
    const proto = JSON.parse(`{"__proto__": 1, "axes": [0]}`) as Record<string, unknown>;
    expect(Object.keys(proto)).toContain("__proto__");
    expectRule(oneNode("reduceSum", proto, f32(2), [f32()]), "attributes", "%0", `no attribute "__proto__"`);
    expectRule(oneNode("neg", { toString: 1 }, f32(2), [f32(2)]), "attributes", "%0", `no attribute "toString"`);
    expectRule(oneNode("cast", { constructor: "int32" }, f32(2), [i32(2)]), "attributes", "%0", `no attribute "constructor"`);
  });

  it("checks names before the op's rule checks values, and applies inside regions", () => {
    // axes = [5] is out of range, but the unknown name is reported first.
    expectRule(oneNode("reduceSum", { axes: [5], axis: 0 }, f32(2), [f32()]), "attributes", "%0", `no attribute "axis"`);
    // Values stay the rule's business.
    expectRule(oneNode("reduceSum", { axes: "0" }, f32(2), [f32()]), "type-rule", "%0", `reduceSum: attribute "axes"`);
    expectRule(oneNode("gelu", { approximate: "tanh" }, f32(2), [f32(2)]), "type-rule", "%0", `gelu: attribute "approximate" must be a boolean`);
    const b = new GraphBuilder("f");
    b.addParam("%x", f32(2));
    const body: Region = {
      params: [{ name: "%a", type: f32(2) }],
      nodes: [{ op: "relu", operands: ["%a"], attrs: { alpha: 0.1 }, results: [{ name: "%t", type: f32(2) }] }],
      results: ["%t"],
    };
    b.addNode("test.regionOp", ["%x"], {}, [f32(2)], undefined, [body]);
    expectRule(b.build(["%0"]), "attributes", "%t", `relu has no attribute "alpha"`, "in region 0 of %0");
  });

  it("any undeclared name is rejected, whatever the op (property)", () => {
    const ops = listOps().filter((o) => !o.name.startsWith("test."));
    fc.assert(
      fc.property(fc.constantFrom(...ops), fc.string({ minLength: 1, maxLength: 12 }), (op, name) => {
        fc.pre(!Object.hasOwn(op.attributes, name));
        const e = verifyError(oneNode(op.name, { [name]: 0 }, f32(2), [f32(2)]));
        // Arity can fail first for ops with several operands; with one operand the name is reported.
        if (op.arity === 1 || op.arity === "variadic") {
          expect(e.rule).toBe("attributes");
          expect(e.message).toContain(`${op.name} has no attribute ${JSON.stringify(name)}`);
        } else expect(e.rule).toBe("arity");
      }),
      { numRuns: 300 },
    );
  });

  it("the cast target dtype must be a real dtype, not an inherited property name", () => {
    expectRule(oneNode("cast", { dtype: "toString" }, f32(2), [f32(2)]), "type-rule", "%0", "cast: unknown target dtype");
    expectRule(oneNode("cast", { dtype: "constructor" }, f32(2), [f32(2)]), "type-rule", "%0", "cast: unknown target dtype");
  });
});

describe("op attribute schemas", () => {
  it("every registered op declares its attributes, each with a type and a doc", () => {
    const ops = listOps();
    expect(ops.length).toBeGreaterThan(60);
    for (const op of ops) {
      expect(typeof op.attributes, op.name).toBe("object");
      for (const [name, spec] of Object.entries(op.attributes)) {
        expect(spec.type.length, `${op.name}.${name} type`).toBeGreaterThan(0);
        expect(spec.doc.length, `${op.name}.${name} doc`).toBeGreaterThan(0);
      }
    }
  });

  it("declares what the ops read (spot checks per group)", () => {
    const names = (op: string): string[] => Object.keys(listOps().find((o) => o.name === op)!.attributes);
    expect(names("add")).toEqual([]);
    expect(names("cast")).toEqual(["dtype"]);
    expect(names("gelu")).toEqual(["approximate"]);
    expect(names("reduceMean")).toEqual(["axes", "keepDims"]);
    expect(names("argmin")).toEqual(["axis", "keepDims"]);
    expect(names("cumprod")).toEqual(["axis", "exclusive", "reverse"]);
    expect(names("slice")).toEqual(["begin", "end", "strides"]);
    expect(names("conv2d")).toEqual(["strides", "dilations", "padding"]);
    expect(names("avgPool2d")).toEqual(["windowShape", "strides", "padding"]);
    expect(names("randomInt")).toEqual(["shape", "dtype", "minval", "maxval"]);
    expect(names("debugPrint")).toEqual(["label"]);
  });

  it("defineOp rejects a malformed schema and reads a missing one as no attributes", () => {
    const base = { kind: "shape", arity: 1, doc: "test", infer: (t: readonly TensorType[]) => [t[0]!] } as const;
    expect(() => defineOp({ ...base, name: "test.badSchema", attributes: { k: { type: "int" } } as never })).toThrow(/attribute "k" must be declared/);
    const def = defineOp({ ...base, name: "test.noSchema" } as never);
    expect(def.attributes).toEqual({});
    expectRule(oneNode("test.noSchema", { k: 1 }, f32(2), [f32(2)]), "attributes", "%0", "test.noSchema has no attribute \"k\"; it declares no attributes");
  });
});

// ---- fuzzing: verify throws only IRVerifyError -----------------------------------------------------

const RULES = new Set(["malformed", "ssa", "use-before-def", "unknown-op", "arity", "attributes", "type-rule", "constant", "type", "region"]);

/** Verifies `g`, failing on anything but IRVerifyError; returns the rule broken ("ok" if none). */
function expectOnlyVerifyErrors(g: unknown): string {
  try {
    verify(g);
    return "ok";
  } catch (err) {
    if (!(err instanceof IRVerifyError)) throw err;
    expect(err.code).toBe("ST302");
    expect(RULES.has(err.rule)).toBe(true);
    return err.rule;
  }
}

function validGraph(): Graph {
  const b = new GraphBuilder("g");
  b.addParam("%x", f32(2, 3));
  const c = b.addConstant(f32(3), new Float32Array([1, 2, 3]));
  const [s] = b.addNode("add", ["%x", c.name], {}, [f32(2, 3)], { file: "a.ts", line: 1, col: 2 });
  const [r] = b.addNode("reduceMax", [s!.name], { axes: [0], keepDims: true }, [f32(1, 3)]);
  const parts = b.addNode("split", ["%x"], { axis: 1, sizes: [1, 2] }, [f32(2, 1), f32(2, 2)]);
  const body: Region = {
    params: [{ name: "%p", type: f32(1, 3) }],
    nodes: [{ op: "neg", operands: ["%p"], attrs: {}, results: [{ name: "%q", type: f32(1, 3) }] }],
    results: ["%q"],
  };
  const [t] = b.addNode("test.regionOp", [r!.name], {}, [f32(1, 3)], undefined, [body]);
  return b.build([t!.name, parts[1]!.name]);
}

/** Every [container, key] in the graph's JSON-like tree (typed arrays are leaves). */
function slots(root: unknown): [Record<string | number, unknown>, string | number][] {
  const out: [Record<string | number, unknown>, string | number][] = [];
  const walk = (x: unknown): void => {
    if (typeof x !== "object" || x === null || ArrayBuffer.isView(x)) return;
    const o = x as Record<string | number, unknown>;
    for (const k of Array.isArray(x) ? x.keys() : Object.keys(o)) {
      out.push([o, k]);
      walk(o[k]);
    }
  };
  walk(root);
  return out;
}

const mutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom("delete", "replace", "rename", "swap"),
  value: fc.oneof(fc.anything(), fc.constantFrom("%x", "%0", "%c0", "%p", "%q", "%nope", "x", ""), fc.integer({ min: -3, max: 5 })),
});

describe("verify: fuzzing", () => {
  it("accepts the fuzzing seed graph", () => {
    expect(() => verify(validGraph())).not.toThrow();
  });

  it("throws only IRVerifyError on arbitrary data", () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withTypedArray: true, withMap: true, withSet: true }), (g) => void expectOnlyVerifyErrors(g)), { numRuns: 300 });
    fc.assert(
      fc.property(
        fc.record({ name: fc.anything(), params: fc.anything(), constants: fc.anything(), nodes: fc.anything(), results: fc.anything() }, { requiredKeys: [] }),
        (g) => void expectOnlyVerifyErrors(g),
      ),
      { numRuns: 200 },
    );
  });

  it("throws only IRVerifyError on mutations of a valid graph", () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (muts) => {
        const g = clone(validGraph());
        for (const m of muts) {
          const all = slots(g);
          if (all.length === 0) break;
          const [container, key] = all[m.at % all.length]!;
          const old = container[key];
          if (m.kind === "rename" && typeof old === "string") container[key] = typeof m.value === "string" ? m.value : `%${String(m.value)}`;
          else if (m.kind === "swap" && Array.isArray(container) && container.length > 1) {
            const j = (Number(key) + 1) % container.length;
            [container[key], container[j]] = [container[j], old];
          } else if (m.kind === "delete" || m.kind === "swap") delete container[key];
          else container[key] = m.value;
        }
        const rule = expectOnlyVerifyErrors(g);
        seen.set(rule, (seen.get(rule) ?? 0) + 1);
      }),
      { numRuns: 500 },
    );
    // The mutations reach deep into the graph, not only its outer shape.
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });

  it("reports a throwing getter as malformed instead of propagating it", () => {
    const g = { name: "f", params: [], constants: [], results: [], get nodes(): never { throw new TypeError("boom"); } };
    expectRule(g, "malformed", "@graph", "TypeError: boom");
  });
});
