// Reached from traced code through a renamed import.
import type { Tensor } from "symtensor";

export function summarize(x: Tensor): string {
  return JSON.stringify(x.tolist()); // expect: ST001
}
