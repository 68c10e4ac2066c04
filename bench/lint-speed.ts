/**
 * How long `symtensor lint` takes on a 10,000-line project: generates a synthetic one in a temp
 * directory (modules with traced functions, @fn() methods, call chains across files, eager
 * constants, training loops, and a known number of planted violations), times `lintFiles` over
 * it (the whole job: building the TypeScript program, type checking, analysis), and writes
 * bench/results/lint-speed.json. Target: under 5 s. Run: npx tsx bench/lint-speed.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { lintFiles } from "../src/lint/index.js";
import type { LintCode } from "../src/lint/types.js";

const ROOT = resolve(import.meta.dirname, "..");
const MODULES = 50;
const CHAIN = 8; // helpers per module, each calling the next: the call graph the core walks
const TARGET_MS = 5000;
const REPS = 3;

/** One module of about 200 lines; `k` picks which violations it plants. */
function moduleSource(k: number): { text: string; planted: LintCode[] } {
  const planted: LintCode[] = [];
  const out: string[] = [];
  out.push(`import { add, fn, matmul, mul, reduceMean, reduceSum, relu, softmax, tensor, type Tensor } from "symtensor";`);
  if (k > 0) out.push(`import { helper${k - 1}_0 } from "./mod${k - 1}.js";`);
  out.push("");
  out.push(`/** An eager constant closed over by traced code: converting it is legal. */`);
  out.push(`const W${k} = tensor([[1, 2], [3, 4]]);`);
  out.push(`const SCALE${k} = ${k + 1};`);
  out.push("");
  for (let i = 0; i < CHAIN; i++) {
    const next = i + 1 < CHAIN ? `helper${k}_${i + 1}(z)` : k > 0 ? `helper${k - 1}_0(z)` : "z";
    out.push(`export function helper${k}_${i}(x: Tensor): Tensor {`);
    out.push(`  const y = relu(add(x, ${i}));`);
    out.push(`  const z = mul(y, SCALE${k});`);
    out.push(`  const note = \`helper ${i} of module ${k}: \${z.shape.join("x")}\`;`);
    out.push(`  if (note.length > 1000) throw new Error(note);`);
    // The last helper of every fifth module converts: ST001, reached through the chain.
    if (i === CHAIN - 1 && k % 5 === 0) {
      out.push(`  const host = z.numpy();`);
      planted.push("ST001");
      out.push(`  if (host.size < 0) throw new Error("unreachable");`);
    }
    out.push(`  return ${next};`);
    out.push(`}`);
    out.push("");
  }
  out.push(`export const step${k} = fn((x: Tensor, w: Tensor) => {`);
  out.push(`  const h = matmul(x, w);`);
  out.push(`  const y = helper${k}_0(h);`);
  out.push(`  const c = W${k}.numpy();`);
  out.push(`  if (c.size === 0) throw new Error("empty constant");`);
  if (k % 7 === 3) {
    out.push(`  console.log("tracing step${k}");`);
    planted.push("ST006");
  }
  if (k % 10 === 4) {
    out.push(`  const bad = y.item() > 0;`);
    planted.push("ST001");
    out.push(`  if (bad) return y;`);
  }
  out.push(`  return softmax(add(y, W${k}), -1);`);
  out.push(`});`);
  out.push("");
  out.push(`export class Model${k} {`);
  out.push(`  w = tensor([[0.5, 0.5], [0.25, 0.75]]);`);
  out.push(`  @fn()`);
  out.push(`  forward(x: Tensor): Tensor {`);
  out.push(`    const h = matmul(x, this.w);`);
  if (k % 9 === 2) {
    out.push(`    if (h) return h;`);
    planted.push("ST005");
  }
  out.push(`    return helper${k}_${CHAIN - 2}(h);`);
  out.push(`  }`);
  out.push(`}`);
  out.push("");
  out.push(`export function train${k}(batches: Tensor[]): number {`);
  out.push(`  let total = 0;`);
  out.push(`  for (const x of batches) {`);
  out.push(`    const y = step${k}(x, W${k});`);
  if (k % 4 === 1) {
    out.push(`    total += reduceMean(y).item();`);
    planted.push("ST101");
  } else {
    out.push(`    total += y.shape.length;`);
  }
  out.push(`  }`);
  out.push(`  return total + reduceSum(W${k}).item();`);
  out.push(`}`);
  out.push("");
  // Plain code, as real projects have around their models: the checker still reads it all.
  let n = 0;
  while (out.length < 200) {
    out.push(`export function util${k}_${n}(values: readonly number[], label: string): { label: string; mean: number } {`);
    out.push(`  let sum = 0;`);
    out.push(`  for (const v of values) sum += v * ${n + 1};`);
    out.push(`  const mean = values.length === 0 ? 0 : sum / values.length;`);
    out.push(`  return { label: \`\${label}-${n}\`, mean };`);
    out.push(`}`);
    out.push("");
    n++;
  }
  return { text: out.join("\n") + "\n", planted };
}

function generate(dir: string): { lines: number; planted: Record<string, number> } {
  const planted: Record<string, number> = {};
  let lines = 0;
  mkdirSync(join(dir, "src"), { recursive: true });
  for (let k = 0; k < MODULES; k++) {
    const m = moduleSource(k);
    writeFileSync(join(dir, "src", `mod${k}.ts`), m.text);
    lines += m.text.split("\n").length - 1;
    for (const c of m.planted) planted[c] = (planted[c] ?? 0) + 1;
  }
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "Bundler",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      paths: { symtensor: [join(ROOT, "src/index.ts")] },
    },
    include: ["src/**/*.ts"],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  return { lines, planted };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), "symtensor-lint-speed-"));
try {
  const { lines, planted } = generate(dir);
  const times: number[] = [];
  let found: Record<string, number> = {};
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const diagnostics = lintFiles([join(dir, "src")], { project: join(dir, "tsconfig.json") });
    times.push(performance.now() - t0);
    found = {};
    for (const d of diagnostics) found[d.code] = (found[d.code] ?? 0) + 1;
  }
  const med = median(times);
  const result = {
    what: "lintFiles over a generated project (program creation, type checking, analysis), median of runs",
    files: MODULES,
    lines,
    runsMs: times.map((t) => Math.round(t)),
    medianMs: Math.round(med),
    targetMs: TARGET_MS,
    withinTarget: med < TARGET_MS,
    planted,
    found,
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    date: new Date().toISOString(),
  };
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(join(ROOT, "bench/results/lint-speed.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(`${MODULES} files, ${lines} lines: median ${result.medianMs} ms (runs ${result.runsMs.join(", ")} ms; target < ${TARGET_MS} ms)`);
  console.log(`planted ${JSON.stringify(planted)}, found ${JSON.stringify(found)}`);
  const same = Object.keys({ ...planted, ...found }).every((c) => planted[c] === found[c]);
  if (!same) console.log("note: the diagnostics found differ from the planted ones (see above)");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
