/**
 * The ESLint plugin (`symtensor/eslint`) over the lint corpus (tests/lint/cases): the ESLint class
 * lints every corpus file with all seven rules and typescript-eslint's project service, and the
 * reported (file, line, code) set must equal the `// expect:` comments, exactly as corpus.test.ts
 * checks the core. RuleTester then runs each rule on the cases of its own folder.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ESLint, type Linter, RuleTester } from "eslint";
import tseslint from "typescript-eslint";
import { beforeAll, describe, expect, it } from "vitest";
import plugin, { RULE_NAMES } from "../../src/lint/eslint-plugin.js";
import { DEFAULT_SEVERITY, type LintCode } from "../../src/lint/types.js";
import { CASES, corpusFiles, expectationsOf } from "./corpus.js";

const CODES = Object.keys(RULE_NAMES) as LintCode[];
const CODE_OF_RULE = new Map<string, LintCode>(CODES.map((c) => [`symtensor/${RULE_NAMES[c]}`, c]));

const files = corpusFiles(CASES);
const typed: Linter.LanguageOptions = {
  parser: tseslint.parser,
  parserOptions: { projectService: true, tsconfigRootDir: CASES },
};

describe("the plugin's shape", () => {
  it("one rule per code, a recommended config at the default severities", () => {
    expect(Object.keys(plugin.rules ?? {}).sort()).toEqual(Object.values(RULE_NAMES).sort());
    const rec = plugin.configs.recommended;
    expect(rec.plugins?.["symtensor"]).toBe(plugin);
    for (const c of CODES) {
      expect(rec.rules?.[`symtensor/${RULE_NAMES[c]}`]).toBe(DEFAULT_SEVERITY[c] === "error" ? "error" : "warn");
    }
    expect(plugin.meta?.name).toBe("symtensor");
  });
});

describe("ESLint over the corpus", () => {
  let byFile: Map<string, string[]>;
  beforeAll(async () => {
    const eslint = new ESLint({
      cwd: CASES,
      overrideConfigFile: true,
      overrideConfig: [{ languageOptions: typed }, plugin.configs.recommended],
    });
    const results = await eslint.lintFiles(["**/*.ts"]);
    byFile = new Map();
    for (const r of results) {
      const got: string[] = [];
      for (const m of r.messages) {
        // A fatal message (a parse error, or the plugin's own error) has no ruleId: report it as is.
        got.push(m.ruleId === null ? `FATAL ${m.message}` : `${m.line}:${CODE_OF_RULE.get(m.ruleId) ?? m.ruleId}`);
      }
      byFile.set(relative(CASES, r.filePath), got.sort());
    }
  }, 120_000);

  it("lints every corpus file", () => {
    expect([...byFile.keys()].sort()).toEqual(files.map((f) => relative(CASES, f)).sort());
  });

  it("reports exactly the expected (line, code) pairs in every file", () => {
    const wrong: string[] = [];
    let total = 0;
    for (const f of files) {
      const name = relative(CASES, f);
      const want = expectationsOf(f).map((e) => `${e.line}:${e.code}`).sort();
      total += want.length;
      const got = byFile.get(name) ?? [];
      if (JSON.stringify(want) !== JSON.stringify(got)) wrong.push(`${name}: expected [${want.join(" ")}], got [${got.join(" ")}]`);
    }
    expect(wrong).toEqual([]);
    expect(total).toBeGreaterThan(50);
  });

  it("messages carry the core's message and help", async () => {
    const eslint = new ESLint({ cwd: CASES, overrideConfigFile: true, overrideConfig: [{ languageOptions: typed }, plugin.configs.recommended] });
    const [r] = await eslint.lintFiles(["st001/numpy_inline_arrow.ts"]);
    const m = r!.messages[0]!;
    expect(m.ruleId).toBe("symtensor/no-host-conversion-in-trace");
    expect(m.severity).toBe(2);
    expect(m.message).toMatch(/^`\.numpy\(\)` of a symbolic tensor .*Convert the traced function's result instead/);
  });
});

describe("without type information", () => {
  it("stops with an error that says how to enable it", async () => {
    const eslint = new ESLint({
      cwd: CASES,
      overrideConfigFile: true,
      overrideConfig: [{ languageOptions: { parser: tseslint.parser } }, plugin.configs.recommended],
    });
    await expect(eslint.lintText("export const x = 1;\n", { filePath: join(CASES, "virtual.ts") })).rejects.toThrow(/needs type information.*projectService/s);
  });
});

// RuleTester: each rule against the corpus files of its folder (valid: no diagnostic of that code).
describe("RuleTester", () => {
  RuleTester.describe = describe;
  RuleTester.it = it;
  RuleTester.itOnly = it.only;

  const tester = new RuleTester({ languageOptions: typed });
  for (const code of CODES) {
    const folder = join(CASES, code.toLowerCase());
    const mine = files.filter((f) => f.startsWith(folder + "/"));
    const valid: RuleTester.ValidTestCase[] = [];
    const invalid: RuleTester.InvalidTestCase[] = [];
    for (const f of mine) {
      const errors = expectationsOf(f).filter((e) => e.code === code);
      const base = { name: relative(CASES, f), filename: f, code: readFileSync(f, "utf8") };
      if (errors.length === 0) valid.push(base);
      else invalid.push({ ...base, errors: errors.map((e) => ({ messageId: "diagnostic", line: e.line })) });
    }
    tester.run(RULE_NAMES[code], plugin.rules![RULE_NAMES[code]]!, { valid, invalid });
  }
});
