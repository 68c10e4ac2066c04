// Builds dist/: an ESM bundle of the library (Node and browsers), the CLI, the linter and its
// ESLint plugin (Node; typescript stays an external, optional peer dependency), and type declarations.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { build } from "esbuild";

const LIBRARY_ENTRY = resolve("src/index.ts");
const SRC = resolve("src");
const CLI_SRC = resolve("src/cli");
const LINT_CLI = resolve("src/lint/cli.ts");

/**
 * dist/cli.js must use the library bundle beside it (dist/index.js), not a second copy: symbolic
 * tensors are recognised with instanceof, and user modules that `symtensor ir` loads import
 * dist/index.js. So the CLI's import of src/index.ts stays external, rewritten to "./index.js".
 * Library modules the CLI imports directly (not through the entry) would be a second copy: the
 * build lists them, so they can be exported from src/index.ts instead.
 */
const cliUsesLibraryBundle = {
  name: "symtensor:cli-uses-library-bundle",
  setup(b) {
    const copied = new Set();
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind === "entry-point" || args.pluginData?.skip) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { skip: true } });
      if (r.errors.length > 0 || r.external) return undefined;
      if (r.path === LIBRARY_ENTRY) return { path: "./index.js", external: true };
      // `symtensor lint` loads the linter lazily from its own bundle (it pulls in typescript).
      if (r.path === LINT_CLI) return { path: "./lint.js", external: true };
      if (r.path.startsWith(SRC + "/") && !r.path.startsWith(CLI_SRC + "/") && dirname(args.importer).startsWith(CLI_SRC)) {
        copied.add(relative(".", r.path));
      }
      return undefined;
    });
    b.onEnd(() => {
      if (copied.size > 0) {
        console.warn(`build: dist/cli.js bundles its own copy of ${[...copied].join(", ")} (and what they import); export them from src/index.ts and import them through it`);
      }
    });
  },
};

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: ["src/index.ts"],
  outfile: "dist/index.js",
  bundle: true,
  format: "esm",
  platform: "neutral",
  // chevrotain's lodash-es dependency only declares "main"; "neutral" resolves no fields by default.
  mainFields: ["module", "main"],
  target: "es2022",
  sourcemap: true,
  logLevel: "warning",
});
await build({
  entryPoints: ["src/cli/bin.ts"],
  outfile: "dist/cli.js",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  plugins: [cliUsesLibraryBundle],
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
// symtensor/lint: the core, the output formats and the command (dist/cli.js imports it lazily).
// It imports nothing of the library but src/guidance.ts (a leaf of text), so a copy is harmless.
const LINT_API = [
  'export * from "./src/lint/index.ts";',
  'export * from "./src/lint/format.ts";',
  'export { lintCommand, parseRuleArgs } from "./src/lint/cli.ts";',
].join("\n");
const nodeBundle = { bundle: true, format: "esm", platform: "node", target: "node20", packages: "external", logLevel: "warning" };
await build({ ...nodeBundle, stdin: { contents: LINT_API, resolveDir: resolve("."), sourcefile: "lint-entry.ts", loader: "ts" }, outfile: "dist/lint.js" });
await build({ ...nodeBundle, entryPoints: ["src/lint/eslint-plugin.ts"], outfile: "dist/eslint.js" });
execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
writeFileSync("dist/index.d.ts", 'export * from "./types/index.js";\n');
writeFileSync("dist/lint.d.ts", LINT_API.replaceAll("./src/", "./types/").replaceAll(".ts\"", ".js\"") + "\n");
writeFileSync("dist/eslint.d.ts", 'export { default } from "./types/lint/eslint-plugin.js";\n');
console.log("built dist/index.js, dist/cli.js, dist/lint.js, dist/eslint.js, dist/index.d.ts, dist/lint.d.ts, dist/eslint.d.ts");
