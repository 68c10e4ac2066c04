/**
 * A name for a traced function written as `const predict = fn((x) => ...)`: the arrow itself is
 * anonymous (JS names only functions assigned directly), so the name is read from the source line
 * of the `fn(` call. Only where the source is readable (Node); elsewhere the name is "anonymous".
 */
import type { SourceLoc } from "../ir/graph.js";

const ASSIGNED = /([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=\s*(?:[\w$.]+\.)?fn\s*(?:<[^>]*>)?\s*\($/;
const PROPERTY = /([A-Za-z_$][\w$]*)\s*:\s*(?:[\w$.]+\.)?fn\s*(?:<[^>]*>)?\s*\($/;
const lines = new Map<string, string[] | null>();

interface FsLike {
  readFileSync(path: string, encoding: "utf8"): string;
}

function readLines(file: string): string[] | null {
  if (lines.has(file)) return lines.get(file)!;
  let result: string[] | null = null;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const fs = proc?.getBuiltinModule?.("node:fs") as FsLike | undefined;
    if (fs) result = fs.readFileSync(file, "utf8").split(/\r?\n/);
  } catch {
    result = null;
  }
  lines.set(file, result);
  return result;
}

/** The variable or property the `fn(...)` call at `loc` is assigned to, if the source says. */
export function nameFromCallSite(loc: SourceLoc | undefined): string | undefined {
  if (!loc) return undefined;
  const line = readLines(loc.file)?.[loc.line - 1];
  if (line === undefined) return undefined;
  // The column points at `fn`; keep the text up to and including its "(".
  const open = line.indexOf("(", loc.col - 1);
  const head = open >= 0 ? line.slice(0, open + 1) : line;
  return ASSIGNED.exec(head)?.[1] ?? PROPERTY.exec(head)?.[1];
}
