/**
 * Loads a user's .ts/.js module for `symtensor ir`: esbuild bundles it to a temporary .mjs, which
 * is then imported.
 *
 * The user module and the CLI must share one copy of symtensor (symbolic tensors are recognised
 * with instanceof). So while bundling, the specifier `symtensor` and any import that resolves to
 * this repository's src/index.ts or dist/index.js become an external import of the library entry
 * the CLI itself runs from, by absolute file URL. Other packages stay external too, by the absolute
 * URL they resolve to (the temporary file lives outside the user's project, where bare names would
 * not resolve); the user's own files are bundled.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, extname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as esbuildTypes from "esbuild";
import { CliError, fsReason } from "./common.js";

/**
 * Run from source (src/cli/*.ts, through tsx or vitest) the library entry is src/index.ts; bundled
 * into dist/cli.js it is dist/index.js beside it (scripts/build.mjs keeps it external there).
 */
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const REPO_ROOT = new URL(FROM_SOURCE ? "../../" : "../", import.meta.url);

/** The file URL of the library entry this CLI runs from. */
export const LIBRARY_ENTRY: string = new URL(FROM_SOURCE ? "src/index.ts" : "dist/index.js", REPO_ROOT).href;

/** Files that are this repository's library entry, in either form: imports of them are redirected. */
const LIBRARY_FILES = new Set(["src/index.ts", "dist/index.js"].map((p) => fileURLToPath(new URL(p, REPO_ROOT))));

const SKIP = Symbol("symtensor:resolving");

type Esbuild = typeof esbuildTypes;

async function loadEsbuild(): Promise<Esbuild> {
  try {
    const mod = (await import("esbuild")) as Esbuild & { default?: Esbuild };
    // esbuild is CommonJS: its API sits on the namespace, or on `default` where interop wraps it.
    return typeof mod.build === "function" ? mod : (mod.default ?? mod);
  } catch (err) {
    throw new CliError(
      `symtensor ir needs esbuild to load TypeScript modules, and it could not be loaded (${err instanceof Error ? err.message.split("\n")[0] : String(err)}).\n` +
        "Install it next to symtensor: npm install -D esbuild",
    );
  }
}

function isBare(specifier: string): boolean {
  return !/^(\.{1,2}(\/|$)|\/|[A-Za-z]:[\\/]|file:)/.test(specifier);
}

/** The esbuild plugin that keeps one copy of symtensor and leaves packages external by absolute URL. */
function oneLibrary(): esbuildTypes.Plugin {
  return {
    name: "symtensor:one-library",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === "entry-point" || (args.pluginData as { [SKIP]?: boolean } | undefined)?.[SKIP]) return undefined;
        if (args.path === "symtensor") return { path: LIBRARY_ENTRY, external: true };
        const r = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: { [SKIP]: true },
        });
        // Let esbuild report a failed resolution itself, with the importing line.
        if (r.errors.length > 0) return undefined;
        if (r.external) return { path: r.path, external: true };
        if (LIBRARY_FILES.has(r.path)) return { path: LIBRARY_ENTRY, external: true };
        if (isBare(args.path)) return { path: pathToFileURL(r.path).href, external: true };
        return undefined;
      });
    },
  };
}

/** esbuild names files relative to the working directory; outside it, an absolute path reads better than ../../. */
function displayPath(file: string): string {
  const abs = resolve(file);
  const rel = relative(process.cwd(), abs);
  return rel.startsWith("..") || isAbsolute(rel) ? abs : rel;
}

function formatBuildFailure(err: unknown): string {
  const errors = (err as { errors?: esbuildTypes.Message[] }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return err instanceof Error ? err.message : String(err);
  return errors
    .map((m) => (m.location ? `${displayPath(m.location.file)}:${m.location.line}:${m.location.column + 1}: ${m.text}\n  ${m.location.lineText}` : m.text))
    .join("\n");
}

/**
 * Bundles and imports `file`, returning its module namespace. Stack traces (and so the `loc(...)`
 * of traced nodes) point at the original source through an inline source map.
 */
export async function loadModule(file: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    throw new CliError(`cannot read module ${JSON.stringify(file)}: ${fsReason(err)}`);
  }
  if (!isFile) throw new CliError(`cannot read module ${JSON.stringify(file)}: it is not a file`);
  const esbuild = await loadEsbuild();
  const dir = mkdtempSync(join(tmpdir(), "symtensor-ir-"));
  try {
    const outfile = join(dir, `${basename(path, extname(path))}.mjs`);
    let code: string;
    try {
      const result = await esbuild.build({
        entryPoints: [path],
        outfile,
        bundle: true,
        write: false,
        format: "esm",
        platform: "node",
        target: "node20",
        sourcemap: "inline",
        logLevel: "silent",
        plugins: [oneLibrary()],
      });
      code = result.outputFiles[0]?.text ?? "";
    } catch (err) {
      throw new CliError(`cannot load module ${JSON.stringify(file)}:\n${formatBuildFailure(err)}`);
    }
    try {
      writeFileSync(outfile, code);
    } catch (err) {
      throw new CliError(`cannot write a temporary file in ${dir}: ${fsReason(err)}`);
    }
    // Map stack frames of the bundle back to the user's source, so traced nodes get their real locs.
    process.setSourceMapsEnabled(true);
    return (await import(pathToFileURL(outfile).href)) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
