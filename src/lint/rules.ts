/** The lint rules: one row per code, for `symtensor lint --list`, docs and the ESLint plugin. */
import type { LintCode, LintOptions, Severity } from "./types.js";
import { DEFAULT_SEVERITY } from "./types.js";

export { DEFAULT_SEVERITY };

export interface RuleInfo {
  readonly code: LintCode;
  readonly severity: Severity;
  /** One line: what the rule finds. */
  readonly description: string;
}

export const RULES: readonly RuleInfo[] = [
  { code: "ST001", severity: DEFAULT_SEVERITY.ST001, description: "host conversion (.numpy(), .item(), .tolist(), .numpyAsync(), .data()) of a symbolic tensor in traced code" },
  { code: "ST002", severity: DEFAULT_SEVERITY.ST002, description: "a symbolic tensor coerced to a JS number (Number(t), +t, arithmetic or relational operators, Math.*) in traced code" },
  { code: "ST003", severity: DEFAULT_SEVERITY.ST003, description: "iteration over a symbolic tensor (for...of, spread, Array.from, array destructuring) in traced code" },
  { code: "ST005", severity: DEFAULT_SEVERITY.ST005, description: "a tensor used as a condition (if, while, ?:, !, &&, ||): every object is truthy" },
  { code: "ST006", severity: DEFAULT_SEVERITY.ST006, description: "a side effect in traced code (console, Math.random, Date, performance.now, writes to outer state): it runs once, while tracing" },
  { code: "ST101", severity: DEFAULT_SEVERITY.ST101, description: "host conversion of a tensor inside a loop (a device synchronization per iteration)" },
  { code: "ST102", severity: DEFAULT_SEVERITY.ST102, description: "fn(...) inside a loop or a function body: a new traced function, and a new trace, on every call" },
];

/** The severity a code reports with under `options`, or undefined when the rule is off. */
export function severityOf(code: LintCode, options: LintOptions | undefined): Severity | undefined {
  const setting = options?.rules?.[code] ?? DEFAULT_SEVERITY[code];
  return setting === "off" ? undefined : setting;
}
