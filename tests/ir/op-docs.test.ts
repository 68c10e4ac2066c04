import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { listOps, type OpDef } from "../../src/ir/registry.js";
import { generateOpDocs, OP_DOCS_PATH } from "../../scripts/gen-op-docs.js";

/** The registry's own ops: other test files may define `test.*` ops in a shared worker. */
const realOps = (): OpDef[] => listOps().filter((o) => !o.name.startsWith("test."));

describe("docs/ops.md", () => {
  it("is up to date with the op registry (regenerate with `npm run docs:ops`)", () => {
    const committed = readFileSync(OP_DOCS_PATH, "utf8");
    expect(committed, "docs/ops.md is stale: run `npm run docs:ops`").toBe(generateOpDocs(realOps()));
  });

  it("has one row per registered op, under its kind, with every declared attribute", () => {
    const text = generateOpDocs(realOps());
    const rows = text.split("\n").filter((l) => l.startsWith("| `"));
    expect(rows).toHaveLength(realOps().length);
    const sections = text.split("\n## ").slice(1);
    for (const op of realOps()) {
      const section = sections.find((s) => s.startsWith(`${op.kind}\n`));
      expect(section, `section for kind ${op.kind}`).toBeDefined();
      const row = section!.split("\n").find((l) => l.startsWith(`| \`${op.name}\` |`));
      expect(row, `row for ${op.name}`).toBeDefined();
      for (const name of Object.keys(op.attributes)) expect(row, `${op.name}.${name}`).toContain(`\`${name}\`: `);
      if (Object.keys(op.attributes).length === 0) expect(row).toContain("| none |");
      expect(row!.trimEnd().endsWith(op.effect ? "| effect |" : "|  |"), `${op.name} effect marker`).toBe(true);
    }
  });

  it("escapes table specials and marks optional attributes", () => {
    const text = generateOpDocs(realOps());
    const row = (name: string): string => text.split("\n").find((l) => l.startsWith(`| \`${name}\` |`))!;
    // Every row has exactly five cells: pipes inside docs and types are escaped.
    for (const l of text.split("\n").filter((x) => x.startsWith("| `"))) expect(l.split(/(?<!\\)\|/).length, l).toBe(7);
    expect(row("cumsum")).toContain("`exclusive`: `bool` (optional)");
    expect(row("argmax")).toContain("`axis`: `int \\| null` —");
    expect(row("conv2d")).toContain('`padding`: `"valid" \\| "same" \\| int[][]`');
    expect(row("debugPrint")).toContain("| effect |");
    expect(row("concat")).toContain("| 1 or more |");
  });

  it("orders sections by kind and rows by name, so regeneration is stable", () => {
    const text = generateOpDocs(realOps());
    expect(generateOpDocs([...realOps()].reverse())).toBe(text);
    const kinds = [...text.matchAll(/^## (\w+)$/gm)].map((m) => m[1]);
    expect(kinds.slice(0, 3)).toEqual(["elementwise", "reduction", "scan"]);
  });
});
