/**
 * Warnings (not errors): code, message, and a replaceable handler. The default writes to
 * console.warn as `symtensor warning ST007: ...`; tests and tools install their own.
 */
export interface SymtensorWarning {
  readonly code: string;
  readonly message: string;
}

export type WarningHandler = (w: SymtensorWarning) => void;

const defaultHandler: WarningHandler = (w) => console.warn(`symtensor warning ${w.code}: ${w.message}\nSee docs/errors.md#${w.code.toLowerCase()}`);
let handler: WarningHandler = defaultHandler;

/** Replaces the warning handler; pass undefined to restore the default. Returns the previous one. */
export function setWarningHandler(h: WarningHandler | undefined): WarningHandler {
  const prev = handler;
  handler = h ?? defaultHandler;
  return prev;
}

export function emitWarning(code: string, message: string): void {
  handler({ code, message });
}
