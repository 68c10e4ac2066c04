/**
 * A FileCheck in the style of LLVM/MLIR, for IR-text tests of passes.
 *
 * A `.stir` test file holds IR and directives in `//` comments (which the IR parser ignores):
 *
 *   // RUN: canonicalize,cse
 *   // CHECK-LABEL: func @f
 *   // CHECK:       %[[X:[0-9]+]] = neg(%arg0)
 *   // CHECK-NEXT:  return %[[X]]
 *   // CHECK-NOT:   add
 *   func @f(%arg0: f32[3]) -> (f32[3]) { ... }
 *
 * - `RUN:` lists the passes, comma-separated, then options: `--fold-limit=N`, `--no-fold` (no
 *   evaluator: folding is off), `--check-prefix=P` (match the `P:` directives instead of `CHECK:`).
 *   Several RUN lines run the file several times, each usually with its own prefix.
 * - A line `// -----` splits the file into independent functions (MLIR's --split-input-file);
 *   each is parsed, optimized (with verifyEach) and printed without locations, and the outputs are
 *   joined with `// -----` lines before matching.
 * - Directives: CHECK (somewhere after the previous match), CHECK-NEXT (on the next line),
 *   CHECK-SAME (on the same line, after the previous match), CHECK-EMPTY (the next line is empty),
 *   CHECK-NOT (not between the previous match and the next one, or the end), CHECK-LABEL (matched
 *   first; splits the output into blocks that the other directives cannot cross).
 * - Patterns are literal substrings; a run of spaces matches any run of spaces and tabs; `{{re}}`
 *   is a regular expression; `[[NAME:re]]` captures what `re` matched and `[[NAME]]` matches it
 *   again later (literally). A `[[` that does not start such a block is literal text, so nested
 *   IR literals (`dense<[[0, 1]]>`) need no escaping.
 */
import { readFileSync } from "node:fs";
import { cpuBackend } from "../../src/exec/cpu/backend.js";
import "../../src/exec/cpu/kernels/index.js";
import type { Graph } from "../../src/ir/graph.js";
import { parse } from "../../src/ir/parse.js";
import { getPass, parsePipeline, runPasses } from "../../src/ir/passes/index.js";
import type { PassContext } from "../../src/ir/passes/pass.js";
import { print } from "../../src/ir/print.js";

export type CheckKind = "CHECK" | "CHECK-NEXT" | "CHECK-SAME" | "CHECK-EMPTY" | "CHECK-NOT" | "CHECK-LABEL";

export interface CheckDirective {
  readonly kind: CheckKind;
  readonly pattern: string;
  /** 1-based line in the check file. */
  readonly line: number;
}

/** A failed check or a malformed test file. */
export class FileCheckError extends Error {
  override readonly name = "FileCheckError";
}

const SUFFIXES = ["", "-NEXT", "-SAME", "-EMPTY", "-NOT", "-LABEL"] as const;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The directives with `prefix` in `text`, in order. A misspelled suffix (`CHECK-NXT:`) is an error, not a silent skip. */
export function parseCheckDirectives(text: string, prefix = "CHECK", file = "<checks>"): CheckDirective[] {
  const out: CheckDirective[] = [];
  const head = new RegExp(`^\\s*//\\s*${escapeRegExp(prefix)}([-A-Za-z]*)\\s*:(.*)$`);
  text.split(/\r?\n/).forEach((line, i) => {
    const m = head.exec(line);
    if (!m) return;
    const suffix = m[1]!;
    if (!(SUFFIXES as readonly string[]).includes(suffix)) {
      throw new FileCheckError(`${file}:${i + 1}: unknown directive ${prefix}${suffix}: (expected one of ${SUFFIXES.map((s) => prefix + s).join(", ")})`);
    }
    const kind = `CHECK${suffix}` as CheckKind;
    const pattern = m[2]!.trim();
    if (pattern === "" && kind !== "CHECK-EMPTY") throw new FileCheckError(`${file}:${i + 1}: ${prefix}${suffix}: has an empty pattern`);
    out.push({ kind, pattern, line: i + 1 });
  });
  return out;
}

// ---- patterns ----------------------------------------------------------------------------------

interface CompiledPattern {
  readonly regex: RegExp;
  /** Regex group name -> variable name, for the captures this pattern defines. */
  readonly captures: ReadonlyMap<string, string>;
}

/** Where a `{{...}}` or `[[...]]` block ends: the closing pair at bracket depth 0. */
function blockEnd(p: string, from: number, open: string, close: string): number {
  let depth = 0;
  for (let i = from; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\\") {
      i++;
    } else if (c === open) {
      depth++;
    } else if (c === close) {
      if (depth > 0) depth--;
      else if (p[i + 1] === close) return i;
    }
  }
  return -1;
}

function checkRegex(source: string, where: string): void {
  try {
    new RegExp(source);
  } catch (err) {
    throw new FileCheckError(`${where}: invalid regular expression {{${source}}}: ${(err as Error).message}`);
  }
}

export function compilePattern(pattern: string, vars: ReadonlyMap<string, string>, where = "<pattern>"): CompiledPattern {
  let source = "";
  const captures = new Map<string, string>();
  const local = new Map<string, string>();
  let i = 0;
  while (i < pattern.length) {
    if (pattern.startsWith("{{", i)) {
      const end = blockEnd(pattern, i + 2, "{", "}");
      if (end < 0) throw new FileCheckError(`${where}: unterminated {{ in pattern ${JSON.stringify(pattern)}`);
      const re = pattern.slice(i + 2, end);
      checkRegex(re, where);
      source += `(?:${re})`;
      i = end + 2;
    } else if (pattern.startsWith("[[", i) && /^\[\[[A-Za-z_][A-Za-z0-9_]*(:|\]\])/.test(pattern.slice(i))) {
      const end = blockEnd(pattern, i + 2, "[", "]");
      if (end < 0) throw new FileCheckError(`${where}: unterminated [[ in pattern ${JSON.stringify(pattern)}`);
      const body = pattern.slice(i + 2, end);
      const def = /^([A-Za-z_][A-Za-z0-9_]*):(.*)$/s.exec(body);
      if (def) {
        const [, name, re] = def as unknown as [string, string, string];
        if (local.has(name)) throw new FileCheckError(`${where}: variable [[${name}]] is defined twice in one pattern`);
        checkRegex(re, where);
        const group = `v${captures.size}_${name}`;
        captures.set(group, name);
        local.set(name, group);
        source += `(?<${group}>${re})`;
      } else {
        const group = local.get(body);
        const value = vars.get(body);
        if (group) source += `\\k<${group}>`;
        else if (value !== undefined) source += escapeRegExp(value);
        else throw new FileCheckError(`${where}: variable [[${body}]] is used before any pattern defines it`);
      }
      i = end + 2;
    } else if (/[ \t]/.test(pattern[i]!)) {
      while (i < pattern.length && /[ \t]/.test(pattern[i]!)) i++;
      source += "[ \\t]+";
    } else {
      source += escapeRegExp(pattern[i]!);
      i++;
    }
  }
  return { regex: new RegExp(source, "g"), captures };
}

// ---- matching ----------------------------------------------------------------------------------

/** A position in the output: line index (0-based) and column. */
interface Pos {
  readonly line: number;
  readonly col: number;
}

interface Match {
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly groups: Readonly<Record<string, string>>;
}

function outputLines(output: string): string[] {
  const lines = output.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

class Matcher {
  private readonly vars = new Map<string, string>();

  constructor(
    private readonly lines: readonly string[],
    private readonly file: string,
  ) {}

  /** The first match of `d` at or after `from` and before line `endLine` (exclusive). */
  search(d: CheckDirective, from: Pos, endLine: number): Match | undefined {
    const { regex } = compilePattern(d.pattern, this.vars, this.where(d));
    for (let l = from.line; l < endLine; l++) {
      const text = this.lines[l]!;
      regex.lastIndex = l === from.line ? from.col : 0;
      const m = regex.exec(text);
      if (m) return { line: l, start: m.index, end: m.index + m[0].length, groups: m.groups ?? {} };
    }
    return undefined;
  }

  bind(d: CheckDirective, m: Match): void {
    const { captures } = compilePattern(d.pattern, this.vars, this.where(d));
    for (const [group, name] of captures) this.vars.set(name, m.groups[group] ?? "");
  }

  where(d: CheckDirective): string {
    return `${this.file}:${d.line}`;
  }

  fail(d: CheckDirective, problem: string, highlight: number[]): never {
    const width = String(this.lines.length).length;
    const listing = this.lines.map((text, i) => `${highlight.includes(i) ? ">" : " "} ${String(i + 1).padStart(width)} | ${text}`).join("\n");
    throw new FileCheckError(`${this.where(d)}: ${d.kind}: ${d.pattern}\n  ${problem}\noutput:\n${listing}`);
  }

  /** No CHECK-NOT pattern occurs in [from, to). */
  checkNots(nots: readonly CheckDirective[], from: Pos, to: Pos): void {
    for (const d of nots) {
      const m = this.search(d, from, to.line + 1);
      if (!m) continue;
      if (m.line > to.line || (m.line === to.line && m.end > to.col)) continue;
      this.fail(d, `excluded pattern found on output line ${m.line + 1}: ${this.lines[m.line]}`, [m.line]);
    }
  }

  /** Matches the directives of one block (between two labels) within lines [begin, endLine). */
  block(directives: readonly CheckDirective[], begin: Pos, endLine: number, previousLine: number | undefined): void {
    let pos = begin;
    let lastLine = previousLine;
    let nots: CheckDirective[] = [];
    for (const d of directives) {
      if (d.kind === "CHECK-NOT") {
        nots.push(d);
        continue;
      }
      if ((d.kind === "CHECK-NEXT" || d.kind === "CHECK-SAME" || d.kind === "CHECK-EMPTY") && lastLine === undefined) {
        throw new FileCheckError(`${this.where(d)}: ${d.kind} cannot be the first directive`);
      }
      let m: Match | undefined;
      if (d.kind === "CHECK-EMPTY") {
        const l = lastLine! + 1;
        if (l >= endLine || this.lines[l] !== "") {
          this.fail(d, `expected an empty line after output line ${lastLine! + 1}, found ${l < this.lines.length ? JSON.stringify(this.lines[l]) : "the end of the output"}`, [lastLine!, l]);
        }
        m = { line: l, start: 0, end: 0, groups: {} };
      } else {
        const from = d.kind === "CHECK-NEXT" ? { line: lastLine! + 1, col: 0 } : pos;
        const limit = d.kind === "CHECK-SAME" ? lastLine! + 1 : d.kind === "CHECK-NEXT" ? Math.min(lastLine! + 2, endLine) : endLine;
        m = this.search(d, from, limit);
        if (!m) {
          const anywhere = d.kind === "CHECK" ? undefined : this.search(d, pos, endLine);
          const detail =
            d.kind === "CHECK-NEXT"
              ? anywhere
                ? `found on output line ${anywhere.line + 1}, not on the line after the previous match (line ${lastLine! + 1})`
                : `not found on the line after the previous match (line ${lastLine! + 1})`
              : d.kind === "CHECK-SAME"
                ? `not found on the same line as the previous match (line ${lastLine! + 1}) after column ${pos.col + 1}`
                : `expected pattern not found from output line ${pos.line + 1} to ${endLine}`;
          this.fail(d, detail, lastLine === undefined ? [] : [lastLine]);
        }
      }
      this.checkNots(nots, pos, { line: m.line, col: m.start });
      nots = [];
      this.bind(d, m);
      pos = { line: m.line, col: m.end };
      lastLine = m.line;
    }
    this.checkNots(nots, pos, { line: endLine - 1, col: Number.MAX_SAFE_INTEGER });
  }
}

/**
 * Checks `output` against the directives (or the check file text they are parsed from); throws a
 * FileCheckError naming the failed directive, with the output listed, when it does not match.
 */
export function fileCheck(output: string, checks: string | readonly CheckDirective[], options: { file?: string; prefix?: string } = {}): void {
  const file = options.file ?? "<checks>";
  const prefix = options.prefix ?? "CHECK";
  const directives = typeof checks === "string" ? parseCheckDirectives(checks, prefix, file) : checks;
  if (directives.length === 0) throw new FileCheckError(`${file}: no ${prefix}: directives found`);
  const lines = outputLines(output);
  const matcher: Matcher = new Matcher(lines, file);

  // Labels first: each is searched after the previous one and bounds the blocks between them.
  const labels: { d: CheckDirective; m: Match; index: number }[] = [];
  let from: Pos = { line: 0, col: 0 };
  directives.forEach((d, index) => {
    if (d.kind !== "CHECK-LABEL") return;
    const m = matcher.search(d, from, lines.length);
    if (!m) matcher.fail(d, `label not found from output line ${from.line + 1}`, []);
    matcher.bind(d, m);
    labels.push({ d, m, index });
    from = { line: m.line, col: m.end };
  });

  let start = 0;
  let begin: Pos = { line: 0, col: 0 };
  let previousLine: number | undefined;
  for (let k = 0; k <= labels.length; k++) {
    const label = labels[k];
    const end = label ? label.index : directives.length;
    const endLine = label ? label.m.line : lines.length;
    // The directives between two labels match strictly between the labels' lines.
    matcher.block(directives.slice(start, end), begin, endLine, previousLine);
    if (!label) break;
    start = label.index + 1;
    begin = { line: label.m.line, col: label.m.end };
    previousLine = label.m.line;
  }
}

// ---- .stir test files --------------------------------------------------------------------------

export interface RunLine {
  readonly passes: string[];
  readonly prefix: string;
  readonly foldLimit?: number;
  readonly fold: boolean;
}

/** The `// RUN:` lines of a test file. */
export function parseRunLines(text: string, file = "<test>"): RunLine[] {
  const runs: RunLine[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /^\s*\/\/\s*RUN:(.*)$/.exec(line);
    if (!m) return;
    const words = m[1]!.trim().split(/\s+/).filter((w) => w !== "");
    let prefix = "CHECK";
    let foldLimit: number | undefined;
    let fold = true;
    const passes: string[] = [];
    for (const w of words) {
      const opt = /^--([a-z-]+)(?:=(.*))?$/.exec(w);
      if (!opt) {
        passes.push(...parsePipeline(w));
        continue;
      }
      const [, name, value] = opt;
      if (name === "check-prefix" && value && /^[A-Z][A-Z0-9_]*$/.test(value)) prefix = value;
      else if (name === "fold-limit" && value !== undefined && /^\d+$/.test(value)) foldLimit = Number(value);
      else if (name === "no-fold" && value === undefined) fold = false;
      else throw new FileCheckError(`${file}:${i + 1}: unknown or malformed RUN option ${w} (expected --check-prefix=NAME, --fold-limit=N, --no-fold)`);
    }
    for (const p of passes) {
      try {
        getPass(p);
      } catch (err) {
        throw new FileCheckError(`${file}:${i + 1}: ${(err as Error).message.split("\n")[0]}`);
      }
    }
    runs.push({ passes, prefix, fold, ...(foldLimit !== undefined ? { foldLimit } : {}) });
  });
  if (runs.length === 0) throw new FileCheckError(`${file}: no // RUN: line`);
  return runs;
}

/** Constant folding through the CPU kernels, as the CLI and fn() do it. */
export const evaluateOnCpu: NonNullable<PassContext["evaluate"]> = (op, inputs, attrs, outTypes) => cpuBackend.execute(op, inputs, attrs, outTypes);

const SPLIT = /^\s*\/\/ -----\s*$/;

/**
 * The chunks of a split file, each as the whole file with the other chunks' lines blanked, so
 * parse errors keep the file's line numbers.
 */
export function splitInput(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const bounds: number[] = [];
  lines.forEach((l, i) => {
    if (SPLIT.test(l)) bounds.push(i);
  });
  const chunks: string[] = [];
  let start = 0;
  for (const b of [...bounds, lines.length]) {
    chunks.push(lines.map((l, i) => (i >= start && i < b ? l : "")).join("\n"));
    start = b + 1;
  }
  return chunks;
}

/** Parses, optimizes and prints each chunk of a test file under one RUN line. */
export function runPipelineOnText(text: string, run: RunLine, file = "<test>"): { output: string; graphs: Graph[] } {
  const graphs: Graph[] = [];
  const outputs: string[] = [];
  for (const chunk of splitInput(text)) {
    const input = parse(chunk, { file });
    const { graph } = runPasses(input, run.passes, {
      verifyEach: true,
      ...(run.fold ? { evaluate: evaluateOnCpu } : {}),
      ...(run.foldLimit !== undefined ? { foldLimit: run.foldLimit } : {}),
    });
    graphs.push(graph);
    outputs.push(print(graph, { loc: false }));
  }
  return { output: outputs.join("// -----\n"), graphs };
}

/** Runs a .stir test: every RUN line, each checked against its prefix's directives. Throws FileCheckError on a mismatch. */
export function runFileCheckTest(path: string): void {
  const text = readFileSync(path, "utf8");
  for (const run of parseRunLines(text, path)) {
    const { output } = runPipelineOnText(text, run, path);
    fileCheck(output, text, { file: path, prefix: run.prefix });
  }
}
