/**
 * The `symtensor` CLI: `ir`, `run`, `verify`. A few runs go through a real subprocess (tsx, as the
 * source CLI runs); most call `runCli` in-process with collected output, which is much faster.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, type Result } from "./run-cli.js";
import { parseTypesArg } from "../../src/cli/types-arg.js";
import { parse } from "../../src/ir/parse.js";
import { verify } from "../../src/ir/verify.js";
import { add, DTypeError, matmul, NDArray, reduceSum, relu, tensor, ValueError } from "../../src/index.js";
import { VERSION } from "../../src/version.js";
import { expectArrayClose } from "../helpers/fixtures.js";

const ROOT = resolve(import.meta.dirname, "../..");
const FIX = "tests/cli/fixtures";
const MODEL = `${FIX}/model.ts`;
const MLP = `${FIX}/mlp.stir`;


/** The CLI as a subprocess, from source through tsx (about 0.5 s each: keep these few). */
function spawnCli(...args: string[]): Result {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/bin.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "symtensor-cli-test-"));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function npy(name: string): NDArray {
  return NDArray.fromNpy(new Uint8Array(readFileSync(join(ROOT, FIX, name))));
}

describe("symtensor (subprocess)", () => {
  it("--version still works", () => {
    const v = spawnCli("--version");
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe(VERSION);
  });

  it("ir prints the IR of a fn() export, with locs in the user's file", () => {
    const r = spawnCli("ir", MODEL, "--fn", "dense", "--args", "f32[2,3], f32[3,3]");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^func @dense\(%arg0: f32\[2,3\], %arg1: f32\[3,3\]\) -> \(f32\[2,3\]\) \{$/m);
    expect(r.out).toMatch(/%0 = matmul\(%arg0, %arg1\) : f32\[2,3\] loc\("tests\/cli\/fixtures\/model\.ts":7:60\)/);
    const g = parse(r.out);
    verify(g);
    expect(g.nodes.map((n) => n.op)).toEqual(["matmul", "add", "relu"]);
  });

  it("verify of a broken file prints file:line:col, the caret line, and exits 1", () => {
    const r = spawnCli("verify", `${FIX}/bad-type.stir`);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    const lines = r.err.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^tests\/cli\/fixtures\/bad-type\.stir:3:3: error ST302: %1: type-rule: add: shapes \[2,3\] and \[4\] cannot be broadcast/);
    expect(lines.slice(1)).toEqual(["    %1 = add(%0, %y) : f32[2,3]", "    ^"]);
  });

  it("run writes each result as .npy", () => {
    const outs = [join(tmp, "sub-r0.npy"), join(tmp, "sub-r1.npy")];
    const r = spawnCli("run", MLP, "--in", `${FIX}/x.npy`, "--in", `${FIX}/w.npy`, "--in", `${FIX}/b.npy`, "--out", outs[0]!, "--out", outs[1]!);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe("");
    const h = relu(add(matmul(tensor(npy("x.npy")), tensor(npy("w.npy"))), tensor(npy("b.npy"))));
    expectArrayClose(NDArray.fromNpy(new Uint8Array(readFileSync(outs[0]!))), h.numpy(), { rtol: 1e-6, atol: 0 });
    expectArrayClose(NDArray.fromNpy(new Uint8Array(readFileSync(outs[1]!))), reduceSum(h, 1).numpy(), { rtol: 1e-6, atol: 0 });
  });
});

describe("symtensor (in-process)", () => {
  it("--help lists the commands; an unknown command is commander's error, exit code 1", async () => {
    const h = await cli("--help");
    expect(h.code).toBe(0);
    for (const cmd of ["ops", "ir", "run", "verify"]) expect(h.out).toMatch(new RegExp(`^\\s+${cmd}\\b`, "m"));
    const irHelp = await cli("ir", "--help");
    expect(irHelp.code).toBe(0);
    expect(irHelp.out).toContain("--no-elide");
    const r = await cli("bogus");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown command 'bogus'/);
  });

  it("ops still lists the registry", async () => {
    const r = await cli("ops", "--kind", "matmul");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^matmul\s+matmul\s/m);
  });
});

describe("symtensor ir", () => {
  it("wraps a plain function export with fn() and prints text", async () => {
    const r = await cli("ir", MODEL, "--fn", "double", "--args", "f32[]");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(['func @double(%arg0: f32[]) -> (f32[]) {', '  %0 = add(%arg0, %arg0) : f32[] loc("tests/cli/fixtures/model.ts":11:10)', "  return %0", "}", ""].join("\n"));
  });

  it("--no-loc drops locations; --no-elide prints blobs that parse back", async () => {
    const elided = await cli("ir", MODEL, "--fn", "shift", "--args", "f32[20]", "--no-loc");
    expect(elided.code).toBe(0);
    expect(elided.out).not.toContain("loc(");
    expect(elided.out).toContain("dense<...>");
    const full = await cli("ir", MODEL, "--fn", "shift", "--args", "f32[20]", "--no-elide", "--stage", "traced");
    expect(full.code).toBe(0);
    expect(full.out).toMatch(/const %c0: f32\[20\] = blob<"c0">/);
    const g = parse(full.out);
    verify(g);
    expect(Array.from(g.constants[0]!.data)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("--format json gives the graph as JSON", async () => {
    const r = await cli("ir", MODEL, "--fn", "dense", "--args", "f32[1,3],f32[3,3]", "--format", "json");
    expect(r.code).toBe(0);
    const g = JSON.parse(r.out) as { name: string; params: { type: { dtype: string; shape: number[] } }[]; nodes: { op: string }[]; constants: { data: number[] }[] };
    expect(g.name).toBe("dense");
    expect(g.params.map((p) => p.type)).toEqual([{ dtype: "float32", shape: [1, 3] }, { dtype: "float32", shape: [3, 3] }]);
    expect(g.nodes.map((n) => n.op)).toEqual(["matmul", "add", "relu"]);
    expect(g.constants[0]!.data).toEqual([0.5, -0.5, 1.5]);
  });

  it("--format dot gives a Graphviz digraph", async () => {
    const r = await cli("ir", MODEL, "--fn", "double", "--args", "i32[4]", "--format", "dot");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^digraph "double" \{/);
    expect(r.out).toContain("i32[4]");
    expect(r.out.trimEnd().endsWith("}")).toBe(true);
  });

  it("resolves `symtensor` and paths to src/index.ts to the CLI's own library copy", async () => {
    writeFileSync(join(tmp, "bare.ts"), `import { fn, mul, type Tensor } from "symtensor";\nexport default fn((x: Tensor) => mul(x, 3), { name: "triple" });\n`);
    writeFileSync(join(tmp, "abs.ts"), `import { sub, type Tensor } from ${JSON.stringify(join(ROOT, "src/index.js"))};\nexport const neg1 = (x: Tensor) => sub(0, x);\n`);
    const bare = await cli("ir", join(tmp, "bare.ts"), "--fn", "default", "--args", "u8[2]", "--no-loc");
    expect(bare.err).toBe("");
    expect(bare.out).toContain("%0 = mul(%arg0, %c0) : u8[2]");
    const abs = await cli("ir", join(tmp, "abs.ts"), "--fn", "neg1", "--args", "f64[2,2]", "--no-loc");
    expect(abs.err).toBe("");
    expect(abs.out).toMatch(/^func @neg1\(%arg0: f64\[2,2\]\)/);
  });

  it("bad --args: a clear typed error pointing at the column", async () => {
    const r = await cli("ir", MODEL, "--fn", "dense", "--args", "f32[2,x]");
    expect(r.code).toBe(1);
    expect(r.err).toBe('error ST404: --args: expected a dimension (a non-negative integer) at column 7, found "x"\n  f32[2,x]\n        ^\n');
    const d = await cli("ir", MODEL, "--fn", "dense", "--args", "f32[2], f16[3]");
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/^error ST402: --args: unknown dtype "f16" at column 9; expected one of bool, u8, i32, f32, f64/);
  });

  it("an unknown export lists the module's exports", async () => {
    const r = await cli("ir", MODEL, "--fn", "nope", "--args", "f32[]");
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: ${MODEL} has no export "nope"; its exports: answer (number), dense (fn), double (function), shift (function), weights (Tensor)\n`);
    const t = await cli("ir", MODEL, "--fn", "weights");
    expect(t.code).toBe(1);
    expect(t.err).toMatch(/^error: export "weights" of .*model\.ts is Tensor, not a function; its exports: /);
  });

  it("too few --args for a plain function, and shape errors while tracing, are reported", async () => {
    const few = await cli("ir", MODEL, "--fn", "double");
    expect(few.code).toBe(1);
    expect(few.err).toBe("error: double takes 1 argument, but --args gives 0\n");
    const shapes = await cli("ir", MODEL, "--fn", "dense", "--args", "f32[2,3], f32[4,3]");
    expect(shapes.code).toBe(1);
    expect(shapes.err).toMatch(/^error ST401: matmul: inner dimensions differ: a is f32\[2,3\], b is f32\[4,3\] \(3 != 4\)/);
  });

  it("a missing module, a syntax error, and bad options", async () => {
    const missing = await cli("ir", "no/such/model.ts", "--fn", "f");
    expect(missing).toEqual({ code: 1, out: "", err: 'error: cannot read module "no/such/model.ts": no such file or directory\n' });
    const file = join(tmp, "broken.ts");
    writeFileSync(file, "export const f = (x: number => x;\n");
    const broken = await cli("ir", file, "--fn", "f");
    expect(broken.code).toBe(1);
    expect(broken.err).toContain(`error: cannot load module ${JSON.stringify(file)}:\n${file}:1:29: Expected ")" but found "=>"`);
    const format = await cli("ir", MODEL, "--fn", "double", "--args", "f32[]", "--format", "svg");
    expect(format.code).toBe(1);
    expect(format.err).toMatch(/option '--format <format>' argument 'svg' is invalid/);
    const unknown = await cli("ir", MODEL, "--fn", "double", "--bogus");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/unknown option '--bogus'/);
    const noFn = await cli("ir", MODEL);
    expect(noFn.code).toBe(1);
    expect(noFn.err).toMatch(/--fn <export> names the function to trace/);
  });
});

describe("--args parsing", () => {
  it("reads IR types, long dtype names, 0-d and size-0 shapes, and the empty list", () => {
    expect(parseTypesArg("f32[64,784], f32[784,10]")).toEqual([
      { dtype: "float32", shape: [64, 784] },
      { dtype: "float32", shape: [784, 10] },
    ]);
    expect(parseTypesArg(" bool[] ,u8[0],i32[ 1 , 2 ],f64[3],float32[]")).toEqual([
      { dtype: "bool", shape: [] },
      { dtype: "uint8", shape: [0] },
      { dtype: "int32", shape: [1, 2] },
      { dtype: "float64", shape: [3] },
      { dtype: "float32", shape: [] },
    ]);
    expect(parseTypesArg("")).toEqual([]);
    expect(parseTypesArg("   ")).toEqual([]);
  });

  it.each([
    ["f32", ValueError, "ST404", /expected "\[" after the dtype \(a 0-d tensor is written f32\[\]\) at column 4, found the end of the list/],
    ["f32[2,]", ValueError, "ST404", /expected a dimension/],
    ["f32[2] f32[3]", ValueError, "ST404", /expected "," between types at column 8, found "f32"/],
    ["f32[2],", ValueError, "ST404", /expected a tensor type such as f32\[2,3\]/],
    ["f32[-1]", ValueError, "ST404", /expected a dimension \(a non-negative integer\) at column 5, found "-"/],
    ["f32[1.5]", ValueError, "ST404", /expected "," or "\]" in the shape at column 6/],
    ["f32[99999999999999999999]", ValueError, "ST404", /dimension 99999999999999999999 at column 5 is too large/],
    ["int64[2]", DTypeError, "ST402", /unknown dtype "int64"/],
  ])("%s is rejected", (text, cls, code, message) => {
    let caught: unknown;
    try {
      parseTypesArg(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(cls);
    expect((caught as ValueError).code).toBe(code);
    expect((caught as Error).message).toMatch(message);
  });
});

describe("symtensor run", () => {
  it("prints each result in NumPy repr without --out", async () => {
    const r = await cli("run", MLP, "--in", `${FIX}/x.npy`, "--in", `${FIX}/w.npy`, "--in", `${FIX}/b.npy`);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const h = relu(add(matmul(tensor(npy("x.npy")), tensor(npy("w.npy"))), tensor(npy("b.npy"))));
    expect(r.out).toBe(`${h.numpy().toString()}\n${reduceSum(h, 1).numpy().toString()}\n`);
  });

  it("writes .npy files byte-identical to the eager result's", async () => {
    const out = [join(tmp, "r0.npy"), join(tmp, "r1.npy")];
    const r = await cli("run", MLP, "--in", `${FIX}/x.npy`, "--in", `${FIX}/w.npy`, "--in", `${FIX}/b.npy`, "--out", out[0]!, "--out", out[1]!);
    expect(r).toEqual({ code: 0, out: "", err: "" });
    const h = relu(add(matmul(tensor(npy("x.npy")), tensor(npy("w.npy"))), tensor(npy("b.npy"))));
    expect(new Uint8Array(readFileSync(out[0]!))).toEqual(h.numpy().toNpy());
    expect(new Uint8Array(readFileSync(out[1]!))).toEqual(reduceSum(h, 1).numpy().toNpy());
  });

  it("a wrong input dtype or shape names the parameter and the file", async () => {
    const dtype = await cli("run", MLP, "--in", `${FIX}/x_f64.npy`, "--in", `${FIX}/w.npy`, "--in", `${FIX}/b.npy`);
    expect(dtype.code).toBe(1);
    expect(dtype.err).toMatch(/^error ST402: run: input 1 \(tests\/cli\/fixtures\/x_f64\.npy\) for parameter %x must be f32\[2,3\], got f64\[2,3\]; convert it before saving, e\.g\. np\.save\(path, x\.astype\(np\.float32\)\)$/m);
    const shape = await cli("run", MLP, "--in", `${FIX}/x_t.npy`, "--in", `${FIX}/w.npy`, "--in", `${FIX}/b.npy`);
    expect(shape.code).toBe(1);
    expect(shape.err).toBe("error ST401: run: input 1 (tests/cli/fixtures/x_t.npy) for parameter %x must be f32[2,3], got f32[3,2]\n");
    const count = await cli("run", MLP, "--in", `${FIX}/x.npy`);
    expect(count.code).toBe(1);
    expect(count.err).toBe("error ST404: run: @mlp takes 3 inputs (%x: f32[2,3], %w: f32[3,4], %b: f32[4]), got 1 (give one --in file.npy per parameter)\n");
  });

  it("--out count, unreadable and non-.npy inputs, and unwritable outputs are errors", async () => {
    const ins = ["--in", `${FIX}/x.npy`, "--in", `${FIX}/w.npy`, "--in", `${FIX}/b.npy`];
    const outs = await cli("run", MLP, ...ins, "--out", join(tmp, "only.npy"));
    expect(outs.code).toBe(1);
    expect(outs.err).toBe("error ST404: run: @mlp returns 2 results, but 1 --out file was given (one per result, or none to print them)\n");
    const missing = await cli("run", MLP, "--in", "nope.npy");
    expect(missing.err).toBe('error: cannot read input "nope.npy": no such file or directory\n');
    const notNpy = await cli("run", MLP, "--in", MLP, "--in", `${FIX}/w.npy`, "--in", `${FIX}/b.npy`);
    expect(notNpy.code).toBe(1);
    expect(notNpy.err).toMatch(/^error ST501: tests\/cli\/fixtures\/mlp\.stir: \.npy: missing the \\x93NUMPY magic string/);
    const unwritable = await cli("run", MLP, ...ins, "--out", join(tmp, "no/dir/a.npy"), "--out", join(tmp, "b.npy"));
    expect(unwritable.code).toBe(1);
    expect(unwritable.err).toMatch(/^error: cannot write ".*no\/dir\/a\.npy": no such file or directory/);
  });
});

describe("symtensor verify", () => {
  it("prints ok with the function name and node count", async () => {
    expect(await cli("verify", MLP)).toEqual({ code: 0, out: "ok: @mlp (4 nodes)\n", err: "" });
  });

  it("a parse error is file:line:col: error ST301 with the caret line", async () => {
    const r = await cli("verify", `${FIX}/bad-syntax.stir`);
    expect(r.code).toBe(1);
    expect(r.err.split("\n").slice(0, 3)).toEqual([
      "tests/cli/fixtures/bad-syntax.stir:2:18: error ST301: unknown dtype 'f16' (expected one of bool, u8, i32, f32, f64)",
      "    %0 = neg(%x) : f16[2,3]",
      "                   ^",
    ]);
  });

  it("points verify errors at the offending definition", async () => {
    const file = join(tmp, "dup.stir");
    writeFileSync(file, ["func @dup(%x: f32[2]) -> (f32[2]) {", "  %0 = neg(%x) : f32[2]", "  %0 = abs(%x) : f32[2]", "  return %0", "}", ""].join("\n"));
    const dup = await cli("verify", file);
    expect(dup.code).toBe(1);
    expect(dup.err).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:3: error ST302: %0: ssa: `));
    expect(dup.err).toContain("\n    %0 = abs(%x) : f32[2]\n    ^\n");

    const undef = join(tmp, "undef.stir");
    writeFileSync(undef, ["func @u(%x: f32[2]) -> (f32[2]) {", "  %0 = neg(%y) : f32[2]", "  return %0", "}", ""].join("\n"));
    const u = await cli("verify", undef);
    expect(u.code).toBe(1);
    expect(u.err).toMatch(/undef\.stir:2:3: error ST302: %0: use-before-def: operand 0 \(%y\)/);

    const op = join(tmp, "op.stir");
    writeFileSync(op, ["func @o(%x: f32[2]) -> (f32[2]) {", "  %0 = neg(%x) : f32[2]", "  %1 = frobnicate(%0) : f32[2]", "  return %1", "}", ""].join("\n"));
    const o = await cli("verify", op);
    expect(o.err).toMatch(/op\.stir:3:3: error ST302: %1: unknown-op: /);
  });

  it("a missing file is a clear error", async () => {
    expect(await cli("verify", "no-such.stir")).toEqual({ code: 1, out: "", err: 'error: cannot read IR file "no-such.stir": no such file or directory\n' });
  });
});

describe("symtensor ir on an ONNX model", () => {
  it("prints the imported model's IR, traced and optimized, without --fn", async () => {
    const { exportOnnx, fn, matmul, relu, softmax, tensor, zeros } = await import("../../src/index.js");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const w = tensor([[1, -1], [0.5, 2], [-1, 1]]);
    const model = exportOnnx(fn((x: import("../../src/index.js").Tensor) => softmax(relu(matmul(x, w)), -1), { name: "tiny" }), zeros([4, 3]));
    const path = `${mkdtempSync(`${tmpdir()}/symtensor-onnx-`)}/tiny.onnx`;
    writeFileSync(path, model);
    const traced = await cli("ir", path);
    expect(traced.code).toBe(0);
    expect(traced.out).toMatch(/^func @/);
    expect(traced.out).toMatch(/matmul\(/);
    const optimized = await cli("ir", path, "--stage", "optimized");
    expect(optimized.code).toBe(0);
    expect(optimized.out).toMatch(/fused\(.*\{kind = "matmul"\}/);
  });
});
