/** The linter's public entry: `symtensor/lint`. */
export { lintProgram, lintFiles, expandPaths, compareDiagnostics } from "./analyze.js";
export { RULES, DEFAULT_SEVERITY, severityOf, type RuleInfo } from "./rules.js";
export type { LintCode, LintDiagnostic, LintOptions, RuleSetting, Severity } from "./types.js";
