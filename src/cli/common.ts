/** What the CLI commands share: where output goes, errors about the command line, file reading. */
import { readFileSync } from "node:fs";

/** Where a command writes. Tests pass collectors; the real CLI writes to the process streams. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/**
 * A problem with what the user typed or pointed at (a missing file, an unknown export, no
 * esbuild) that is not a library error: printed as `error: message`, exit code 1.
 */
export class CliError extends Error {
  override readonly name = "CliError";
}

/** Duck-typed so errors from any copy of the library (a user module may bundle its own) are recognised. */
export interface SymtensorErrorLike {
  readonly code: string;
  readonly summary: string;
  readonly message: string;
}

export function isSymtensorError(err: unknown): err is SymtensorErrorLike & Error {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; summary?: unknown };
  return typeof e.code === "string" && /^ST\d{3}$/.test(e.code) && typeof e.summary === "string";
}

/**
 * `error STxxx: message` for library errors; IR text errors already read
 * `file:line:col: error ST301: ...` (with a caret line) and are printed as they are.
 */
export function formatError(err: unknown): string {
  if (isSymtensorError(err)) {
    const text = err.summary;
    return new RegExp(`(^|: )error ${err.code}: `).test(text.split("\n")[0] ?? "") ? text : `error ${err.code}: ${text}`;
  }
  if (err instanceof CliError) return `error: ${err.message}`;
  // Anything else is a failure in user code (or a bug): the stack says where.
  if (err instanceof Error) return `error: ${err.stack ?? err.message}`;
  return `error: ${String(err)}`;
}

/** Reads a file named on the command line; a missing or unreadable file is a CliError, not a stack trace. */
export function readInputFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${JSON.stringify(path)}: ${fsReason(err)}`);
  }
}

/** The human part of a Node fs error: "no such file or directory" rather than the whole syscall text. */
export function fsReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  switch (e.code) {
    case "ENOENT":
      return "no such file or directory";
    case "EISDIR":
      return "it is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    default:
      return typeof e.message === "string" ? e.message : String(err);
  }
}
