/**
 * `symtensor opt`: runs a pass pipeline over an IR file, like mlir-opt. In-process through runCli
 * (one subprocess run checks the real binary path).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./run-cli.js";
import { graphEqual } from "../../src/ir/equal.js";
import { parse } from "../../src/ir/parse.js";
import { verify } from "../../src/ir/verify.js";

const ROOT = resolve(import.meta.dirname, "../..");


const INPUT = `// a graph with something for every pass
func @f(%x: f32[2,3]) -> (f32[3,2], f32[3,2]) {
  const %c0: f32[] = dense<1>
  const %c1: f32[] = dense<2>
  const %c2: f32[] = dense<2>
  %0 = mul(%x, %c0) : f32[2,3] loc("model.ts":3:10)
  %1 = transpose(%0) {perm = [1, 0]} : f32[3,2]
  %2 = add(%c1, %c2) : f32[]
  %3 = mul(%1, %2) : f32[3,2]
  %4 = transpose(%x) {perm = [1, 0]} : f32[3,2]
  %5 = mul(%4, %2) : f32[3,2]
  %6 = exp(%x) : f32[2,3]
  return %3, %5
}
`;

let tmp: string;
let file: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "symtensor-opt-test-"));
  file = join(tmp, "in.stir");
  writeFileSync(file, INPUT);
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe("symtensor opt", () => {
  it("runs the pipeline and prints IR that parses back", async () => {
    const r = await cli("opt", file, "--passes", "canonicalize,cse,dce");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        "func @f(%x: f32[2,3]) -> (f32[3,2], f32[3,2]) {",
        "  const %c3: f32[] = dense<4>",
        "  %1 = transpose(%x) {perm = [1, 0]} : f32[3,2]",
        "  %3 = mul(%1, %c3) : f32[3,2]",
        "  return %3, %3",
        "}",
        "",
      ].join("\n"),
    );
    verify(parse(r.out));
  });

  it("without --passes runs the default pipeline; --passes '' runs nothing", async () => {
    const d = await cli("opt", file);
    expect(d.code).toBe(0);
    verify(parse(d.out));
    expect(d.out).not.toContain("exp(");
    const none = await cli("opt", file, "--passes", "");
    expect(none.code).toBe(0);
    expect(graphEqual(parse(none.out), parse(INPUT))).toBe(true);
    expect(none.out).toContain('loc("model.ts":3:10)');
  });

  it("--print-after-all dumps every stage to stderr under mlir-style headers", async () => {
    const r = await cli("opt", file, "--passes", "canonicalize,cse,dce", "--print-after-all", "--no-loc");
    expect(r.code).toBe(0);
    const headers = r.err.split("\n").filter((l) => l.startsWith("// -----//"));
    expect(headers).toEqual([
      "// -----// IR Dump After canonicalize //----- //",
      "// -----// IR Dump After cse //----- //",
      "// -----// IR Dump After dce //----- //",
    ]);
    // The last dump is the final IR.
    expect(r.err.endsWith(`${r.out}\n`)).toBe(true);
    // After canonicalize the duplicate transpose is still there; after cse it is gone.
    const [, afterCanon, afterCse] = r.err.split(/\/\/ -----\/\/ IR Dump After \w+ \/\/----- \/\/\n/);
    expect(afterCanon!.match(/transpose/g)).toHaveLength(2);
    expect(afterCse!.match(/transpose/g)).toHaveLength(1);
  });

  it("--print-after picks passes (repeatable, comma-separated)", async () => {
    const r = await cli("opt", file, "--passes", "canonicalize,cse,dce", "--print-after", "cse", "--print-after", "dce,canonicalize");
    expect(r.code).toBe(0);
    expect(r.err.match(/IR Dump After (\w+)/g)).toEqual(["IR Dump After canonicalize", "IR Dump After cse", "IR Dump After dce"]);
    const one = await cli("opt", file, "--passes", "canonicalize,cse", "--print-after", "cse");
    expect(one.err.match(/IR Dump After (\w+)/g)).toEqual(["IR Dump After cse"]);
  });

  it("--no-fold and --fold-limit control constant folding", async () => {
    const noFold = await cli("opt", file, "--passes", "canonicalize", "--no-fold");
    expect(noFold.out).toContain("add(%c1, %c2)");
    const limit = await cli("opt", file, "--passes", "canonicalize", "--fold-limit", "0");
    expect(limit.out).toContain("add(%c1, %c2)");
    const folded = await cli("opt", file, "--passes", "canonicalize");
    expect(folded.out).not.toContain("add(");
    const bad = await cli("opt", file, "--fold-limit", "lots");
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('error: --fold-limit must be a non-negative integer (elements), got "lots"\n');
  });

  it("--timing reports each pass", async () => {
    const r = await cli("opt", file, "--passes", "cse,dce", "--timing");
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/\/\/ pass timing \(ms\)\n\/\/ +\d+\.\d{3} {2}cse\n\/\/ +\d+\.\d{3} {2}dce\n\/\/ +\d+\.\d{3} {2}total\n/);
  });

  it("an unknown pass is an error listing the available passes", async () => {
    const r = await cli("opt", file, "--passes", "canonicalize,cse,dse");
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^error ST404: unknown pass "dse"; available passes: .*canonicalize, cse, dce/);
    const p = await cli("opt", file, "--passes", "cse", "--print-after", "dce");
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/^error ST404: opt: --print-after dce: the pipeline \(cse\) does not run pass "dce"/);
  });

  it("bad files: missing, unparsable, invalid — with file, line and column", async () => {
    const missing = await cli("opt", join(tmp, "nope.stir"));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error: cannot read IR file ".*nope\.stir": no such file or directory\n$/);
    const syntax = write("syntax.stir", "func @f(%x: f32[2]) -> (f32[2]) {\n  %0 = neg(%x : f32[2]\n  return %0\n}\n");
    const s = await cli("opt", syntax, "--passes", "dce");
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/syntax\.stir:2:\d+: error ST301: /);
    const invalid = write("invalid.stir", "func @f(%x: f32[2]) -> (i32[2]) {\n  %0 = neg(%x) : i32[2]\n  return %0\n}\n");
    const v = await cli("opt", invalid, "--passes", "dce");
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/invalid\.stir:2:3: error ST302: %0: type-rule: /);
  });

  it("runs as a real command", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/bin.ts", "opt", file, "--passes", "canonicalize,cse"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.match(/transpose/g)).toHaveLength(1);
  });

  it("is listed in --help", async () => {
    const r = await cli("--help");
    expect(r.out).toMatch(/opt \[options\] <file>/);
  });
});
