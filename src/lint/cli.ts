/**
 * `symtensor lint [paths...]`: the command behind src/cli/main.ts, which loads this module lazily
 * (it pulls in the TypeScript compiler). It reports its own errors and returns the exit code:
 * 0 clean, 1 lint errors (or more warnings than --max-warnings), 2 a bad command line or project.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { lintFiles, RULES } from "./index.js";
import { formatJson, formatSarif, formatText, summarize } from "./format.js";
import type { LintCode, LintDiagnostic, LintOptions, RuleSetting } from "./types.js";

/** Where the command writes (structurally the CLI's CliIO; not imported, so the bundle stays apart). */
export interface LintIO {
  out(text: string): void;
  err(text: string): void;
}

export interface LintCommandOptions {
  readonly project?: string;
  readonly format?: string;
  readonly maxWarnings?: string;
  /** Repeated `CODE=off|warning|error`. */
  readonly rule?: readonly string[];
  /** Set by the CLI; SARIF records it. */
  readonly version?: string;
  /** Paths are resolved against, and printed relative to, this directory (default: process.cwd()). */
  readonly cwd?: string;
}

export const EXIT_CLEAN = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

/** A mistake on the command line: printed as `error: ...`, exit code 2. */
class UsageError extends Error {}

const SETTINGS: readonly RuleSetting[] = ["off", "warning", "error"];

/** Parses repeated `--rule ST101=off` into the core's rule overrides. */
export function parseRuleArgs(args: readonly string[]): Partial<Record<LintCode, RuleSetting>> {
  const known = new Set<string>(RULES.map((r) => r.code));
  const rules: Partial<Record<LintCode, RuleSetting>> = {};
  for (const arg of args) {
    const m = /^\s*(ST\d{3})\s*=\s*(\w+)\s*$/i.exec(arg);
    if (!m) throw new UsageError(`--rule ${JSON.stringify(arg)}: expected CODE=off|warning|error, e.g. --rule ST101=off`);
    const code = m[1]!.toUpperCase();
    const setting = m[2]!.toLowerCase() === "warn" ? "warning" : m[2]!.toLowerCase();
    if (!known.has(code)) throw new UsageError(`--rule ${JSON.stringify(arg)}: unknown rule ${code} (the rules: ${[...known].join(", ")})`);
    if (!(SETTINGS as readonly string[]).includes(setting)) throw new UsageError(`--rule ${JSON.stringify(arg)}: unknown setting ${JSON.stringify(m[2])} (use off, warning or error)`);
    rules[code as LintCode] = setting as RuleSetting;
  }
  return rules;
}

function parseMaxWarnings(value: string | undefined): number {
  if (value === undefined) return Infinity;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < -1) throw new UsageError(`--max-warnings ${JSON.stringify(value)}: expected a non-negative integer (or -1 for no limit)`);
  return n === -1 ? Infinity : n;
}

function parseFormat(value: string | undefined): "text" | "json" | "sarif" {
  const format = value ?? "text";
  if (format !== "text" && format !== "json" && format !== "sarif") throw new UsageError(`--format ${JSON.stringify(format)}: expected text, json or sarif`);
  return format;
}

/** Runs the linter as the command line asks and writes the report; returns the exit code. */
export function lintCommand(paths: readonly string[], opts: LintCommandOptions, io: LintIO): number {
  const cwd = opts.cwd ?? process.cwd();
  let diagnostics: LintDiagnostic[];
  let maxWarnings: number;
  let format: "text" | "json" | "sarif";
  try {
    format = parseFormat(opts.format);
    maxWarnings = parseMaxWarnings(opts.maxWarnings);
    const rules = parseRuleArgs(opts.rule ?? []);
    const targets = (paths.length > 0 ? paths : ["."]).map((p) => resolve(cwd, p));
    for (const [i, t] of targets.entries()) {
      if (!existsSync(t)) throw new UsageError(`no such file or directory: ${paths[i] ?? "."}`);
    }
    const project = opts.project === undefined ? undefined : resolve(cwd, opts.project);
    if (project !== undefined && !existsSync(project)) throw new UsageError(`--project ${opts.project}: no such file`);
    const options: LintOptions & { project?: string } = project === undefined ? { rules } : { rules, project };
    diagnostics = lintFiles(targets, options);
  } catch (err) {
    io.err(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_USAGE;
  }

  if (format === "json") io.out(formatJson(diagnostics));
  else if (format === "sarif") io.out(formatSarif(diagnostics, RULES, opts.version === undefined ? { cwd } : { cwd, version: opts.version }));
  else io.out(formatText(diagnostics, { cwd }));

  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (errors > 0) return EXIT_PROBLEMS;
  if (warnings > maxWarnings) {
    io.err(`symtensor lint: ${summarize(diagnostics)}: more than --max-warnings ${maxWarnings}\n`);
    return EXIT_PROBLEMS;
  }
  return EXIT_CLEAN;
}
