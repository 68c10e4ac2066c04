/**
 * Suppression comments: `// symtensor-disable-next-line ST001, ST006 -- reason` silences those
 * codes (all codes when none are listed) on the next line; `symtensor-disable-line` on its own line.
 */
import type ts from "typescript";

const MARKER = /symtensor-disable-(next-line|line)\b([^\n]*)/g;

/** Per 1-based line: the suppressed codes, or "all". */
export type Suppressions = ReadonlyMap<number, ReadonlySet<string> | "all">;

export function parseSuppressions(sf: ts.SourceFile): Suppressions {
  const out = new Map<number, Set<string> | "all">();
  const text = sf.text;
  if (!text.includes("symtensor-disable")) return out;
  for (const m of text.matchAll(MARKER)) {
    const at = m.index;
    if (!inComment(text, at)) continue;
    const line = sf.getLineAndCharacterOfPosition(at).line + 1 + (m[1] === "next-line" ? 1 : 0);
    // Codes come before the reason (`-- why`) and before a block comment's end.
    const spec = (m[2] ?? "").split("--")[0]!.split("*/")[0]!;
    const codes = spec.match(/\bST\d{3}\b/g);
    const prev = out.get(line);
    if (codes === null || prev === "all") {
      out.set(line, "all");
    } else {
      const set = prev ?? new Set<string>();
      for (const c of codes) set.add(c);
      out.set(line, set);
    }
  }
  return out;
}

/** Whether position `at` follows a `//` or `/*` on its line (cheap: comments of suppression markers start their line or follow code). */
function inComment(text: string, at: number): boolean {
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  const before = text.slice(lineStart, at);
  return /\/\/|\/\*/.test(before) || isInsideBlockComment(text, at);
}

function isInsideBlockComment(text: string, at: number): boolean {
  const open = text.lastIndexOf("/*", at);
  return open >= 0 && text.indexOf("*/", open) >= at;
}

export function isSuppressed(s: Suppressions, line: number, code: string): boolean {
  const entry = s.get(line);
  return entry !== undefined && (entry === "all" || entry.has(code));
}
