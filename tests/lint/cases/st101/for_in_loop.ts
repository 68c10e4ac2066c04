// ST101: in a for-in loop.
import { type Tensor } from "symtensor";

export function dump(params: Record<string, Tensor>): string[] {
  const out: string[] = [];
  for (const k in params) {
    out.push(JSON.stringify(params[k]!.tolist())); // expect: ST101
  }
  return out;
}
