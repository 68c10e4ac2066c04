import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { lintFiles, lintProgram, RULES, DEFAULT_SEVERITY, type LintDiagnostic, type LintOptions } from "../../src/lint/index.js";

// A minimal symtensor at the paths the linter recognizes, so programs stay small and fast.
const LIB: Record<string, string> = {
  "/proj/src/trace/tensor.ts": `
    export abstract class Tensor {
      abstract numpy(): number[];
      item(): number { return 0; }
      tolist(): unknown { return []; }
      mul(x: Tensor | number): Tensor { return this; }
      add(x: Tensor | number): Tensor { return this; }
      get size(): number { return 1; }
      [Symbol.iterator](): Iterator<Tensor> { return [][Symbol.iterator](); }
    }
    export class EagerTensor extends Tensor { numpy(): number[] { return []; } }`,
  "/proj/src/trace/symbolic.ts": `
    import { Tensor } from "./tensor.js";
    export class SymbolicTensor extends Tensor { numpy(): number[] { throw new Error(); } }`,
  "/proj/src/trace/fn.ts": `
    export function fn<A extends unknown[], R>(f: (...args: A) => R, options?: { name?: string }): (...args: A) => R;
    export function fn(options?: { name?: string }): (m: any, c: any) => any;
    export function fn(f?: unknown, o?: unknown): any { return f; }`,
  "/proj/src/trace/ops.ts": `
    import { Tensor, EagerTensor } from "./tensor.js";
    export function tensor(x: unknown): Tensor { return new EagerTensor(); }
    export function reduceSum(x: Tensor): Tensor { return x; }`,
  "/proj/src/index.ts": `
    export * from "./trace/tensor.js";
    export * from "./trace/symbolic.js";
    export * from "./trace/fn.js";
    export * from "./trace/ops.js";`,
  "/proj/globals.d.ts": `
    declare const console: { log(...a: unknown[]): void; warn(...a: unknown[]): void };
    declare const performance: { now(): number };`,
};

const libCache = new Map<string, ts.SourceFile>();
const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noEmit: true,
  lib: ["lib.es2022.d.ts"],
  types: [],
};

/** A Program over in-memory files (user files under /proj/app) plus the stub library. */
function makeProgram(files: Record<string, string>): ts.Program {
  const all: Record<string, string> = { ...LIB };
  for (const [name, text] of Object.entries(files)) all[`/proj/app/${name}`] = text;
  const host = ts.createCompilerHost(OPTIONS);
  host.getCurrentDirectory = () => "/proj";
  host.fileExists = (f) => f in all || (!f.startsWith("/proj/") && ts.sys.fileExists(f));
  host.readFile = (f) => all[f] ?? (f.startsWith("/proj/") ? undefined : ts.sys.readFile(f));
  host.directoryExists = (d) => d.startsWith("/proj") || ts.sys.directoryExists(d);
  host.getSourceFile = (f, lang) => {
    const text = all[f];
    if (text !== undefined) return ts.createSourceFile(f, text, lang, true);
    let sf = libCache.get(f);
    if (sf === undefined) {
      const t = ts.sys.readFile(f);
      if (t === undefined) return undefined;
      sf = ts.createSourceFile(f, t, lang, true);
      libCache.set(f, sf);
    }
    return sf;
  };
  const roots = ["/proj/globals.d.ts", ...Object.keys(files).map((f) => `/proj/app/${f}`)];
  return ts.createProgram({ rootNames: roots, options: OPTIONS, host });
}

function lint(files: Record<string, string>, options?: LintOptions): LintDiagnostic[] {
  const program = makeProgram(files);
  const own = program.getSourceFiles().filter((sf) => sf.fileName.startsWith("/proj/app/"));
  return lintProgram(program, own, options);
}

/** "file:line code" per diagnostic, file relative to /proj/app. */
function brief(ds: readonly LintDiagnostic[]): string[] {
  return ds.map((d) => `${path.relative("/proj/app", d.file)}:${d.line} ${d.code}`);
}

const IMPORT = `import { fn, tensor, reduceSum, Tensor, EagerTensor, SymbolicTensor } from "../src/index.js";\n`;

/** Lints one file main.ts (the import line is line 1, so the body starts at line 2). */
function lintOne(body: string, options?: LintOptions): string[] {
  const out = brief(lint({ "main.ts": IMPORT + body }, options));
  if (process.env.LINT_DEBUG) console.log(JSON.stringify(out));
  return out;
}

describe("traced scope roots", () => {
  it("inline arrow, function declaration, const arrow", () => {
    expect(lintOne(`
const a = fn((x: Tensor) => { x.numpy(); return x; });
function g(x: Tensor) { x.item(); return x; }
const b = fn(g);
const h = (x: Tensor) => { x.tolist(); return x; };
const c = fn(h);
function notTraced(x: Tensor) { x.numpy(); return x; }
`)).toEqual(["main.ts:3 ST001", "main.ts:4 ST001", "main.ts:6 ST001"]);
  });

  it("renamed import, namespace import, re-export", () => {
    const ds = lint({
      "reexport.ts": `export { fn as jit } from "../src/index.js";\n`,
      "main.ts": `import { fn as trace, type Tensor } from "../src/index.js";
import * as st from "../src/index.js";
import { jit } from "./reexport.js";
const a = trace((x: Tensor) => x.numpy());
const b = st.fn((x: st.Tensor) => x.numpy());
const c = jit((x: Tensor) => x.numpy());
const fn = (f: unknown) => f;
const d = fn((x: Tensor) => x.numpy());
`,
    });
    expect(brief(ds)).toEqual(["main.ts:4 ST001", "main.ts:5 ST001", "main.ts:6 ST001"]);
  });

  it("an imported function passed to fn, across files", () => {
    const ds = lint({
      "model.ts": `import type { Tensor } from "../src/index.js";
export function predict(x: Tensor) {
  return x.numpy();
}
`,
      "main.ts": `import { fn } from "../src/index.js";
import { predict } from "./model.js";
export const p = fn(predict);
`,
    });
    expect(brief(ds)).toEqual(["model.ts:3 ST001"]);
    expect(ds[0]!.tracedVia).toEqual(["predict (app/model.ts:2)"]);
    expect(ds[0]!.message).toBe("`.numpy()` of a symbolic tensor in traced function `predict`: it has no value while tracing");
  });

  it("@fn() decorated methods; `this` fields are eager, writes to them are outer state", () => {
    expect(lintOne(`
class Model {
  w: Tensor = tensor([1]);
  count = 0;
  @fn()
  forward(x: Tensor) {
    this.w.numpy();
    this.count++;
    return x.mul(x.item());
  }
  plain(x: Tensor) { return x.numpy(); }
}
`)).toEqual(["main.ts:9 ST006", "main.ts:10 ST001"]);
  });
});

describe("more roots and names", () => {
  it("method references, the name option, and presence tests of optional tensors", () => {
    const ds = lint({ "main.ts": IMPORT + `
class Layer {
  bias?: Tensor;
  forward(x: Tensor) { if (this.bias) x = x.add(this.bias); return x.numpy(); }
}
const layer = new Layer();
export const a = fn(layer.forward);
export const b = fn((x: Tensor) => x.item(), { name: "named" });
` });
    expect(brief(ds)).toEqual(["main.ts:5 ST001", "main.ts:9 ST001"]);
    expect(ds[0]!.tracedVia).toEqual(["Layer.forward (app/main.ts:5)"]);
    expect(ds[1]!.tracedVia).toEqual(["named (app/main.ts:9)"]);
  });

  it("lintFiles reports a missing path clearly", () => {
    expect(() => lintFiles(["/no/such/dir/x.ts"])).toThrow(/no such file or directory/);
  });
});

describe("call graph", () => {
  const files = {
    "metrics.ts": `import type { Tensor } from "../src/index.js";
export function accuracy(y: Tensor) {
  return y.item();
}
export const helper = (y: Tensor) => y.tolist();
`,
    "loss.ts": `import type { Tensor } from "../src/index.js";
import { accuracy as acc } from "./metrics.js";
import * as m from "./metrics.js";
export function loss(y: Tensor) {
  acc(y);
  m.helper(y);
  return y;
}
`,
    "train.ts": `import { fn, type Tensor } from "../src/index.js";
import { loss } from "./loss.js";
class Net {
  forward(x: Tensor) { return x.numpy(); }
}
const net = new Net();
export const trainStep = fn((x: Tensor) => {
  net.forward(x);
  return loss(x);
});
`,
  };

  it("follows calls across files, renamed and namespace imports, and methods on typed receivers", () => {
    const ds = lint(files);
    expect(brief(ds)).toEqual(["metrics.ts:3 ST001", "metrics.ts:5 ST001", "train.ts:4 ST001"]);
    const [accuracy, helper, forward] = ds;
    expect(accuracy!.tracedVia).toEqual(["trainStep (app/train.ts:7)", "loss", "accuracy"]);
    expect(accuracy!.message).toContain("reached from traced function `trainStep` (app/train.ts:7) via `loss` -> `accuracy`");
    expect(helper!.tracedVia).toEqual(["trainStep (app/train.ts:7)", "loss", "helper"]);
    expect(forward!.tracedVia).toEqual(["trainStep (app/train.ts:7)", "Net.forward"]);
  });

  it("works when only one file of the program is linted", () => {
    const program = makeProgram(files);
    const metrics = program.getSourceFile("/proj/app/metrics.ts")!;
    expect(brief(lintProgram(program, [metrics]))).toEqual(["metrics.ts:3 ST001", "metrics.ts:5 ST001"]);
    // files undefined: every own source file, not the library.
    expect(lintProgram(program, undefined).length).toBe(3);
  });

  it("handles recursion and functions passed as callbacks", () => {
    expect(lintOne(`
function rec(x: Tensor, n: number): Tensor { x.numpy(); return n > 0 ? rec(x, n - 1) : x; }
function row(r: Tensor) { return r.item(); }
const f = fn((x: Tensor) => { [x].map(row); return rec(x, 2); });
`)).toEqual(["main.ts:3 ST001", "main.ts:4 ST001"]);
  });
});

describe("ST001 symbolic vs closed-over eager", () => {
  it("module constants and outer-function variables are eager; params and locals are symbolic", () => {
    expect(lintOne(`
const W = tensor([1, 2]);
const P = { w: tensor([1]) };
export function make() {
  const b = tensor([3]);
  return fn((x: Tensor) => {
    W.numpy();
    P.w.numpy();
    b.numpy();
    const y = x.mul(2);
    y.numpy();
    W.mul(x).numpy();
    const inner = () => x.numpy();
    return x;
  });
}
`)).toEqual(["main.ts:7 ST102", "main.ts:12 ST001", "main.ts:13 ST001", "main.ts:14 ST001"]);
  });

  it("aliases, unions, generics, subclasses, array elements and object fields", () => {
    expect(lintOne(`
type T = Tensor;
interface Params { w: Tensor; b?: Tensor }
const f = fn((a: T, b: Tensor | undefined, xs: Tensor[], p: Params, s: SymbolicTensor, e: EagerTensor) => {
  a.numpy();
  b?.numpy();
  xs[0]!.numpy();
  p.w.numpy();
  s.item();
  e.tolist();
  return a;
});
function gen<X extends Tensor>(x: X) { return x.numpy(); }
const g = fn(gen);
const n = fn((x: { numpy(): number }) => x.numpy());
`)).toEqual(["main.ts:6 ST001", "main.ts:7 ST001", "main.ts:8 ST001", "main.ts:9 ST001", "main.ts:10 ST001", "main.ts:11 ST001", "main.ts:14 ST001"]);
  });
});

describe("ST002 coercion", () => {
  it("flags numeric coercions, not strings, templates or references", () => {
    expect(lintOne(`
const f = fn((x: Tensor, y: Tensor) => {
  Number(x);
  const a = +x;
  const b = -x;
  const c = (x as any) * 2;
  const d = x < y;
  const e = Math.max(x as any, 1);
  const g = parseFloat(x as any);
  const s = "x = " + x;
  const t = \`\${x}\`;
  const u = String(x);
  const v = x === y;
  const w = 2 ** (y as any);
  return x;
});
const outside = -tensor(1);
`)).toEqual(["main.ts:4 ST002", "main.ts:5 ST002", "main.ts:6 ST002", "main.ts:7 ST002", "main.ts:8 ST002", "main.ts:9 ST002", "main.ts:10 ST002", "main.ts:15 ST002"]);
  });
});

describe("ST003 iteration", () => {
  it("for-of, spread, Array.from, destructuring", () => {
    expect(lintOne(`
const f = fn((x: Tensor) => {
  for (const r of x) r;
  const a = [...x];
  Math.min(...x as any);
  const b = Array.from(x);
  const [c, d] = x;
  for (const r of [x, x]) r;
  return x;
});
`)).toEqual(["main.ts:4 ST003", "main.ts:5 ST003", "main.ts:6 ST003", "main.ts:7 ST003", "main.ts:8 ST003"]);
  });
});

describe("ST005 conditions (anywhere)", () => {
  it("flags truthiness tests of tensors, not ??, comparisons or presence tests of optional tensors", () => {
    expect(lintOne(`
const t = tensor(1);
const u: Tensor | undefined = undefined as Tensor | undefined;
if (t) {}
while (!t) {}
do {} while (t);
for (; t;) {}
const a = t ? 1 : 2;
const b = t && 1;
const c = 1 || t;
const d = t ?? 1;
if (t.size > 0) {}
if (u) {}
if (t === u) {}
if (1 && t) {}
const e = !!t;
`)).toEqual(["main.ts:5 ST005", "main.ts:6 ST005", "main.ts:7 ST005", "main.ts:8 ST005", "main.ts:9 ST005", "main.ts:10 ST005", "main.ts:16 ST005", "main.ts:17 ST005"]);
  });
});

describe("ST006 side effects in traced code", () => {
  it("flags console, randomness, clocks and writes to outer state", () => {
    expect(lintOne(`
let saved: Tensor | undefined;
let steps = 0;
const log: Tensor[] = [];
const f = fn((x: Tensor) => {
  console.log(x);
  Math.random();
  Date.now();
  new Date();
  new Date(0);
  performance.now();
  saved = x;
  steps += 1;
  steps++;
  log[0] = x;
  let local = 0;
  local++;
  const o = { v: 1 };
  o.v = 2;
  return x;
});
console.log(1);
`)).toEqual(["main.ts:7 ST006", "main.ts:8 ST006", "main.ts:9 ST006", "main.ts:10 ST006", "main.ts:12 ST006", "main.ts:13 ST006", "main.ts:14 ST006", "main.ts:15 ST006", "main.ts:16 ST006"]);
  });

  it("does not flag shadowed globals", () => {
    expect(lintOne(`
const Math = { random: () => 4 };
const f = fn((x: Tensor) => { Math.random(); return x; });
`)).toEqual([]);
  });
});

describe("ST101 conversions in loops (non-traced)", () => {
  it("flags loop bodies and array callbacks in the same function", () => {
    expect(lintOne(`
const ts = [tensor(1), tensor(2)];
for (const t of ts) t.numpy();
for (let i = 0; i < 2; i++) { ts[i]!.item(); }
while (ts.length > 3) { ts[0]!.tolist(); }
ts.forEach((t) => t.numpy());
const m = ts.map(function (t) { return t.item(); });
ts[0]!.numpy();
for (const t of ts) { const g = () => t.numpy(); }
const f = fn((x: Tensor) => { for (const t of ts) t.numpy(); return x; });
`)).toEqual(["main.ts:4 ST101", "main.ts:5 ST101", "main.ts:6 ST101", "main.ts:7 ST101", "main.ts:8 ST101", "main.ts:11 ST001"]);
  });
});

describe("ST102 fn placement", () => {
  it("flags fn(...) in loops and function bodies, not at top level or in class fields", () => {
    expect(lintOne(`
const top = fn((x: Tensor) => x);
for (let i = 0; i < 3; i++) { const s = fn((x: Tensor) => x); }
function make() { return fn((x: Tensor) => x); }
class M {
  step = fn((x: Tensor) => x);
  @fn() forward(x: Tensor) { return x; }
  constructor() { const s = fn((x: Tensor) => x); }
}
`)).toEqual(["main.ts:4 ST102", "main.ts:5 ST102", "main.ts:9 ST102"]);
  });
});

describe("suppressions, options, output", () => {
  it("honours symtensor-disable-next-line with and without codes", () => {
    expect(lintOne(`
const f = fn((x: Tensor) => {
  // symtensor-disable-next-line ST001 -- the test wants the value
  x.numpy();
  // symtensor-disable-next-line ST006, ST002
  console.log(+x);
  // symtensor-disable-next-line
  console.log(x.item());
  // symtensor-disable-next-line ST006
  console.log(x.numpy());
  x.numpy(); // symtensor-disable-line
  return x;
});
`)).toEqual(["main.ts:11 ST001"]);
  });

  it("rule overrides: off and severity changes", () => {
    const body = `const f = fn((x: Tensor) => { console.log(x.numpy()); return x; });\n`;
    const ds = lint({ "main.ts": IMPORT + body }, { rules: { ST001: "off", ST006: "error" } });
    expect(ds.map((d) => `${d.code} ${d.severity}`)).toEqual(["ST006 error"]);
    expect(lint({ "main.ts": IMPORT + body }).map((d) => `${d.code} ${d.severity}`)).toEqual(["ST006 warning", "ST001 error"]);
  });

  it("fills positions, help and sorts by file, line, col", () => {
    const ds = lint({
      "b.ts": IMPORT + `const f = fn((x: Tensor) => x.numpy());\n`,
      "a.ts": IMPORT + `if (tensor(1)) {}\n`,
    });
    expect(ds.map((d) => [path.basename(d.file), d.line, d.col, d.endLine, d.endCol, d.code])).toEqual([
      ["a.ts", 2, 5, 2, 14, "ST005"],
      ["b.ts", 2, 29, 2, 38, "ST001"],
    ]);
    expect(ds[0]!.file).toBe("/proj/app/a.ts");
    expect(ds[0]!.tracedVia).toBeUndefined();
    expect(ds[1]!.help).toContain("f(x).numpy()");
  });

  it("RULES lists every code with its default severity", () => {
    expect(RULES.map((r) => r.code)).toEqual(Object.keys(DEFAULT_SEVERITY));
    for (const r of RULES) expect(r.severity).toBe(DEFAULT_SEVERITY[r.code]);
  });
});

describe("lintFiles over real files and the real symtensor sources", () => {
  it("builds a program from a tsconfig and lints a directory", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "symtensor-lint-"));
    try {
      const src = path.resolve(__dirname, "../../src/index.ts");
      fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
        compilerOptions: { strict: true, target: "ES2022", module: "ESNext", moduleResolution: "bundler", noEmit: true, skipLibCheck: true, types: [], paths: { symtensor: [src] } },
        include: ["**/*.ts"],
      }));
      fs.mkdirSync(path.join(dir, "sub"));
      fs.writeFileSync(path.join(dir, "sub", "helper.ts"), `import type { Tensor } from "symtensor";\nexport function h(x: Tensor) { return x.item(); }\n`);
      fs.writeFileSync(path.join(dir, "main.ts"), `import { fn, reduceSum, type Tensor } from "symtensor";\nimport { h } from "./sub/helper.js";\nexport const f = fn((x: Tensor) => { h(x); return reduceSum(x).numpy(); });\n`);
      const t0 = performance.now();
      const ds = lintFiles([dir]);
      const ms = performance.now() - t0;
      expect(ds.map((d) => `${path.relative(dir, d.file)}:${d.line} ${d.code}`)).toEqual(["main.ts:3 ST001", "sub/helper.ts:2 ST001"]);
      expect(ds[1]!.tracedVia?.[1]).toBe("h");
      expect(ms).toBeLessThan(20_000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
