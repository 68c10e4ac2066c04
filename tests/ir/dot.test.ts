import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dotQuote, toDot } from "../../src/ir/dot.js";
import type { Graph } from "../../src/ir/graph.js";
import { parse } from "../../src/ir/parse.js";
import { randomGraph } from "../helpers/random-graph.js";

const EXAMPLES = fileURLToPath(new URL("./examples/", import.meta.url));
const example = (name: string): Graph => parse(readFileSync(`${EXAMPLES}${name}.stir`, "utf8"));

// ---- a small checker for the DOT subset toDot writes ---------------------------------------------

type Tok = { kind: "id" | "str" | "punct"; text: string };

/** Splits DOT text into tokens; throws on an unterminated string or a character DOT does not allow bare. */
function lexDot(dot: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < dot.length) {
    const c = dot[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      while (j < dot.length && dot[j] !== '"') {
        if (dot[j] === "\\") {
          text += dot.slice(j, j + 2);
          j += 2;
        } else {
          if (dot[j] === "\n") throw new Error(`raw newline inside a quoted string at ${j}`);
          text += dot[j];
          j++;
        }
      }
      if (j >= dot.length) throw new Error(`unterminated string at ${i}`);
      toks.push({ kind: "str", text });
      i = j + 1;
    } else if (dot.startsWith("->", i)) {
      toks.push({ kind: "punct", text: "->" });
      i += 2;
    } else if ("{}[];,=".includes(c)) {
      toks.push({ kind: "punct", text: c });
      i++;
    } else {
      const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))/.exec(dot.slice(i));
      if (!m) throw new Error(`unexpected character ${JSON.stringify(c)} at ${i}`);
      toks.push({ kind: "id", text: m[0] });
      i += m[0].length;
    }
  }
  return toks;
}

interface DotShape {
  name: string;
  declared: Set<string>;
  edges: { from: string; to: string; label?: string }[];
  labels: Map<string, string>;
  clusters: string[];
  /** Edge statements inside a subgraph (which would pull their endpoints into the cluster). */
  edgesInClusters: number;
}

/** Parses the DOT subset (graph/node/edge statements, attribute lists, subgraphs) and checks it. */
function checkDot(dot: string): DotShape {
  const toks = lexDot(dot);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const next = (): Tok => {
    const t = toks[p++];
    if (!t) throw new Error("unexpected end of DOT");
    return t;
  };
  const expectPunct = (s: string): void => {
    const t = next();
    if (t.kind !== "punct" || t.text !== s) throw new Error(`expected ${s}, got ${t.text}`);
  };
  const isId = (t: Tok | undefined): boolean => t !== undefined && (t.kind === "id" || t.kind === "str");
  const unescape = (s: string): string => s.replace(/\\(.)/g, (_, ch: string) => (ch === "n" ? "\n" : ch));
  const shape: DotShape = { name: "", declared: new Set(), edges: [], labels: new Map(), clusters: [], edgesInClusters: 0 };
  let depth = 0;

  const attrList = (): Map<string, string> => {
    const attrs = new Map<string, string>();
    expectPunct("[");
    while (!(peek()?.kind === "punct" && peek()!.text === "]")) {
      const k = next();
      if (!isId(k)) throw new Error(`bad attribute name ${k.text}`);
      expectPunct("=");
      const v = next();
      if (!isId(v)) throw new Error(`bad attribute value ${v.text}`);
      attrs.set(k.text, v.kind === "str" ? unescape(v.text) : v.text);
      if (peek()?.kind === "punct" && (peek()!.text === "," || peek()!.text === ";")) p++;
    }
    expectPunct("]");
    return attrs;
  };

  const stmts = (): void => {
    expectPunct("{");
    depth++;
    for (;;) {
      const t = peek();
      if (!t) throw new Error("unbalanced braces: missing }");
      if (t.kind === "punct" && t.text === "}") break;
      if (t.kind === "punct" && t.text === ";") {
        p++;
        continue;
      }
      if (t.kind === "id" && t.text === "subgraph") {
        p++;
        const name = next();
        if (!isId(name)) throw new Error("subgraph needs a name");
        shape.clusters.push(name.text);
        stmts();
        continue;
      }
      if (t.kind === "id" && ["node", "edge", "graph"].includes(t.text) && toks[p + 1]?.text === "[") {
        p++;
        attrList();
        continue;
      }
      const first = next();
      if (!isId(first)) throw new Error(`unexpected ${first.text}`);
      if (peek()?.text === "=") {
        p++;
        if (!isId(next())) throw new Error("bad graph attribute");
        continue;
      }
      const chain = [first.text];
      while (peek()?.kind === "punct" && peek()!.text === "->") {
        p++;
        const to = next();
        if (!isId(to)) throw new Error("bad edge target");
        chain.push(to.text);
      }
      const attrs = peek()?.text === "[" ? attrList() : new Map<string, string>();
      if (chain.length === 1) {
        shape.declared.add(first.text);
        if (attrs.has("label")) shape.labels.set(first.text, attrs.get("label")!);
      } else {
        if (depth > 1) shape.edgesInClusters++;
        for (let k = 0; k + 1 < chain.length; k++) {
          const label = attrs.get("label");
          shape.edges.push({ from: chain[k]!, to: chain[k + 1]!, ...(label !== undefined ? { label } : {}) });
        }
      }
    }
    expectPunct("}");
    depth--;
  };

  const head = next();
  if (head.text !== "digraph") throw new Error("expected digraph");
  const name = next();
  if (name.kind !== "str") throw new Error("graph name must be quoted");
  shape.name = unescape(name.text);
  stmts();
  if (p !== toks.length) throw new Error("text after the closing brace");
  for (const e of shape.edges) {
    if (!shape.declared.has(e.from)) throw new Error(`edge from undeclared ${e.from}`);
    if (!shape.declared.has(e.to)) throw new Error(`edge to undeclared ${e.to}`);
  }
  for (const c of shape.clusters) if (!c.startsWith("cluster_")) throw new Error(`subgraph ${c} is not a cluster`);
  return shape;
}

// ---- tests ----------------------------------------------------------------------------------------

describe("toDot", () => {
  it("writes a well-formed digraph with params, constants, nodes and the return", () => {
    const dot = toDot(example("mlp"));
    const s = checkDot(dot);
    expect(s.name).toBe("predict");
    const labels = [...s.labels.values()];
    expect(labels).toContain("%arg1.w1: f32[3,5]");
    expect(labels).toContain("const %c0: f32[]\n0.5");
    expect(labels).toContain("argmax\n{axis = 1, keepDims = false}\n%5: i32[4]");
    // matmul(%arg0, %arg1.w1): two operands, so positions are labelled
    const n0 = [...s.labels.entries()].find(([, l]) => l.startsWith("matmul") && l.includes("%0:"))![0];
    const into = s.edges.filter((e) => e.to === n0);
    expect(into.map((e) => e.label)).toEqual(["0", "1"]);
    // relu has one operand: no label
    const relu = [...s.labels.entries()].find(([, l]) => l.startsWith("relu"))![0];
    expect(s.edges.filter((e) => e.to === relu).map((e) => e.label)).toEqual([undefined]);
    expect(s.edges.filter((e) => e.to === "ret")).toHaveLength(2);
  });

  it("draws regions as clusters and labels edges from multi-result nodes with the result name", () => {
    const s = checkDot(toDot(example("fused")));
    expect(s.clusters).toEqual(["cluster_n0_r0", "cluster_n1_r0", "cluster_n1_r1"]);
    expect(s.edgesInClusters).toBe(0);
    const sink = [...s.labels.entries()].find(([, l]) => l.startsWith("sink"))![0];
    expect(s.edges.filter((e) => e.to === sink).map((e) => e.label)).toEqual(["%2"]);
    // the region of the loop reads the graph constant %c0 (regions see the graph's constants)
    expect(s.edges).toContainEqual({ from: "c0", to: "n1_r0_n0", label: "1" });
  });

  it("quotes names with dots, % and quotes, and escapes backslashes and newlines", () => {
    const g: Graph = {
      name: 'my "fn"\\1',
      params: [{ name: "%arg0.layers.0.b", type: { dtype: "float32", shape: [2] } }],
      constants: [],
      nodes: [{ op: "debugPrint", operands: ["%arg0.layers.0.b"], results: [{ name: "%0", type: { dtype: "float32", shape: [2] } }], attrs: { label: 'say "hi"\n' } }],
      results: ["%0"],
    };
    const dot = toDot(g);
    expect(dot.startsWith('digraph "my \\"fn\\"\\\\1" {')).toBe(true);
    const s = checkDot(dot);
    expect(s.name).toBe('my "fn"\\1');
    expect([...s.labels.values()]).toContain("%arg0.layers.0.b: f32[2]");
    expect([...s.labels.values()]).toContain('debugPrint\n{label = "say \\"hi\\"\\n"}\n%0: f32[2]');
    expect(dotQuote("a\nb")).toBe('"a\\nb"');
  });

  it("elides constant values on request and never prints large ones", () => {
    const g = example("constants");
    const full = checkDot(toDot(g));
    expect([...full.labels.values()]).toContain("const %c0: f64[2,2]\n[[1, -0], [nan, -inf]]");
    expect([...full.labels.values()]).toContain("const %c5: f32[5,4]");
    const elided = checkDot(toDot(g, { elideConstants: true }));
    expect([...elided.labels.values()]).toContain("const %c0: f64[2,2]");
  });

  it("declares a placeholder for an undefined operand, so every edge has both ends", () => {
    const g: Graph = {
      name: "broken",
      params: [],
      constants: [],
      nodes: [{ op: "neg", operands: ["%nowhere"], results: [{ name: "%0", type: { dtype: "float32", shape: [] } }], attrs: {} }],
      results: ["%0", "%missing"],
    };
    const s = checkDot(toDot(g));
    expect([...s.labels.values()]).toEqual(expect.arrayContaining(["undefined %nowhere", "undefined %missing"]));
  });

  it("is well-formed for random graphs, with and without regions (fast-check)", () => {
    fc.assert(
      fc.property(fc.oneof(randomGraph(fc), randomGraph(fc, { regions: true })), (g) => {
        const s = checkDot(toDot(g));
        const count = (nodes: Graph["nodes"]): number => nodes.reduce((k, n) => k + 1 + (n.regions ?? []).reduce((a, r) => a + r.params.length + 1 + count(r.nodes), 0), 0);
        // every param, constant, node, region param, yield and the return is declared once
        expect(s.declared.size).toBe(g.params.length + g.constants.length + count(g.nodes) + 1);
      }),
      { numRuns: 150 },
    );
  });
});
