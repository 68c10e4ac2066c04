/**
 * Graphviz DOT of a graph, for looking at it (`dot -Tsvg`). Parameters are boxes, constants notes,
 * nodes ellipses labelled with op, short attributes and result types; edges run from a value's
 * definition to its users and carry the operand position when the user has several operands (and
 * the result name when the producer has several results). A node's regions are
 * `subgraph cluster_*` blocks holding the region's parameters, nodes and yield.
 *
 * DOT ids are generated (`p0`, `c0`, `n3`, `n3_r0_n1`, ...), so value names with dots, `%` or
 * quotes only ever appear inside quoted labels. An operand with no definition (a malformed graph)
 * gets a dashed placeholder, so every edge endpoint is declared.
 */
import type { Graph, Node, Region, Value } from "./graph.js";
import { formatAttrs, formatDense, INLINE_CONSTANT_LIMIT } from "./print.js";
import { formatType } from "./types.js";

export interface DotOptions {
  /** Leave out the values of small constants (large constants are always shown by type only). */
  readonly elideConstants?: boolean;
}

/** Attribute text longer than this is cut, to keep node labels readable. */
const MAX_ATTR_TEXT = 48;

/** A double-quoted DOT string: backslashes and quotes escaped, newlines as `\n`. */
export function dotQuote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n|\r/g, "\\n")}"`;
}

/** Where each visible value is defined: the DOT id and, for multi-result nodes, the result name. */
interface Def {
  readonly id: string;
  readonly port?: string;
}

class Scope {
  private readonly defs = new Map<string, Def>();
  constructor(private readonly parent?: Scope) {}
  define(name: string, def: Def): void {
    this.defs.set(name, def);
  }
  lookup(name: string): Def | undefined {
    return this.defs.get(name) ?? this.parent?.lookup(name);
  }
}

class DotWriter {
  private readonly lines: string[] = [];
  /**
   * Edges are written after every declaration, at the top level: an edge statement inside a
   * subgraph would pull its endpoints (a graph constant, say) into that cluster.
   */
  private readonly edges: string[] = [];
  private undefinedCount = 0;

  constructor(private readonly options: DotOptions) {}

  run(g: Graph): string {
    this.lines.push(`digraph ${dotQuote(g.name)} {`);
    this.lines.push('  node [fontname="monospace", fontsize=10];');
    this.lines.push('  edge [fontname="monospace", fontsize=9];');
    const scope = new Scope();
    g.params.forEach((p, i) => this.decl(scope, p, `p${i}`, "box", `${p.name}: ${formatType(p.type)}`, "  "));
    g.constants.forEach((c, i) => {
      const size = c.type.shape.reduce((a, b) => a * b, 1);
      const small = size <= INLINE_CONSTANT_LIMIT && !this.options.elideConstants;
      const value = small ? `\n${formatDense(c.data, c.type)}` : "";
      this.decl(scope, c, `c${i}`, "note", `const ${c.name}: ${formatType(c.type)}${value}`, "  ");
    });
    this.nodes(g.nodes, scope, "n", "  ");
    this.lines.push(`  ret [shape=doublecircle, label="return"];`);
    this.uses(g.results, scope, "ret", "  ");
    for (const e of this.edges) this.lines.push(`  ${e}`);
    this.lines.push("}");
    return `${this.lines.join("\n")}\n`;
  }

  private decl(scope: Scope, v: Value, id: string, shape: string, label: string, indent: string): void {
    this.lines.push(`${indent}${id} [shape=${shape}, label=${dotQuote(label)}];`);
    scope.define(v.name, { id });
  }

  private nodes(nodes: readonly Node[], scope: Scope, prefix: string, indent: string): void {
    nodes.forEach((n, i) => {
      const id = `${prefix}${i}`;
      let attrs = formatAttrs(n.attrs).trim();
      if (attrs.length > MAX_ATTR_TEXT) attrs = `${attrs.slice(0, MAX_ATTR_TEXT - 4)} ...}`;
      const types = n.results.map((r) => `${r.name}: ${formatType(r.type)}`).join("\n");
      const label = [n.op, attrs, types].filter((s) => s.length > 0).join("\n");
      this.lines.push(`${indent}${id} [label=${dotQuote(label)}];`);
      this.uses(n.operands, scope, id, indent);
      (n.regions ?? []).forEach((r, k) => this.region(r, n, `${id}_r${k}`, scope, indent));
      // Results become visible after the node's own operands and regions are resolved.
      for (const r of n.results) scope.define(r.name, n.results.length > 1 ? { id, port: r.name } : { id });
    });
  }

  private region(r: Region, owner: Node, id: string, parent: Scope, indent: string): void {
    const inner = `${indent}  `;
    this.lines.push(`${indent}subgraph cluster_${id} {`);
    this.lines.push(`${inner}label=${dotQuote(`${owner.op} region ${id.slice(id.lastIndexOf("_r") + 2)}`)};`);
    this.lines.push(`${inner}style=rounded;`);
    const scope = new Scope(parent);
    r.params.forEach((p, i) => this.decl(scope, p, `${id}_p${i}`, "box", `${p.name}: ${formatType(p.type)}`, inner));
    this.nodes(r.nodes, scope, `${id}_n`, inner);
    this.lines.push(`${inner}${id}_yield [shape=box, style=dashed, label="yield"];`);
    this.uses(r.results, scope, `${id}_yield`, inner);
    this.lines.push(`${indent}}`);
  }

  /** Edges from each used value's definition to `target`, labelled where positions matter. */
  private uses(names: readonly string[], scope: Scope, target: string, indent: string): void {
    names.forEach((name, i) => {
      let def = scope.lookup(name);
      if (!def) {
        const id = `undefined${this.undefinedCount++}`;
        this.lines.push(`${indent}${id} [shape=box, style=dashed, color=red, label=${dotQuote(`undefined ${name}`)}];`);
        def = { id };
      }
      const parts: string[] = [];
      if (def.port !== undefined) parts.push(def.port);
      if (names.length > 1) parts.push(String(i));
      const label = parts.length ? ` [label=${dotQuote(parts.join(": "))}]` : "";
      this.edges.push(`${def.id} -> ${target}${label};`);
    });
  }
}

/** Graphviz DOT text of a graph. */
export function toDot(graph: Graph, options: DotOptions = {}): string {
  return new DotWriter(options).run(graph);
}
