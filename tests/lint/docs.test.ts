/**
 * The documentation's TypeScript examples, linted: every "// wrong" section of a code block must
 * get at least one diagnostic, every "// right" section and every unmarked block none. Each block
 * section is wrapped in its own scope, with symtensor's exports imported and the free variables
 * the prose uses declared, so the examples are checked as the complete programs they stand for.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { lintFiles } from "../../src/lint/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** Values the examples use without defining them (they stand for the reader's own data and model). */
const FREE: Record<string, string> = {
  ...Object.fromEntries(["x", "y", "t", "u", "w", "b", "batch", "otherBatch", "weights", "mask", "xb"].map((v) => [v, "T_"])),
  batches: "T_[]",
  schedule: "number[]",
  params: "Record<string, T_>",
  model: "(x: T_) => T_",
  step: "(...args: unknown[]) => T_",
};

interface Section {
  readonly doc: string;
  readonly line: number;
  readonly kind: "wrong" | "right" | "plain";
  readonly code: string;
  /** Which code block of all docs it belongs to, and its lines within the block (0-based, end exclusive). */
  readonly block: number;
  readonly from: number;
  readonly to: number;
}

interface Block {
  readonly code: string;
}

/**
 * A marker is a comment starting with "wrong" or "right", on a line of its own (it marks the
 * lines below it) or at the end of a code line (it marks that line and the unmarked ones after it).
 * Lines before any marker are "plain". Every run of lines under one marker is a section.
 */
function sections(): { sections: Section[]; blocks: Block[] } {
  const out: Section[] = [];
  const blocks: Block[] = [];
  for (const doc of DOCS) {
    const text = readFileSync(join(ROOT, doc), "utf8");
    for (const m of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      const start = text.slice(0, m.index).split("\n").length + 1;
      const block = blocks.length;
      const lines = m[1]!.split("\n");
      blocks.push({ code: lines.join("\n") });
      let cur: { kind: Section["kind"]; from: number; lines: string[] } = { kind: "plain", from: 0, lines: [] };
      const flush = (to: number) => {
        if (cur.lines.some((l) => l.trim() && !l.trim().startsWith("//"))) {
          out.push({ doc, line: start + cur.from, kind: cur.kind, code: cur.lines.join("\n"), block, from: cur.from, to });
        }
      };
      lines.forEach((l, i) => {
        const own = /^\s*\/\/\s*(wrong|right)\b/i.exec(l)?.[1]?.toLowerCase() as Section["kind"] | undefined;
        const trailing = /\S.*\/\/\s*(wrong|right)\b/i.exec(l)?.[1]?.toLowerCase() as Section["kind"] | undefined;
        const marker = own ?? trailing;
        if (marker) {
          flush(i);
          cur = { kind: marker, from: own ? i + 1 : i, lines: own ? [] : [l] };
        } else cur.lines.push(l);
      });
      flush(lines.length);
    }
  }
  return { sections: out, blocks };
}

describe("documentation examples", () => {
  const { sections: all, blocks } = sections();
  it("has wrong and right examples to check", () => {
    expect(all.filter((s) => s.kind === "wrong").length).toBeGreaterThan(10);
  });
  it("wrong sections get diagnostics; right and unmarked ones are clean", () => {
    const dir = mkdtempSync(join(tmpdir(), "symtensor-doc-examples-"));
    const names = Object.keys(st).filter((k) => /^[A-Za-z]/.test(k) && k !== "default");
    const header = [
      `import { ${names.join(", ")} } from "symtensor";`,
      `import type { Tensor as T_ } from "symtensor";`,
      ...Object.entries(FREE).map(([v, type]) => `declare const ${v}: ${type};`),
      "{",
    ];
    // One file per block, so later lines see earlier declarations; imports inside an example are
    // blanked (the header imports everything) so line numbers stay put.
    const files = blocks.map((b, i) => {
      const path = join(dir, `block_${i}.ts`);
      const body = b.code.split("\n").map((l) => (/^\s*import\s/.test(l) ? "" : l));
      writeFileSync(path, `${[...header, ...body, "}", "export {};"].join("\n")}\n`);
      return path;
    });
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "ESNext", moduleResolution: "Bundler", strict: false, noEmit: true, skipLibCheck: true, types: [], lib: ["ES2023", "DOM", "ESNext.Disposable"], paths: { symtensor: [join(ROOT, "src/index.ts")] } },
      include: ["*.ts"],
    }));
    const diags = lintFiles(files, { project: join(dir, "tsconfig.json") });
    const problems: string[] = [];
    for (const s of all) {
      const found = diags
        .filter((d) => d.file === files[s.block])
        .filter((d) => d.line - header.length - 1 >= s.from && d.line - header.length - 1 < s.to)
        .map((d) => `${d.code} ${d.message}`);
      if (s.kind === "wrong" && found.length === 0) problems.push(`${s.doc}:${s.line}: a "wrong" example gets no diagnostic:\n${s.code}`);
      if (s.kind !== "wrong" && found.length > 0) problems.push(`${s.doc}:${s.line}: a ${s.kind} example is flagged: ${found.join("; ")}\n${s.code}`);
    }
    expect(problems, problems.join("\n\n")).toEqual([]);
  });
});
