/**
 * The linter as an ESLint plugin (`symtensor/eslint`), for ESLint's flat config with
 * typescript-eslint's parser and type information. One ESLint rule per code; all of them share
 * one run of the core per program and file, so turning on seven rules costs one analysis.
 */
import type { ESLint, Linter, Rule } from "eslint";
import type ts from "typescript";
import { lintProgram, RULES } from "./index.js";
import type { LintCode, LintDiagnostic } from "./types.js";
import { DEFAULT_SEVERITY } from "./types.js";
import { VERSION } from "../version.js";

/** ESLint rule name per code. */
export const RULE_NAMES: Readonly<Record<LintCode, string>> = {
  ST001: "no-host-conversion-in-trace",
  ST002: "no-coercion-in-trace",
  ST003: "no-iteration-in-trace",
  ST005: "no-tensor-condition",
  ST006: "no-trace-side-effects",
  ST101: "no-conversion-in-loop",
  ST102: "no-fn-in-loop",
};

/** Every code on, so ESLint's own configuration alone decides which rules report and how loudly. */
const ALL_ON = { rules: Object.fromEntries(Object.keys(RULE_NAMES).map((c) => [c, "error"])) as Partial<Record<LintCode, "error">> };

/** Diagnostics per file of a program; a new program (or an edited file) is a new key. */
const cache = new WeakMap<ts.Program, WeakMap<ts.SourceFile, readonly LintDiagnostic[]>>();

function diagnosticsFor(program: ts.Program, file: ts.SourceFile): readonly LintDiagnostic[] {
  let perFile = cache.get(program);
  if (perFile === undefined) {
    perFile = new WeakMap();
    cache.set(program, perFile);
  }
  let found = perFile.get(file);
  if (found === undefined) {
    found = lintProgram(program, [file], ALL_ON);
    perFile.set(file, found);
  }
  return found;
}

/** The subset of typescript-eslint's parser services this plugin reads. */
interface TypedParserServices {
  readonly program?: ts.Program | null;
  readonly esTreeNodeToTSNodeMap?: { get(node: unknown): ts.Node | undefined };
}

function sourceFileOf(context: Rule.RuleContext, ruleName: string): { program: ts.Program; file: ts.SourceFile } {
  const services = context.sourceCode.parserServices as TypedParserServices | undefined;
  const program = services?.program ?? undefined;
  if (program === undefined) {
    throw new Error(
      `symtensor/${ruleName} needs type information, and ${context.filename} was parsed without it. ` +
        "Use typescript-eslint's parser with languageOptions.parserOptions.projectService: true (or project: \"./tsconfig.json\").",
    );
  }
  const file = program.getSourceFile(context.filename) ?? services?.esTreeNodeToTSNodeMap?.get(context.sourceCode.ast)?.getSourceFile();
  if (file === undefined) throw new Error(`symtensor/${ruleName}: ${context.filename} is not part of the TypeScript program (check the tsconfig's include)`);
  return { program, file };
}

/** The message and the fix on one line, as ESLint prints one line per problem. */
function withHelp(d: LintDiagnostic): string {
  return d.help === "" ? d.message : `${d.message.replace(/\.$/, "")}. ${d.help}`;
}

function makeRule(code: LintCode): Rule.RuleModule {
  const name = RULE_NAMES[code];
  const description = RULES.find((r) => r.code === code)?.description ?? code;
  return {
    meta: {
      type: "problem",
      docs: { description: `${code}: ${description}`, recommended: true },
      schema: [],
      messages: { diagnostic: "{{text}}" },
    },
    create(context) {
      return {
        Program() {
          const { program, file } = sourceFileOf(context, name);
          for (const d of diagnosticsFor(program, file)) {
            if (d.code !== code) continue;
            context.report({
              loc: { start: { line: d.line, column: d.col - 1 }, end: { line: d.endLine, column: d.endCol - 1 } },
              messageId: "diagnostic",
              data: { text: withHelp(d) },
            });
          }
        },
      };
    },
  };
}

const rules: Record<string, Rule.RuleModule> = Object.fromEntries((Object.keys(RULE_NAMES) as LintCode[]).map((c) => [RULE_NAMES[c], makeRule(c)]));

const recommendedRules: Linter.RulesRecord = Object.fromEntries(
  (Object.keys(RULE_NAMES) as LintCode[]).map((c) => [`symtensor/${RULE_NAMES[c]}`, DEFAULT_SEVERITY[c] === "error" ? "error" : "warn"]),
);

const plugin = {
  meta: { name: "symtensor", version: VERSION },
  rules,
  configs: {} as Record<string, Linter.Config>,
} satisfies ESLint.Plugin;

/** Every rule at its default severity, for TypeScript files (the rules need type information). */
plugin.configs.recommended = {
  name: "symtensor/recommended",
  files: ["**/*.ts", "**/*.tsx", "**/*.mts", "**/*.cts"],
  plugins: { symtensor: plugin },
  rules: recommendedRules,
};

export default plugin as ESLint.Plugin & { configs: { recommended: Linter.Config } };
