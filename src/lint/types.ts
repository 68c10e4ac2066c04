/**
 * The linter's public types: what `symtensor lint`, the ESLint plugin and tests share. The linter
 * stands alone: it imports only the TypeScript compiler API and src/guidance.ts.
 */
import type { GuidanceCode } from "../guidance.js";

export type LintCode = "ST001" | "ST002" | "ST003" | "ST005" | "ST006" | "ST101" | "ST102";
export type Severity = "error" | "warning";
export type RuleSetting = Severity | "off";

export interface LintDiagnostic {
  readonly code: LintCode & GuidanceCode;
  readonly severity: Severity;
  /** Absolute path of the file. */
  readonly file: string;
  /** 1-based line and column of the start, and of the end, of the offending expression. */
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
  /** One line: what is wrong, e.g. "`.numpy()` of a tensor in traced code". */
  readonly message: string;
  /** For diagnostics in traced scope: how the function is reached, e.g. ["trainStep (src/train.ts:10)", "loss", "accuracy"]. */
  readonly tracedVia?: readonly string[];
  /** The fix, from src/guidance.ts. */
  readonly help: string;
}

export interface LintOptions {
  /** Per-code overrides: { ST101: "off", ST006: "error" }. */
  readonly rules?: Partial<Record<LintCode, RuleSetting>>;
}

export const DEFAULT_SEVERITY: Readonly<Record<LintCode, Severity>> = {
  ST001: "error",
  ST002: "error",
  ST003: "error",
  ST005: "error",
  ST006: "warning",
  ST101: "warning",
  ST102: "warning",
};
