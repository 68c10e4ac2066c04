/**
 * The FileCheck harness (tests/helpers/filecheck.ts): its matching rules, that a check which must
 * fail does fail with a useful message, and then every .stir pass test in this directory.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePattern, fileCheck, FileCheckError, parseCheckDirectives, parseRunLines, runFileCheckTest, runPipelineOnText, splitInput } from "../helpers/filecheck.js";

const OUTPUT = [
  "func @f(%x: f32[3]) -> (f32[3]) {",
  "  const %c0: f32[] = dense<2>",
  "  %0 = mul(%x, %c0) : f32[3]",
  "  %1 = neg(%0) : f32[3]",
  "",
  "  return %1",
  "}",
  "func @g(%y: i32[]) -> (i32[]) {",
  "  %0 = abs(%y) : i32[]",
  "  return %0",
  "}",
  "",
].join("\n");

/** The FileCheckError that fileCheck throws for these checks (fails the test if it passes). */
function failure(checks: string, output = OUTPUT): FileCheckError {
  try {
    fileCheck(output, checks, { file: "t.stir" });
  } catch (err) {
    expect(err).toBeInstanceOf(FileCheckError);
    return err as FileCheckError;
  }
  throw new Error(`the checks passed but should have failed:\n${checks}`);
}

const pass = (checks: string, output = OUTPUT): void => fileCheck(output, checks, { file: "t.stir" });

describe("FileCheck directives", () => {
  it("parses directives with their lines and rejects misspelled ones", () => {
    const ds = parseCheckDirectives("// RUN: x\n// CHECK: a b  \n  //CHECK-NEXT:c\n// CHECK-NOT: d\n// other: e\n");
    expect(ds).toEqual([
      { kind: "CHECK", pattern: "a b", line: 2 },
      { kind: "CHECK-NEXT", pattern: "c", line: 3 },
      { kind: "CHECK-NOT", pattern: "d", line: 4 },
    ]);
    expect(() => parseCheckDirectives("// CHECK-NXT: a", "CHECK", "f.stir")).toThrow(/f\.stir:1: unknown directive CHECK-NXT/);
    expect(() => parseCheckDirectives("// CHECK:   ")).toThrow(/empty pattern/);
    expect(parseCheckDirectives("// FOO: a\n// CHECK: b", "FOO")).toEqual([{ kind: "CHECK", pattern: "a", line: 1 }]);
  });

  it("fails when there are no directives", () => {
    expect(() => fileCheck(OUTPUT, "// nothing here", { file: "t.stir" })).toThrow(/no CHECK: directives/);
  });

  it("CHECK matches in order", () => {
    pass("// CHECK: mul\n// CHECK: neg\n// CHECK: return %1");
    const e = failure("// CHECK: neg\n// CHECK: mul");
    expect(e.message).toContain("t.stir:2: CHECK: mul");
    expect(e.message).toContain("expected pattern not found from output line 4");
    // The output is listed with line numbers.
    expect(e.message).toContain(">  4 |   %1 = neg(%0) : f32[3]"); // the previous match is marked
  });

  it("CHECK may match later on the same line as the previous match", () => {
    pass("// CHECK: mul(\n// CHECK: %c0)");
    failure("// CHECK: %c0)\n// CHECK: mul(");
  });

  it("CHECK-NEXT must be on the next line", () => {
    pass("// CHECK: mul\n// CHECK-NEXT: neg\n// CHECK-NEXT: {{^$}}\n// CHECK-NEXT: return");
    const e = failure("// CHECK: const\n// CHECK-NEXT: neg");
    expect(e.message).toContain("found on output line 4, not on the line after the previous match (line 2)");
    expect(failure("// CHECK-NEXT: func").message).toContain("cannot be the first directive");
  });

  it("CHECK-SAME stays on the line; CHECK-EMPTY wants an empty line", () => {
    pass("// CHECK: %0 = mul\n// CHECK-SAME: : f32[3]");
    failure("// CHECK: %0 = mul\n// CHECK-SAME: neg");
    pass("// CHECK: neg\n// CHECK-EMPTY:\n// CHECK-NEXT: return");
    expect(failure("// CHECK: mul\n// CHECK-EMPTY:").message).toContain("expected an empty line after output line 3");
  });

  it("CHECK-NOT holds between the surrounding matches", () => {
    pass("// CHECK: mul\n// CHECK-NOT: mul\n// CHECK: return");
    pass("// CHECK: neg\n// CHECK-NOT: mul");
    const e = failure("// CHECK: const\n// CHECK-NOT: neg\n// CHECK: return");
    expect(e.message).toContain("t.stir:2: CHECK-NOT: neg");
    expect(e.message).toContain("excluded pattern found on output line 4:   %1 = neg(%0) : f32[3]");
    expect(e.message).toContain(">  4 |   %1 = neg");
    // After the last positive match, up to the end of the output (or of the block).
    failure("// CHECK: func @f\n// CHECK-NOT: abs");
    // A NOT before the first CHECK covers the start.
    failure("// CHECK-NOT: const\n// CHECK: neg");
  });

  it("CHECK-LABEL splits the output into blocks that checks cannot cross", () => {
    pass("// CHECK-LABEL: func @f\n// CHECK: neg\n// CHECK-LABEL: func @g\n// CHECK: abs");
    // abs is only in @g's block.
    const e = failure("// CHECK-LABEL: func @f\n// CHECK: abs\n// CHECK-LABEL: func @g");
    expect(e.message).toContain("CHECK: abs");
    // A NOT in @f's block does not see @g.
    pass("// CHECK-LABEL: func @f\n// CHECK-NOT: abs\n// CHECK-LABEL: func @g");
    expect(failure("// CHECK-LABEL: func @h").message).toContain("label not found");
    // CHECK-NEXT right after a label looks at the line after it.
    pass("// CHECK-LABEL: func @g\n// CHECK-NEXT: abs");
  });

  it("patterns: literal text, whitespace runs, {{regex}}", () => {
    pass("// CHECK: %0 = mul(%x, %c0) : f32[3]"); // parentheses and brackets are literal
    pass("// CHECK: %0   =    mul"); // any run of spaces matches any run
    pass("// CHECK: %{{[0-9]+}} = neg(%{{.*}})");
    failure("// CHECK: mul(%x, %c1)");
    failure("// CHECK: %{{[a-z]+}} = neg");
    pass("// CHECK: dense<{{[0-9]{1}}}>"); // braces inside a regex block
    expect(() => pass("// CHECK: {{(}}")).toThrow(/invalid regular expression/);
    expect(() => pass("// CHECK: {{abc")).toThrow(/unterminated \{\{/);
  });

  it("captures [[NAME:regex]] and uses [[NAME]]", () => {
    pass("// CHECK: %[[M:[0-9]+]] = mul\n// CHECK: neg(%[[M]])");
    pass("// CHECK: %[[N:[0-9]+]] = neg(%[[P:[0-9]+]])\n// CHECK: return %[[N]]");
    const e = failure("// CHECK: %[[M:[0-9]+]] = neg\n// CHECK: abs(%[[M]])");
    expect(e.message).toContain("CHECK: abs(%[[M]])");
    // A use in the same pattern is a backreference.
    pass("// CHECK: [[A:[a-z]]]{{.*}}[[A]]", "xyzx\n");
    failure("// CHECK: [[A:[a-z]]]z[[A]]", "xzy\n");
    expect(() => pass("// CHECK: [[UNDEFINED]]")).toThrow(/used before any pattern defines it/);
    // `[[` not followed by a variable name is literal text (nested IR literals).
    pass("// CHECK: dense<[[0, 1], [2, 3]]>", "const %c0: i32[2,2] = dense<[[0, 1], [2, 3]]>\n");
    pass("// CHECK: [[1bad]]", "[[1bad]]\n");
    expect(() => pass("// CHECK: [[X:abc")).toThrow(/unterminated \[\[/);
    expect(compilePattern("a[[X:b+]]", new Map()).regex.source).toBe("a(?<v0_X>b+)");
  });

  it("escapes regex metacharacters in literal text", () => {
    pass("// CHECK: a.b*c", "a.b*c\n");
    failure("// CHECK: a.b", "axb\n");
  });
});

describe(".stir test files", () => {
  it("RUN lines: passes, options, prefixes", () => {
    expect(parseRunLines("// RUN: canonicalize,cse dce --fold-limit=4\n// RUN: --no-fold --check-prefix=NF")).toEqual([
      { passes: ["canonicalize", "cse", "dce"], prefix: "CHECK", fold: true, foldLimit: 4 },
      { passes: [], prefix: "NF", fold: false },
    ]);
    expect(() => parseRunLines("// CHECK: x", "a.stir")).toThrow(/a\.stir: no \/\/ RUN: line/);
    expect(() => parseRunLines("// RUN: nosuchpass", "a.stir")).toThrow(/a\.stir:1: unknown pass "nosuchpass"; available passes: .*canonicalize/);
    expect(() => parseRunLines("// RUN: dce --fast")).toThrow(/unknown or malformed RUN option --fast/);
  });

  it("// ----- splits the input and keeps line numbers", () => {
    const chunks = splitInput("a\n// -----\nb\nc\n// -----\nd");
    expect(chunks).toEqual(["a\n\n\n\n\n", "\n\nb\nc\n\n", "\n\n\n\n\nd"]);
    const text = "// RUN: dce\nfunc @a() -> () {\n  return\n}\n// -----\nfunc @b() -> () {\n  return\n}\n";
    const { output } = runPipelineOnText(text, parseRunLines(text)[0]!);
    expect(output).toBe("func @a() -> () {\n  return\n}\n// -----\nfunc @b() -> () {\n  return\n}\n");
    // A parse error in the second chunk names its line in the whole file.
    expect(() => runPipelineOnText(`${text}// -----\nfunc @c() -> () {\n  oops\n}\n`, parseRunLines(text)[0]!, "s.stir")).toThrow(/s\.stir:12:1: error ST301/);
  });

  it("a pass test whose CHECK does not hold fails", () => {
    const text = "// RUN: dce\n// CHECK: exp\nfunc @f(%x: f32[]) -> (f32[]) {\n  %0 = exp(%x) : f32[]\n  return %x\n}\n";
    const { output } = runPipelineOnText(text, parseRunLines(text)[0]!);
    expect(() => fileCheck(output, text, { file: "f.stir" })).toThrow(/f\.stir:2: CHECK: exp\n {2}expected pattern not found/);
  });
});

describe("pass tests (tests/passes/*.stir)", () => {
  const dir = import.meta.dirname;
  const files = readdirSync(dir).filter((f) => f.endsWith(".stir")).sort();
  it("finds the test files", () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });
  it.each(files)("%s", (file) => {
    runFileCheckTest(join(dir, file));
  });
});
