/**
 * The linter's precision/recall check: lint every file under tests/lint/cases and compare the
 * diagnostics with the `// expect: STxxx` comments, per (file, line, code). The expectations were
 * written from the spec, independently of the implementation, so both numbers must be 100%.
 * How to add a case: tests/lint/README.md.
 */
import { isAbsolute, join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { lintFiles } from "../../src/lint/index.js";
import { DEFAULT_SEVERITY, type LintDiagnostic } from "../../src/lint/types.js";
import { CASES, corpusFiles, expectationsOf } from "./corpus.js";

const PROJECT = join(CASES, "tsconfig.json");
const CODES = new Set(Object.keys(DEFAULT_SEVERITY));

/** Diagnostics outside the corpus keep their absolute path: they are false positives all the same. */
function corpusPath(file: string): string {
  const rel = relative(CASES, file);
  return rel.startsWith("..") ? file : rel;
}

const key = (file: string, line: number, code: string): string => `${file}:${line}:${code}`;
const pct = (n: number, d: number): string => (d === 0 ? "100.0" : ((100 * n) / d).toFixed(1));

const files = corpusFiles(CASES);
const expected = files.flatMap(expectationsOf);
let diagnostics: LintDiagnostic[] = [];

beforeAll(() => {
  diagnostics = lintFiles([CASES], { project: PROJECT });
}, 120_000);

describe("lint corpus", () => {
  it("is large enough and covers every code", () => {
    expect(files.length).toBeGreaterThanOrEqual(80);
    for (const code of CODES) expect(expected.some((e) => e.code === code), `no positive case for ${code}`).toBe(true);
    const clean = files.filter((f) => expectationsOf(f).length === 0);
    expect(clean.length, "negative cases (files without expect comments)").toBeGreaterThanOrEqual(20);
  });

  it("finds exactly the expected diagnostics (precision and recall 100%)", () => {
    const want = new Map(expected.map((e) => [key(e.file, e.line, e.code), e]));
    const got = new Map<string, LintDiagnostic>();
    for (const d of diagnostics) got.set(key(corpusPath(d.file), d.line, d.code), d);

    const misses = [...want].filter(([k]) => !got.has(k)).map(([, e]) => `missed ${e.code} at ${e.file}:${e.line}   ${e.text}`);
    const falsePositives = [...got]
      .filter(([k]) => !want.has(k))
      .map(([, d]) => `false positive ${d.code} at ${corpusPath(d.file)}:${d.line}:${d.col}   ${d.message}`);
    const hits = want.size - misses.length;

    const perCode = [...CODES].map((code) => {
      const w = [...want.values()].filter((e) => e.code === code).length;
      const g = [...got.values()].filter((d) => d.code === code).length;
      const tp = [...want.values()].filter((e) => e.code === code && got.has(key(e.file, e.line, e.code))).length;
      return `  ${code}: expected ${w}, reported ${g}, precision ${pct(tp, g)}%, recall ${pct(tp, w)}%`;
    });
    console.log(
      [
        `lint corpus: ${files.length} files, ${want.size} expected diagnostics, ${got.size} reported`,
        `precision ${pct(hits, got.size)}% (${hits}/${got.size}), recall ${pct(hits, want.size)}% (${hits}/${want.size})`,
        ...perCode,
      ].join("\n"),
    );

    // Compared as lists so that a failure prints every miss and every false positive.
    expect({ misses, falsePositives }).toEqual({ misses: [], falsePositives: [] });
  });

  it("reports well-formed diagnostics", () => {
    for (const d of diagnostics) {
      const where = `${d.code} at ${corpusPath(d.file)}:${d.line}`;
      expect(isAbsolute(d.file), where).toBe(true);
      expect(d.severity, where).toBe(DEFAULT_SEVERITY[d.code]);
      expect(d.message.length, where).toBeGreaterThan(0);
      expect(d.message.includes("\n"), where).toBe(false);
      expect(d.help.length, where).toBeGreaterThan(0);
      expect(d.line >= 1 && d.col >= 1, where).toBe(true);
      expect(d.endLine > d.line || (d.endLine === d.line && d.endCol >= d.col), where).toBe(true);
    }
    const sorted = [...diagnostics].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col));
    expect(diagnostics.map((d) => key(d.file, d.line, d.code))).toEqual(sorted.map((d) => key(d.file, d.line, d.code)));
  });

  it("says how a callee is reached from the traced function", () => {
    const d = diagnostics.find((x) => corpusPath(x.file) === join("st001", "callgraph_cross_file", "metrics.ts") && x.code === "ST001");
    expect(d, "the ST001 in callgraph_cross_file/metrics.ts").toBeDefined();
    expect(d!.tracedVia?.length).toBe(3);
    expect(d!.tracedVia![0]).toMatch(/^trainStep \(.*train\.ts:5\)$/);
    expect(d!.tracedVia!.slice(1)).toEqual(["loss", "accuracy"]);
    expect(d!.message).toContain("reached from traced function `trainStep`");
    expect(d!.message).toContain("via `loss` -> `accuracy`");
  });

  it("applies per-code rule settings", () => {
    const file = join(CASES, "st006", "console_log_item.ts");
    const ds = lintFiles([file], { project: PROJECT, rules: { ST001: "off", ST006: "error" } }).filter((x) => x.file === file);
    expect(ds.map((x) => [x.code, x.severity, x.line])).toEqual([["ST006", "error", 6]]);
  }, 120_000);
});
