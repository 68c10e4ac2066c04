// A local barrel that re-exports symtensor's fn, once as-is and once renamed.
export { fn, fn as jit } from "symtensor";
export type { Tensor } from "symtensor";
