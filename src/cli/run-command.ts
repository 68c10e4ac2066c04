/**
 * `symtensor run <file.stir> --in a.npy ... [--out r.npy ...]` and `symtensor verify <file.stir>`:
 * IR text files, parsed, verified, and run by the reference interpreter.
 */
import { writeFileSync } from "node:fs";
import type { HostBuffer } from "../exec/backend.js";
import type { TensorType } from "../ir/types.js";
import { CliError, type CliIO, fsReason, isSymtensorError, readInputFile } from "./common.js";
import {
  dtypeInfo,
  DTypeError,
  FormatError,
  type Graph,
  interpret,
  IRVerifyError,
  NDArray,
  parse,
  ShapeError,
  ValueError,
  verify,
} from "./lib.js";

function fmtType(t: TensorType): string {
  return `${dtypeInfo(t.dtype).short}[${t.shape.join(",")}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ---- locating verify errors in the text -------------------------------------------------------

const NAME_CHAR = /[A-Za-z0-9_.$]/;

/** How IR text writes a value name: `%x`, or `%"a b"` when it needs quoting (as print.ts does). */
function printValueName(name: string): string {
  if (/^%[A-Za-z0-9_.$]+$/.test(name)) return name;
  return `%${JSON.stringify(name.startsWith("%") ? name.slice(1) : name)}`;
}

/** Columns (0-based) where `token` occurs in `line` as a whole value name. */
function occurrences(line: string, token: string): number[] {
  const cols: number[] = [];
  for (let i = line.indexOf(token); i >= 0; i = line.indexOf(token, i + 1)) {
    const next = line[i + token.length];
    if (token.endsWith('"') || next === undefined || !NAME_CHAR.test(next)) cols.push(i);
  }
  return cols;
}

/** The part of a line where values are defined: params (`%x: t`), `const %c: t`, results before `=`. */
function definesAt(line: string, col: number, token: string): boolean {
  const trimmed = line.trimStart();
  const after = line.slice(col + token.length).trimStart();
  if (trimmed.startsWith("func ") || trimmed.startsWith("^(")) return after.startsWith(":");
  if (trimmed.startsWith("const ")) return line.slice(0, col).trim() === "const";
  const eq = line.indexOf("=");
  const paren = line.indexOf("(");
  return eq >= 0 && col < eq && (paren < 0 || eq < paren);
}

/** The line (0-based) of each top-level node of the function, in order: what `@f#node3` counts. */
function topLevelNodeLines(lines: readonly string[]): number[] {
  const found: number[] = [];
  let depth = 0;
  lines.forEach((line, i) => {
    const code = stripComment(line);
    const head = code.trim();
    if (depth === 1 && head !== "" && !head.startsWith("const ") && !/^return\b/.test(head) && !head.startsWith("}")) found.push(i);
    depth += braceDelta(code);
  });
  return found;
}

/** The line without a trailing `//` comment (quoted strings may contain slashes and braces). */
function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "/" && line[i + 1] === "/") return line.slice(0, i);
  }
  return line;
}

function braceDelta(code: string): number {
  let delta = 0;
  let inString = false;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") delta++;
    else if (c === "}") delta--;
  }
  return delta;
}

function firstNonSpace(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * Where in `text` the thing an IRVerifyError blames is (1-based), so the error can point at it like
 * a parse error: verify() works on the graph, which has no text positions. A value is found at its
 * definition (a redefinition, rule "ssa", at the last one); `@f#node3` at the fourth top-level
 * node; a graph-level problem at `return` (undefined results) or at the function's name.
 */
function locate(text: string, err: IRVerifyError): { line: number; col: number } | undefined {
  const lines = text.split(/\r?\n/);
  const where = err.where;
  if (where.startsWith("@")) {
    const node = /#node(\d+)$/.exec(where);
    if (node) {
      const i = topLevelNodeLines(lines)[Number(node[1])];
      return i === undefined ? undefined : { line: i + 1, col: firstNonSpace(lines[i]!) + 1 };
    }
    const word = err.rule === "use-before-def" ? "return" : "func";
    const i = lines.findIndex((l) => new RegExp(`^\\s*${word}\\b`).test(l));
    if (i < 0) return undefined;
    const line = lines[i]!;
    return { line: i + 1, col: (word === "func" ? line.indexOf("@") : line.indexOf(word)) + 1 };
  }
  const token = printValueName(where);
  const defs: { line: number; col: number }[] = [];
  lines.forEach((line, i) => {
    for (const col of occurrences(line, token)) if (definesAt(line, col, token)) defs.push({ line: i + 1, col: col + 1 });
  });
  return err.rule === "ssa" ? defs[defs.length - 1] : defs[0];
}

/** The verify error again, now with `file:line:col:` and a caret line, as parse errors have. */
function withPosition(err: IRVerifyError, text: string, file: string): IRVerifyError {
  const prefix = `error ST302: ${err.where}: ${err.rule}: `;
  const summary = err.summary;
  if (!summary.startsWith(prefix)) return err;
  let detail = summary.slice(prefix.length);
  const pos = locate(text, err);
  if (pos) {
    // verify() shows the node in IR notation on the last line; the caret line now quotes the real text.
    const lines = detail.split("\n");
    const shown = lines[lines.length - 1]!.trim();
    const actual = text.split(/\r?\n/)[pos.line - 1]?.trim() ?? "";
    if (lines.length > 1 && shown !== "" && actual.startsWith(shown)) detail = lines.slice(0, -1).join("\n");
  }
  // Without a position, still name the file: line 1, and no caret pointing at an unrelated token.
  return pos ? new IRVerifyError(err.where, err.rule, detail, { ...pos, file }, text) : new IRVerifyError(err.where, err.rule, detail, { line: 1, col: 1, file });
}

/** Duck-typed: verify() may come from another copy of the library than this module's IRVerifyError. */
function isVerifyError(err: unknown): err is IRVerifyError {
  if (!isSymtensorError(err) || err.code !== "ST302") return false;
  const e = err as Partial<Record<"where" | "rule", unknown>>;
  return typeof e.where === "string" && typeof e.rule === "string";
}

/** Reads, parses and verifies an IR file; errors name the file, line and column. */
export function readGraph(file: string): { graph: Graph; text: string } {
  const text = readInputFile(file, "IR file").toString("utf8");
  const graph = parse(text, { file });
  try {
    verify(graph);
  } catch (err) {
    if (isVerifyError(err)) throw withPosition(err, text, file);
    throw err;
  }
  return { graph, text };
}

// ---- verify -------------------------------------------------------------------------------------

export function verifyCommand(file: string, io: CliIO): void {
  const { graph } = readGraph(file);
  const n = graph.nodes.length;
  io.out(`ok: @${graph.name} (${n} node${n === 1 ? "" : "s"})\n`);
}

// ---- run ----------------------------------------------------------------------------------------

export interface RunCommandOptions {
  in: string[];
  out: string[];
}

function readNpy(file: string): NDArray {
  const bytes = readInputFile(file, "input");
  try {
    return NDArray.fromNpy(new Uint8Array(bytes));
  } catch (err) {
    if (isSymtensorError(err) && err.code === "ST501") throw new FormatError(`${file}: ${err.summary}`);
    throw err;
  }
}

function signature(graph: Graph): string {
  return graph.params.map((p) => `${p.name}: ${fmtType(p.type)}`).join(", ");
}

/** Checks the .npy inputs against the graph's parameters, naming the parameter and the file. */
function checkInputs(graph: Graph, files: readonly string[], arrays: readonly NDArray[]): void {
  const n = graph.params.length;
  if (arrays.length !== n) {
    throw new ValueError(`run: @${graph.name} takes ${n} input${n === 1 ? "" : "s"} (${signature(graph)}), got ${arrays.length} (give one --in file.npy per parameter)`);
  }
  graph.params.forEach((p, i) => {
    const a = arrays[i]!;
    const got = fmtType({ dtype: a.dtype, shape: a.shape });
    const what = `run: input ${i + 1} (${files[i]}) for parameter ${p.name}`;
    if (a.dtype !== p.type.dtype) {
      const hint = `; convert it before saving, e.g. np.save(path, x.astype(np.${dtypeInfo(p.type.dtype).numpy}))`;
      throw new DTypeError(`${what} must be ${fmtType(p.type)}, got ${got}${hint}`);
    }
    if (!sameShape(a.shape, p.type.shape)) throw new ShapeError(`${what} must be ${fmtType(p.type)}, got ${got}`);
  });
}

export function runCommand(file: string, opts: RunCommandOptions, io: CliIO): void {
  const { graph } = readGraph(file);
  const arrays = opts.in.map(readNpy);
  checkInputs(graph, opts.in, arrays);
  const results = graph.results.length;
  if (opts.out.length > 0 && opts.out.length !== results) {
    throw new ValueError(`run: @${graph.name} returns ${results} result${results === 1 ? "" : "s"}, but ${opts.out.length} --out file${opts.out.length === 1 ? " was" : "s were"} given (one per result, or none to print them)`);
  }
  const inputs: HostBuffer[] = arrays.map((a) => ({ data: a.data, type: { dtype: a.dtype, shape: a.shape } }));
  const outputs = interpret(graph, inputs).map((b) => new NDArray(b.data, b.type.shape, b.type.dtype));
  if (opts.out.length === 0) {
    for (const a of outputs) io.out(`${a.toString()}\n`);
    return;
  }
  outputs.forEach((a, i) => {
    const path = opts.out[i]!;
    try {
      writeFileSync(path, a.toNpy());
    } catch (err) {
      throw new CliError(`cannot write ${JSON.stringify(path)}: ${fsReason(err)}`);
    }
  });
}
