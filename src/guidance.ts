/**
 * Guidance text shared by the runtime errors (src/trace/symbolic.ts) and the static linter
 * (src/lint), so a user reads the same advice whether the mistake is caught while tracing or
 * before the code runs. A leaf module: it imports nothing.
 */

/** Why a symbolic tensor has no value, and what to do instead (ST001-ST003). */
export const SYMBOLIC_GUIDANCE: readonly string[] = [
  "A symbolic tensor has no value yet; it stands for a value that the compiled graph computes later.",
  "  - To compute with it, stay in the graph: reduceSum(t), argmax(t, axis), cast(t, \"int32\"), where(c, a, b).",
  "  - To see its value, return it from the traced function and call .numpy() on the result.",
  "  - To print it while the graph runs, use debugPrint(label, t).",
];

/** The extra hint per code, after the shared guidance. */
export const CODE_HINTS = {
  ST001: "Convert the traced function's result instead: f(x).numpy().",
  ST002: "For arithmetic and comparisons use the ops: t.mul(2), greater(t, 0).",
  ST003: "To loop over the first axis, use unstack(t) (the loop then unrolls into the graph).",
  ST004: "Return it from the traced function instead, and use the eager tensor the call gives back.",
  ST005: "A tensor is an object, and every object is truthy in JavaScript: use where(cond, a, b) for elementwise choices, or compare with ops and convert outside the traced code.",
  ST006: "It runs once, while tracing, not on every call: use debugPrint(label, t) to print at run time and randomKey/splitKey for randomness.",
  ST101: "Each host conversion is a device synchronization and a copy: accumulate in tensors (reduceSum, stack) and convert once after the loop.",
  ST102: "fn(...) builds a new traced function: create it once, outside the loop, and call it inside.",
} as const;

export type GuidanceCode = keyof typeof CODE_HINTS;
