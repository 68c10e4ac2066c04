import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { graphDiff, graphEqual } from "../../src/ir/equal.js";
import { IRParseError, IRVerifyError } from "../../src/ir/errors.js";
import { type Graph, GraphBuilder, type Node } from "../../src/ir/graph.js";
import "../../src/ir/ops/index.js";
import { parse } from "../../src/ir/parse.js";
import { formatFloat32, print } from "../../src/ir/print.js";
import type { TensorType } from "../../src/ir/types.js";
import { verify } from "../../src/ir/verify.js";
import { randomGraph } from "../helpers/random-graph.js";

const EXAMPLES = fileURLToPath(new URL("./examples/", import.meta.url));
const f32 = (...shape: number[]): TensorType => ({ dtype: "float32", shape });
const i32 = (...shape: number[]): TensorType => ({ dtype: "int32", shape });

/** The golden graph: every construct of the format once. */
function goldenGraph(): Graph {
  const b = new GraphBuilder("predict");
  b.addParam("%arg0", f32(2, 3));
  b.addParam("%arg1.w", f32(3, 4));
  b.addConstant(f32(4), new Float32Array([1, 2.5, -0, NaN]));
  b.addConstant({ dtype: "uint8", shape: [20] }, Uint8Array.from({ length: 20 }, (_, i) => i));
  b.addNode("matmul", ["%arg0", "%arg1.w"], {}, [f32(2, 4)], { file: "examples/mlp.ts", line: 14, col: 38 });
  b.addNode("add", ["%0", "%c0"], {}, [f32(2, 4)]);
  b.addNode("argmax", ["%1"], { keepDims: false, axis: 1 }, [i32(2)]);
  b.addNode("split", ["%2"], { sizes: [1, 1], axis: 0 }, [i32(1), i32(1)]);
  const body: Node = { op: "add", operands: ["%a", "%b"], results: [{ name: "%t", type: f32(2, 4) }], attrs: {} };
  b.addNode("fused", ["%1", "%c0"], {}, [f32(2, 4)], undefined, [
    { params: [{ name: "%a", type: f32(2, 4) }, { name: "%b", type: f32(4) }], nodes: [body], results: ["%t"] },
  ]);
  b.addNode("debugPrint", ["%5"], { label: 'say "hi"' }, [f32(2, 4)]);
  return b.build(["%2", "%6"]);
}

const GOLDEN = `func @predict(%arg0: f32[2,3], %arg1.w: f32[3,4]) -> (i32[2], f32[2,4]) {
  const %c0: f32[4] = dense<[1, 2.5, -0, nan]>
  const %c1: u8[20] = blob<"c1">
  %0 = matmul(%arg0, %arg1.w) : f32[2,4] loc("examples/mlp.ts":14:38)
  %1 = add(%0, %c0) : f32[2,4]
  %2 = argmax(%1) {axis = 1, keepDims = false} : i32[2]
  %3, %4 = split(%2) {axis = 0, sizes = [1, 1]} : i32[1], i32[1]
  %5 = fused(%1, %c0) : f32[2,4] {
    ^(%a: f32[2,4], %b: f32[4]):
      %t = add(%a, %b) : f32[2,4]
      yield %t
  }
  %6 = debugPrint(%5) {label = "say \\"hi\\""} : f32[2,4]
  return %2, %6
}
blobs {
  "c1": "AAECAwQFBgcICQoLDA0ODxAREhM="
}
`;

function expectEqualGraphs(actual: Graph, expected: Graph): void {
  expect(graphDiff(actual, expected)).toBeUndefined();
}

describe("print: golden output", () => {
  it("prints every construct in the documented format", () => {
    expect(print(goldenGraph())).toBe(GOLDEN);
  });

  it("parses the golden text back to the same graph", () => {
    expectEqualGraphs(parse(GOLDEN), goldenGraph());
  });

  it("omits locations with loc: false", () => {
    const text = print(goldenGraph(), { loc: false });
    expect(text).not.toContain("loc(");
    expect(text).toContain("  %0 = matmul(%arg0, %arg1.w) : f32[2,4]\n");
  });

  it("elides large constants with elideConstants: true (for people; it does not parse)", () => {
    const text = print(goldenGraph(), { elideConstants: true });
    expect(text).toContain("const %c1: u8[20] = dense<...>");
    expect(text).toContain("const %c0: f32[4] = dense<[1, 2.5, -0, nan]>");
    expect(text).not.toContain("blobs {");
    expect(() => parse(text)).toThrow(IRParseError);
  });

  it("prints zero-result nodes, several regions, empty returns and quoted names", () => {
    const g: Graph = {
      name: "my fn",
      params: [{ name: "%a b", type: { dtype: "bool", shape: [] } }],
      constants: [{ name: "%c0", type: i32(), data: new Int32Array([-7]) }],
      nodes: [
        { op: "return", operands: ["%a b"], results: [], attrs: { "key with space": -0, inf: 1e21, nested: { xs: [null, true, "\n"] } } },
        {
          op: "loop",
          operands: [],
          results: [{ name: "%0", type: i32() }],
          attrs: {},
          regions: [
            { params: [], nodes: [], results: [] },
            { params: [{ name: "%p", type: i32() }], nodes: [], results: ["%p"] },
          ],
        },
      ],
      results: [],
    };
    const text = print(g);
    expect(text).toBe(`func @"my fn"(%"a b": bool[]) -> () {
  const %c0: i32[] = dense<-7>
  "return"(%"a b") {"inf" = 1e+21, "key with space" = -0, nested = {xs = [null, true, "\\n"]}}
  %0 = loop() : i32[] {
    ^():
      yield
  }, {
    ^(%p: i32[]):
      yield %p
  }
  return
}
`);
    expectEqualGraphs(parse(text), g);
  });

  it("prints float32 constants with the shortest decimal that rounds back", () => {
    expect(formatFloat32(Math.fround(0.1))).toBe("0.1");
    expect(formatFloat32(Math.fround(16777217))).toBe("16777216");
    expect(formatFloat32(Math.fround(3.4028234663852886e38))).toBe("3.4028235e+38");
    expect(formatFloat32(1.401298464324817e-45)).toBe("1e-45");
    expect(formatFloat32(-0)).toBe("-0");
    expect(formatFloat32(-Infinity)).toBe("-inf");
    const g = parse("func @f() -> (f32[3]) {\n  const %c0: f32[3] = dense<[0.1, 1e-45, 16777217]>\n  return %c0\n}\n");
    expect(Array.from(g.constants[0]!.data)).toEqual([Math.fround(0.1), 1.401298464324817e-45, 16777216]);
  });

  it("round-trips blobs of every length modulo 3 (base64 padding)", () => {
    for (const n of [17, 18, 19, 20]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      const g: Graph = { name: "f", params: [], constants: [{ name: "%c0", type: { dtype: "uint8", shape: [n] }, data }], nodes: [], results: ["%c0"] };
      const text = print(g);
      expect(text).toContain('blob<"c0">');
      expectEqualGraphs(parse(text), g);
    }
  });
});

describe("parse: example files", () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".stir"));

  it("has examples", () => {
    expect(files).toEqual(expect.arrayContaining(["constants.stir", "fused.stir", "mlp.stir"]));
  });

  for (const file of files) {
    it(`parses ${file} and round-trips it`, () => {
      const g = parse(readFileSync(EXAMPLES + file, "utf8"), { file });
      expectEqualGraphs(parse(print(g)), g);
      // fused.stir uses ops that are not in the registry yet
      if (file !== "fused.stir") expect(() => verify(g)).not.toThrow();
    });
  }

  it("reads constants exactly", () => {
    const g = parse(readFileSync(`${EXAMPLES}constants.stir`, "utf8"));
    const byName = new Map(g.constants.map((c) => [c.name, c]));
    expect(Array.from(byName.get("%c0")!.data)).toEqual([1, -0, NaN, -Infinity]);
    expect(Object.is(byName.get("%c0")!.data[1], -0)).toBe(true);
    expect(byName.get("%c0")!.data).toBeInstanceOf(Float64Array);
    expect(Array.from(byName.get("%c2")!.data)).toEqual([-2147483648]);
    expect(byName.get("%c3")!.data).toHaveLength(0);
    expect(Array.from(byName.get("%c4")!.data)).toEqual([1, 0]);
    const w = byName.get("%c5")!.data;
    expect(w).toBeInstanceOf(Float32Array);
    expect([w[0], w[1], Object.is(w[2], -0), w[3], w[19]]).toEqual([NaN, Infinity, true, -1.125, 2.875]);
    expect(Array.from(byName.get("%c6")!.data)).toEqual(Array.from({ length: 17 }, (_, i) => (i % 3 === 0 ? 1 : 0)));
    expect(Array.from(byName.get("%c7")!.data)).toEqual([-2147483648, 2147483647, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("reads regions, multi-result nodes, zero-result nodes and comments", () => {
    const g = parse(readFileSync(`${EXAMPLES}fused.stir`, "utf8"));
    const [fused, loop, sink] = g.nodes as [Node, Node, Node];
    expect(fused.regions).toHaveLength(1);
    expect(fused.regions![0]!.results).toEqual(["%r"]);
    expect(fused.loc).toEqual({ file: "examples/mlp.ts", line: 14, col: 52 });
    expect(loop.results.map((r) => r.name)).toEqual(["%1", "%2"]);
    expect(loop.regions).toHaveLength(2);
    expect(loop.regions![1]!.results).toEqual(["%i", "%h2"]);
    expect(loop.attrs).toEqual({ maxTrips: 10 });
    expect(sink).toEqual({ op: "sink", operands: ["%2"], results: [], attrs: { label: "h" } });
    expect(g.results).toEqual(["%2", "%1"]);
  });
});

describe("graphEqual", () => {
  const base = (): Graph => parse(readFileSync(`${EXAMPLES}mlp.stir`, "utf8"));
  const withNode = (g: Graph, i: number, patch: Partial<Node>): Graph => ({ ...g, nodes: g.nodes.map((n, k) => (k === i ? { ...n, ...patch } : n)) });

  it("ignores attribute key order and an empty region list", () => {
    const g = base();
    const reordered = withNode(g, 5, { attrs: { keepDims: false, axis: 1 } });
    expect(graphEqual(g, reordered)).toBe(true);
    expect(graphEqual(g, withNode(g, 2, { regions: [] }))).toBe(true);
  });

  it("reports the first difference", () => {
    const g = base();
    expect(graphDiff(g, withNode(g, 5, { attrs: { axis: 0, keepDims: false } }))).toBe("nodes[5].attrs.axis: 1 vs 0");
    expect(graphDiff(g, withNode(g, 0, { loc: { file: "examples/mlp.ts", line: 14, col: 39 } }))).toBe('nodes[0].loc: "examples/mlp.ts":14:38 vs "examples/mlp.ts":14:39');
    expect(graphDiff(g, withNode(g, 3, { loc: { file: "x", line: 1, col: 1 } }))).toBe('nodes[3].loc: none vs "x":1:1');
    expect(graphDiff(g, { ...g, results: ["%5"] })).toBe("results: 2 vs 1 entries");
    expect(graphDiff(g, { ...g, name: "other" })).toBe('name: "predict" vs "other"');
    expect(graphDiff(g, withNode(g, 5, { attrs: { axis: 1, keepDims: false, extra: [1] } }))).toBe("nodes[5].attrs.extra: absent vs [1]");
  });

  it("compares constants bit for bit: -0 differs from 0, NaN equals NaN", () => {
    const c = (xs: number[]): Graph => ({ name: "f", params: [], nodes: [], results: [], constants: [{ name: "%c0", type: f32(xs.length), data: new Float32Array(xs) }] });
    expect(graphEqual(c([NaN, 1]), c([NaN, 1]))).toBe(true);
    expect(graphDiff(c([0, 1]), c([-0, 1]))).toBe("constants[0].data[0]: 0 vs -0");
    const i = (xs: number[]): Graph => ({ ...c(xs), constants: [{ name: "%c0", type: i32(xs.length), data: new Int32Array(xs) }] });
    expect(graphDiff(c([1]), i([1]))).toMatch(/^constants\[0\]\.type: f32\[1\] vs i32\[1\]/);
  });

  it("distinguishes -0 from 0 in attributes and dicts from lists", () => {
    const g = base();
    const a = withNode(g, 5, { attrs: { axis: 1, keepDims: false, x: 0 } });
    expect(graphEqual(a, withNode(g, 5, { attrs: { axis: 1, keepDims: false, x: -0 } }))).toBe(false);
    expect(graphEqual(withNode(g, 5, { attrs: { x: [] } }), withNode(g, 5, { attrs: { x: {} } }))).toBe(false);
  });
});

describe("print/parse round trip (fast-check)", () => {
  it("parse(print(g)) equals g, printing is a fixed point, and the result verifies", () => {
    fc.assert(
      fc.property(randomGraph(fc), (g) => {
        const text = print(g);
        const back = parse(text);
        const diff = graphDiff(back, g);
        if (diff !== undefined) throw new Error(`${diff}\n${text}`);
        expect(print(back)).toBe(text);
        verify(back);
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips graphs with regions, zero-result nodes and arbitrary attribute data", () => {
    fc.assert(
      fc.property(randomGraph(fc, { regions: true }), (g) => {
        const text = print(g);
        const back = parse(text);
        const diff = graphDiff(back, g);
        if (diff !== undefined) throw new Error(`${diff}\n${text}`);
        expect(print(back)).toBe(text);
        expect(print(back, { loc: false })).toBe(print(g, { loc: false }));
      }),
      { numRuns: 200 },
    );
  });
});

// ---- malformed input ----------------------------------------------------------------------------

/** Parses `text`, expecting an IRParseError at line:col whose message shows the caret under it. */
function parseError(text: string, line: number, col: number, detail: RegExp): IRParseError {
  let err: unknown;
  try {
    parse(text, { file: "bad.stir" });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(IRParseError);
  const e = err as IRParseError;
  expect(e.code).toBe("ST301");
  expect({ line: e.line, col: e.col, file: e.file }).toEqual({ line, col, file: "bad.stir" });
  expect(e.detail).toMatch(detail);
  const source = text.split("\n")[line - 1]!;
  expect(e.message).toContain(`bad.stir:${line}:${col}: error ST301: `);
  expect(e.message).toContain(`\n  ${source}\n  ${" ".repeat(col - 1)}^`);
  return e;
}

const fn = (body: string, tail = ""): string => `func @f(%x: f32[2]) -> (f32[2]) {\n${body}\n  return %x\n}\n${tail}`;

describe("parse errors point at the offending token", () => {
  it("unknown dtype", () => {
    parseError(fn("  %0 = neg(%x) : f16[2]"), 2, 18, /unknown dtype 'f16' \(expected one of bool, u8, i32, f32, f64\)/);
  });

  it("missing )", () => {
    parseError(fn("  %0 = neg(%x : f32[2]"), 2, 15, /expected '\)' but found ':'/);
  });

  it("bad number", () => {
    parseError(fn("  const %c0: f32[2] = dense<[1, 2.5.1]>"), 2, 33, /bad number '2\.5\.1'/);
    parseError(fn("  %0 = neg(%x) : f32[2x]"), 2, 22, /bad dimension '2x'/);
  });

  it("dense literal that does not match its type", () => {
    parseError(fn("  const %c0: f32[2,2] = dense<[[1, 2], [3]]>"), 2, 40, /f32\[2,2\] has 1 element along axis 1, but the type has 2/);
    parseError(fn("  const %c0: f32[2] = dense<5>"), 2, 29, /needs a list of 2 elements along axis 0, found '5'/);
    parseError(fn("  const %c0: f32[] = dense<[5]>"), 2, 28, /nests deeper than its 0 dimensions/);
    parseError(fn("  const %c0: i32[2] = dense<[1, 1.5]>"), 2, 33, /'1\.5' is not a valid i32 element/);
    parseError(fn("  const %c0: u8[1] = dense<[300]>"), 2, 29, /'300' is not a valid u8 element \(expected an integer in 0\.\.255\)/);
    parseError(fn("  const %c0: bool[1] = dense<[1]>"), 2, 31, /expected true or false/);
    parseError(fn("  const %c0: f32[1] = dense<[true]>"), 2, 30, /'true' is not a valid f32 element/);
    parseError(fn("  const %c0: f32[1] = dense<[1e39]>"), 2, 30, /out of range for f32/);
  });

  it("unknown blob, duplicate blob, wrong blob size", () => {
    parseError(fn('  const %c0: u8[4] = blob<"w">'), 2, 27, /refers to blob "w", which the blobs section does not define/);
    parseError(fn('  const %c0: u8[4] = blob<"w">', 'blobs {\n  "w": "AAAAAA==",\n  "w": "AAAAAA=="\n}\n'), 7, 3, /duplicate blob "w"/);
    parseError(fn('  const %c0: f32[2] = blob<"w">', 'blobs {\n  "w": "AAAAAA=="\n}\n'), 2, 28, /blob "w" holds 4 bytes, but f32\[2\] needs 8/);
    parseError(fn('  const %c0: bool[2] = blob<"w">', 'blobs {\n  "w": "AQI="\n}\n'), 2, 29, /holds 2 at element 1, but bool elements are 0 or 1/);
  });

  it("bad base64 points at the bad character", () => {
    parseError(fn('  const %c0: u8[4] = blob<"w">', 'blobs {\n  "w": "AAA*AA=="\n}\n'), 6, 12, /invalid character "\*" in the base64 data of blob "w"/);
    parseError(fn('  const %c0: u8[4] = blob<"w">', 'blobs {\n  "w": "AAAAAA="\n}\n'), 6, 16, /length 7 is not a multiple of 4/);
    parseError(fn('  const %c0: u8[4] = blob<"w">', 'blobs {\n  "w": "AA=AAA=="\n}\n'), 6, 11, /invalid character "="/);
  });

  it("unterminated string", () => {
    parseError(fn('  %0 = neg(%x) : f32[2] loc("a.ts:1:2)'), 2, 29, /unterminated string literal/);
    parseError(fn('  %0 = debugPrint(%x) {label = "a\\q"} : f32[2]'), 2, 32, /malformed string literal/);
  });

  it("unexpected characters and the end of the input", () => {
    parseError(fn("  %0 = neg(%x) ; f32[2]"), 2, 16, /unexpected character ";"/);
    parseError("func @f(%x: f32[2]) -> (f32[2]) {\n  %0 = neg(%x", 2, 14, /expected '\)' but found the end of the input/);
    parseError("", 1, 1, /expected 'func' but found the end of the input/);
    parseError(fn("", "junk"), 5, 1, /unexpected 'junk' after the end of the function/);
  });

  it("a syntax error before a bad character wins", () => {
    parseError(fn("  %0 = neg(%x : f32[2]\n  %1 = ; "), 2, 15, /expected '\)'/);
  });

  it("node result counts, declared result types, duplicate attributes, deep nesting", () => {
    parseError(fn("  %0, %1 = neg(%x) : f32[2]"), 2, 20, /neg names 2 results but declares 1 type/);
    parseError(fn("  sink(%x) : f32[2]"), 2, 12, /sink has no results, so it takes no ': types'/);
    parseError("func @f(%x: f32[2]) -> (i32[2]) {\n  return %x\n}\n", 1, 25, /result 0 is declared i32\[2\], but the returned value %x is f32\[2\]/);
    parseError("func @f(%x: f32[2]) -> () {\n  return %x\n}\n", 2, 3, /declares 0 result types but returns 1 value/);
    parseError(fn("  sink(%x) {a = 1, a = 2}"), 2, 20, /duplicate attribute 'a'/);
    const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    parseError(fn(`  sink(%x) {a = ${deep}}`), 2, 80, /nesting deeper than 64 levels/);
  });
});

// ---- mutations ----------------------------------------------------------------------------------

const SNIPPETS = ["%", "@", "{", "}", "[", "]", "(", ")", "<", ">", ":", ",", "=", "^", '"', "\n", "-", "0", "7", ".", "e", " ", "nan", "inf", "const", "return", "yield", "dense<", 'blob<"c1">', "f32[", "loc(", "%0", "%x", "1e999", "\\", "//"];

type Mutation =
  | { kind: "delete"; at: number; len: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "replace"; at: number; text: string }
  | { kind: "truncate"; at: number }
  | { kind: "dupLine" | "dropLine"; line: number }
  | { kind: "swapLines"; a: number; b: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.constantFrom(...SNIPPETS) }),
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ maxLength: 2 })) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom("dupLine" as const, "dropLine" as const), line: fc.nat() }),
  fc.record({ kind: fc.constant("swapLines" as const), a: fc.nat(), b: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  const at = "at" in m ? m.at % (text.length + 1) : 0;
  const lines = text.split("\n");
  switch (m.kind) {
    case "delete":
      return text.slice(0, at) + text.slice(at + m.len);
    case "insert":
      return text.slice(0, at) + m.text + text.slice(at);
    case "replace":
      return text.slice(0, at) + m.text + text.slice(at + 1);
    case "truncate":
      return text.slice(0, at);
    case "dupLine": {
      const i = m.line % lines.length;
      lines.splice(i, 0, lines[i]!);
      return lines.join("\n");
    }
    case "dropLine":
      lines.splice(m.line % lines.length, 1);
      return lines.join("\n");
    case "swapLines": {
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join("\n");
    }
  }
}

describe("malformed input never escapes as anything but IRParseError (fast-check)", () => {
  const printed = fc.oneof(
    randomGraph(fc).map((g) => print(g)),
    randomGraph(fc, { regions: true }).map((g) => print(g)),
    fc.constantFrom(...readdirSync(EXAMPLES).map((f) => readFileSync(EXAMPLES + f, "utf8"))),
  );

  it("parse, then verify, throw only IRParseError or IRVerifyError", () => {
    fc.assert(
      fc.property(printed, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (text, mutations) => {
        const bad = mutations.reduce(mutate, text);
        let g: Graph;
        try {
          g = parse(bad);
        } catch (err) {
          if (!(err instanceof IRParseError)) throw err;
          expect(err.line).toBeGreaterThanOrEqual(1);
          expect(err.col).toBeGreaterThanOrEqual(1);
          return;
        }
        try {
          verify(g);
        } catch (err) {
          if (!(err instanceof IRVerifyError)) throw err;
        }
      }),
      { numRuns: 400 },
    );
  });

  it("arbitrary strings throw only IRParseError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60, unit: "binary" }), (s) => {
        try {
          parse(s);
        } catch (err) {
          if (!(err instanceof IRParseError)) throw err;
        }
      }),
      { numRuns: 200 },
    );
    for (const weird of ["\u0000", "func @f() -> () { return }\u0000", "func @f() -> () {\r\n  return\r\n}", "func @f(%x: f32[99999999999999999999]) -> () { return }"]) {
      try {
        parse(weird);
      } catch (err) {
        expect(err).toBeInstanceOf(IRParseError);
      }
    }
  });
});
