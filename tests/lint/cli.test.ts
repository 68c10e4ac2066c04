/**
 * `symtensor lint`: the output formats (pure, on hand-made diagnostics), the command's options and
 * exit codes (in-process, over a small generated project), and one real subprocess that checks the
 * command loads the linter lazily and that examples/ lints clean.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { EXIT_CLEAN, EXIT_PROBLEMS, EXIT_USAGE, lintCommand, parseRuleArgs } from "../../src/lint/cli.js";
import { codeFrame, displayPath, formatJson, formatText, summarize, toSarif } from "../../src/lint/format.js";
import { RULES } from "../../src/lint/index.js";
import type { LintDiagnostic } from "../../src/lint/types.js";

const ROOT = resolve(import.meta.dirname, "../..");

function diag(over: Partial<LintDiagnostic> & Pick<LintDiagnostic, "file">): LintDiagnostic {
  return { code: "ST001", severity: "error", line: 2, col: 10, endLine: 2, endCol: 20, message: "`.numpy()` of a symbolic tensor", help: "Convert the result.", ...over };
}

describe("format", () => {
  const src = "const a = 1;\n  return logits.numpy();\n\tx.item();\n";
  const read = () => src;

  it("text: location, severity, code, message, via, code frame, help, summary", () => {
    const text = formatText(
      [
        diag({ file: "/p/src/a.ts", tracedVia: ["trainStep (src/train.ts:10)", "loss", "accuracy"], col: 10, endCol: 24 }),
        diag({ file: "/p/src/a.ts", code: "ST101", severity: "warning", line: 3, col: 2, endLine: 3, endCol: 10, message: "`.item()` in a loop", help: "" }),
      ],
      { cwd: "/p", readSource: read },
    );
    expect(text).toBe(
      [
        "src/a.ts:2:10 error ST001 `.numpy()` of a symbolic tensor",
        "  via: trainStep (src/train.ts:10) -> loss -> accuracy",
        "  2 |   return logits.numpy();",
        "    |          ^^^^^^^^^^^^^^",
        "  help: Convert the result.",
        "",
        "src/a.ts:3:2 warning ST101 `.item()` in a loop",
        "  3 | \tx.item();",
        "    | \t^^^^^^^^",
        "",
        "1 error, 1 warning",
        "",
      ].join("\n"),
    );
  });

  it("a multi-line expression is underlined to the end of its first line; no source, no frame", () => {
    expect(codeFrame("foo(a,\n  b)", { line: 1, col: 1, endLine: 2, endCol: 4 })).toBe("  1 | foo(a,\n    | ^^^^^^");
    expect(codeFrame("x", { line: 5, col: 1, endLine: 5, endCol: 2 })).toBeUndefined();
    const text = formatText([diag({ file: "/nowhere/x.ts" })], { cwd: "/", readSource: () => undefined });
    expect(text).not.toContain("|");
    expect(text).toContain("nowhere/x.ts:2:10 error ST001");
  });

  it("summary counts and plurals", () => {
    expect(summarize([])).toBe("no problems");
    expect(formatText([], { cwd: "/" })).toBe("no problems\n");
    const e = diag({ file: "/a.ts" });
    const w = diag({ file: "/a.ts", severity: "warning" });
    expect(summarize([e, e, w])).toBe("2 errors, 1 warning");
    expect(summarize([w, w])).toBe("0 errors, 2 warnings");
  });

  it("paths relative to cwd with forward slashes", () => {
    expect(displayPath("/p/src/a.ts", "/p")).toBe("src/a.ts");
    expect(displayPath("/q/a.ts", "/p")).toBe("../q/a.ts");
  });

  it("json is the diagnostics array", () => {
    const ds = [diag({ file: "/p/a.ts", tracedVia: ["f (a.ts:1)"] })];
    expect(JSON.parse(formatJson(ds))).toEqual(ds);
  });

  it("SARIF 2.1.0: driver rules with help URIs, results with levels and regions", () => {
    const log = toSarif([diag({ file: "/p/src/a.ts" }), diag({ file: "/p/src/b.ts", code: "ST102", severity: "warning", line: 7, col: 3, endLine: 8, endCol: 5 })], RULES, { cwd: "/p", version: "0.1.0" });
    expect(log.version).toBe("2.1.0");
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe("symtensor");
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(RULES.map((r) => r.code));
    expect(run.tool.driver.rules[0]).toMatchObject({ id: "ST001", helpUri: "docs/lint.md#st001", shortDescription: { text: RULES[0]!.description } });
    expect(run.results[1]).toMatchObject({
      ruleId: "ST102",
      ruleIndex: RULES.findIndex((r) => r.code === "ST102"),
      level: "warning",
      locations: [{ physicalLocation: { artifactLocation: { uri: "src/b.ts" }, region: { startLine: 7, startColumn: 3, endLine: 8, endColumn: 5 } } }],
    });
    expect(run.results[0]!.message.text).toBe("`.numpy()` of a symbolic tensor. Convert the result.");
  });
});

describe("--rule", () => {
  it("parses CODE=setting, repeatable, case-insensitive", () => {
    expect(parseRuleArgs(["ST101=off", "st006=error", "ST102=warn"])).toEqual({ ST101: "off", ST006: "error", ST102: "warning" });
  });
  it.each(["ST101", "ST101=maybe", "ST999=off", "=off"])("rejects %j", (arg) => {
    expect(() => parseRuleArgs([arg])).toThrow(/--rule/);
  });
});

// A small project: one traced error, one eager warning, one clean file.
const FILES: Record<string, string> = {
  "src/model.ts": [
    `import { fn, type Tensor } from "symtensor";`,
    ``,
    `export const predict = fn((x: Tensor) => {`,
    `  const y = x.mul(2);`,
    `  return y.numpy();`,
    `});`,
    ``,
  ].join("\n"),
  "src/train.ts": [
    `import { reduceSum, type Tensor } from "symtensor";`,
    ``,
    `export function total(xs: Tensor[]): number {`,
    `  let t = 0;`,
    `  for (const x of xs) t += reduceSum(x).item() as number;`,
    `  return t;`,
    `}`,
    ``,
  ].join("\n"),
  "src/clean.ts": [`import { tensor } from "symtensor";`, `export const c = tensor([1, 2]).numpy();`, ``].join("\n"),
};

describe("lintCommand over a project", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "symtensor-lint-cli-"));
    for (const [name, text] of Object.entries(FILES)) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const tsconfig = {
      compilerOptions: { target: "ES2022", module: "ESNext", moduleResolution: "Bundler", strict: true, noEmit: true, skipLibCheck: true, paths: { symtensor: [join(ROOT, "src/index.ts")] } },
      include: ["src/**/*.ts"],
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(paths: string[], opts: Parameters<typeof lintCommand>[1] = {}) {
    let out = "";
    let err = "";
    const code = lintCommand(paths, { cwd: dir, ...opts }, { out: (s) => void (out += s), err: (s) => void (err += s) });
    return { code, out, err };
  }

  it("text: relative paths, code frame, help, summary; exit 1 on errors", () => {
    const r = run([]);
    expect(r.code).toBe(EXIT_PROBLEMS);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^src\/model\.ts:5:10 error ST001 /);
    expect(lines).toContain("  5 |   return y.numpy();");
    expect(lines).toContain("    |          ^^^^^^^^^");
    expect(r.out).toMatch(/help: Convert the traced function's result instead/);
    expect(r.out).toMatch(/^src\/train\.ts:5:\d+ warning ST101 /m);
    expect(lines.at(-2)).toBe("1 error, 1 warning");
    expect(r.out).not.toContain("clean.ts");
  });

  it("--rule turns rules off or changes severity; warnings alone exit 0", () => {
    const r = run(["src"], { rule: ["ST001=off"] });
    expect(r.code).toBe(EXIT_CLEAN);
    expect(r.out).toMatch(/0 errors, 1 warning\n$/);
    expect(run(["src"], { rule: ["ST001=off", "ST101=error"] }).code).toBe(EXIT_PROBLEMS);
    expect(run(["src/clean.ts"]).out).toBe("no problems\n");
  });

  it("--max-warnings", () => {
    expect(run(["src"], { rule: ["ST001=off"], maxWarnings: "1" }).code).toBe(EXIT_CLEAN);
    const r = run(["src"], { rule: ["ST001=off"], maxWarnings: "0" });
    expect(r.code).toBe(EXIT_PROBLEMS);
    expect(r.err).toMatch(/more than --max-warnings 0/);
    expect(run(["src"], { maxWarnings: "lots" }).code).toBe(EXIT_USAGE);
  });

  it("--project", () => {
    const r = run(["src/model.ts"], { project: "tsconfig.json", format: "json" });
    expect(r.code).toBe(EXIT_PROBLEMS);
    const ds = JSON.parse(r.out) as LintDiagnostic[];
    expect(ds.map((d) => [d.code, d.line, d.file])).toEqual([["ST001", 5, join(dir, "src/model.ts")]]);
    expect(run(["src"], { project: "nope.json" }).code).toBe(EXIT_USAGE);
  });

  it("sarif: relative uris, one result per diagnostic", () => {
    const r = run(["."], { format: "sarif", version: "9.9.9" });
    const log = JSON.parse(r.out) as ReturnType<typeof toSarif>;
    expect(log.runs[0]!.tool.driver.version).toBe("9.9.9");
    const results = log.runs[0]!.results;
    expect(results.map((x) => [x.ruleId, x.level, x.locations[0]!.physicalLocation.artifactLocation.uri])).toEqual([
      ["ST001", "error", "src/model.ts"],
      ["ST101", "warning", "src/train.ts"],
    ]);
    expect(results[0]!.locations[0]!.physicalLocation.region).toEqual({ startLine: 5, startColumn: 10, endLine: 5, endColumn: 19 });
  });

  it("bad input: exit 2 with a message", () => {
    const missing = run(["nope"]);
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toMatch(/^error: no such file or directory: nope/);
    expect(run(["src"], { rule: ["ST101=loud"] }).err).toMatch(/unknown setting/);
    expect(run(["src"], { format: "xml" }).code).toBe(EXIT_USAGE);
  });
});

describe("symtensor lint (the CLI)", () => {
  const io = () => {
    const r = { out: "", err: "" };
    return { r, io: { out: (s: string) => void (r.out += s), err: (s: string) => void (r.err += s) } };
  };

  it("examples/ lints clean", async () => {
    const { r, io: sink } = io();
    const code = await runCli(["node", "symtensor", "lint", join(ROOT, "examples")], sink);
    expect(r.err).toBe("");
    expect(r.out).toBe("no problems\n");
    expect(code).toBe(0);
  });

  it("commander rejects an unknown format; exit codes come through runCli", async () => {
    const bad = io();
    expect(await runCli(["node", "symtensor", "lint", "--format", "xml"], bad.io)).not.toBe(0);
    const missing = io();
    expect(await runCli(["node", "symtensor", "lint", join(ROOT, "no-such-dir")], missing.io)).toBe(EXIT_USAGE);
    expect(missing.r.err).toMatch(/no such file or directory/);
  });

  it("in a real process: other commands do not load typescript; lint does", () => {
    const script = (args: string) =>
      [
        `import { createRequire } from "node:module";`,
        `const { runCli } = await import("./src/cli/main.ts");`,
        `const code = await runCli(["node", "symtensor", ${args}], { out() {}, err(s) { process.stderr.write(s); } });`,
        `const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("/node_modules/typescript/"));`,
        `console.log(JSON.stringify({ code, loaded }));`,
      ].join("\n");
    const go = (args: string) => {
      const p = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script(args)], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      expect(p.stderr).toBe("");
      return JSON.parse(p.stdout.trim().split("\n").at(-1)!) as { code: number; loaded: boolean };
    };
    expect(go(`"ops"`)).toEqual({ code: 0, loaded: false });
    expect(go(`"lint", "examples"`)).toEqual({ code: 0, loaded: true });
  });
});
