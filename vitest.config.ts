import { transform } from "esbuild";
import { defineConfig, type Plugin } from "vitest/config";

/**
 * Vite 8's default TypeScript transform (Oxc) lowers only legacy decorators; symtensor's `@fn()`
 * is a standard (TC39) decorator, so TypeScript files go through esbuild, which lowers those.
 */
const esbuildTypeScript: Plugin = {
  name: "symtensor:esbuild-ts",
  enforce: "pre",
  async transform(code, id) {
    if (!/\.[cm]?ts$/.test(id) || id.includes("/node_modules/")) return null;
    const out = await transform(code, { loader: "ts", format: "esm", target: "es2022", sourcemap: true, sourcefile: id });
    return { code: out.code, map: out.map };
  },
};

export default defineConfig({
  oxc: false,
  plugins: [esbuildTypeScript],
  test: {
    include: ["tests/**/*.test.ts"],
    setupFiles: ["tests/setup/fast-check.ts"],
    testTimeout: 30_000,
  },
});
