/**
 * Output formats of `symtensor lint`: text (with code frames), JSON, and SARIF 2.1.0 for code
 * scanning services. Pure functions of the diagnostics: the caller supplies file text and cwd.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";
import type { LintCode, LintDiagnostic, Severity } from "./types.js";

/** What SARIF needs to know about a rule; the core's RULES table has this shape. */
export interface RuleDescription {
  readonly code: LintCode;
  readonly severity: Severity;
  readonly description: string;
}

export interface FormatOptions {
  /** Paths are printed relative to this directory (default: process.cwd()). */
  readonly cwd?: string;
  /** The text of a file, for code frames; default: read it from disk (undefined when unreadable). */
  readonly readSource?: (file: string) => string | undefined;
}

/** A path as printed: relative to cwd, with forward slashes (also on Windows). */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = isAbsolute(file) ? relative(cwd, file) : file;
  return (rel === "" ? "." : rel).split(sep).join("/");
}

/** "2 errors, 1 warning"; "no problems" when there are none. */
export function summarize(diagnostics: readonly LintDiagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (errors === 0 && warnings === 0) return "no problems";
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
}

function defaultReader(): (file: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      let text: string | undefined;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        text = undefined;
      }
      cache.set(file, text);
    }
    return cache.get(file);
  };
}

/**
 * The offending line with carets under the expression (to the end of the line when the expression
 * spans lines). The caret line copies the source's tabs so the carets line up in any tab width.
 */
export function codeFrame(source: string, d: Pick<LintDiagnostic, "line" | "col" | "endLine" | "endCol">): string | undefined {
  const lines = source.split(/\r\n|\r|\n/);
  const text = lines[d.line - 1];
  if (text === undefined) return undefined;
  const start = Math.min(Math.max(d.col - 1, 0), text.length);
  const end = d.endLine === d.line ? Math.min(Math.max(d.endCol - 1, start + 1), Math.max(text.length, start + 1)) : Math.max(text.length, start + 1);
  const gutter = String(d.line);
  const pad = " ".repeat(gutter.length);
  const indent = text.slice(0, start).replace(/[^\t]/g, " ");
  return `  ${gutter} | ${text}\n  ${pad} | ${indent}${"^".repeat(end - start)}`;
}

/**
 * The human format, one block per diagnostic:
 *   src/a.ts:12:7 error ST001 `.numpy()` of a symbolic tensor ...
 *     via: trainStep (src/train.ts:10) -> loss
 *     12 |   return x.numpy();
 *        |          ^^^^^^^^^
 *     help: Convert the traced function's result instead: f(x).numpy().
 * then a blank line and the summary line.
 */
export function formatText(diagnostics: readonly LintDiagnostic[], options: FormatOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const read = options.readSource ?? defaultReader();
  const blocks = diagnostics.map((d) => {
    const lines = [`${displayPath(d.file, cwd)}:${d.line}:${d.col} ${d.severity} ${d.code} ${d.message}`];
    // A chain of one is the traced function itself, which the message already names.
    if (d.tracedVia !== undefined && d.tracedVia.length > 1) lines.push(`  via: ${d.tracedVia.join(" -> ")}`);
    const source = read(d.file);
    const frame = source === undefined ? undefined : codeFrame(source, d);
    if (frame !== undefined) lines.push(frame);
    if (d.help !== "") lines.push(`  help: ${d.help}`);
    return lines.join("\n") + "\n";
  });
  return [...blocks, `${summarize(diagnostics)}\n`].join("\n");
}

/** The diagnostics array as JSON (paths stay absolute: a machine reads this). */
export function formatJson(diagnostics: readonly LintDiagnostic[]): string {
  return JSON.stringify(diagnostics, null, 2) + "\n";
}

/** The documentation anchor of a rule, relative to the package root. */
export function ruleHelpUri(code: LintCode): string {
  return `docs/lint.md#${code.toLowerCase()}`;
}

/** SARIF 2.1.0, the format GitHub code scanning (and other services) ingest. */
export function toSarif(diagnostics: readonly LintDiagnostic[], rules: readonly RuleDescription[], options: Pick<FormatOptions, "cwd"> & { readonly version?: string } = {}): SarifLog {
  const cwd = options.cwd ?? process.cwd();
  const index = new Map(rules.map((r, i) => [r.code, i] as const));
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "symtensor",
            ...(options.version !== undefined ? { version: options.version } : {}),
            rules: rules.map((r) => ({
              id: r.code,
              shortDescription: { text: r.description },
              helpUri: ruleHelpUri(r.code),
              defaultConfiguration: { level: r.severity },
            })),
          },
        },
        results: diagnostics.map((d) => ({
          ruleId: d.code,
          ...(index.has(d.code) ? { ruleIndex: index.get(d.code)! } : {}),
          level: d.severity,
          message: { text: d.help === "" ? d.message : `${d.message}. ${d.help}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: displayPath(d.file, cwd), uriBaseId: "%SRCROOT%" },
                region: { startLine: d.line, startColumn: d.col, endLine: d.endLine, endColumn: d.endCol },
              },
            },
          ],
          ...(d.tracedVia !== undefined ? { properties: { tracedVia: d.tracedVia } } : {}),
        })),
      },
    ],
  };
}

export function formatSarif(diagnostics: readonly LintDiagnostic[], rules: readonly RuleDescription[], options: Pick<FormatOptions, "cwd"> & { readonly version?: string } = {}): string {
  return JSON.stringify(toSarif(diagnostics, rules, options), null, 2) + "\n";
}

/** The subset of SARIF 2.1.0 that symtensor writes. */
export interface SarifLog {
  readonly $schema: string;
  readonly version: "2.1.0";
  readonly runs: readonly {
    readonly tool: {
      readonly driver: {
        readonly name: string;
        readonly version?: string;
        readonly rules: readonly {
          readonly id: string;
          readonly shortDescription: { readonly text: string };
          readonly helpUri: string;
          readonly defaultConfiguration: { readonly level: Severity };
        }[];
      };
    };
    readonly results: readonly {
      readonly ruleId: string;
      readonly ruleIndex?: number;
      readonly level: Severity;
      readonly message: { readonly text: string };
      readonly locations: readonly {
        readonly physicalLocation: {
          readonly artifactLocation: { readonly uri: string; readonly uriBaseId: string };
          readonly region: { readonly startLine: number; readonly startColumn: number; readonly endLine: number; readonly endColumn: number };
        };
      }[];
      readonly properties?: { readonly tracedVia: readonly string[] };
    }[];
  }[];
}
