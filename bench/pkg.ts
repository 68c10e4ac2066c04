/** Versions of installed packages, for the result file. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** The version field of an installed package, or "?" when it cannot be read. */
export function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    // Some packages do not export ./package.json, so find it beside the resolved entry point.
    let dir = require.resolve(name);
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf("/"));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        // not this directory: keep walking up
      }
    }
  } catch {
    // not installed
  }
  return "?";
}
