/**
 * The lint corpus (tests/lint/cases): its files and the diagnostics each expects, written as
 * `// expect: ST001` (or `// expect: ST001, ST006`) at the end of the line they belong to. Shared
 * by the core's test (corpus.test.ts) and the ESLint plugin's (eslint.test.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { DEFAULT_SEVERITY, type LintCode } from "../../src/lint/types.js";

export const CASES = join(import.meta.dirname, "cases");
const CODES = new Set(Object.keys(DEFAULT_SEVERITY));
const EXPECT = /\/\/\s*expect:\s*([A-Z0-9,\s]+?)\s*$/;

export interface Expectation {
  readonly file: string;
  readonly line: number;
  readonly code: LintCode;
  readonly text: string;
}

export function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...corpusFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

export function expectationsOf(file: string): Expectation[] {
  const out: Expectation[] = [];
  readFileSync(file, "utf8")
    .split(/\r?\n/)
    .forEach((text, i) => {
      const m = EXPECT.exec(text);
      if (m === null) return;
      for (const code of m[1]!.split(",").map((c) => c.trim())) {
        // A typo in the corpus must fail loudly, not silently lower the expectation count.
        if (!CODES.has(code)) throw new Error(`${relative(CASES, file)}:${i + 1}: unknown code ${JSON.stringify(code)} in an expect comment`);
        out.push({ file: relative(CASES, file), line: i + 1, code: code as LintCode, text: text.trim() });
      }
    });
  return out;
}

