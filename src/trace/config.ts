/** Global settings. Kept tiny and explicit; each has a getter so tests can restore it. */
let strictDtypes = false;

/** When on, every implicit dtype promotion between operands throws DTypeError (ST403). */
export function setStrictDtypes(on: boolean): void {
  strictDtypes = on;
}

export function getStrictDtypes(): boolean {
  return strictDtypes;
}
