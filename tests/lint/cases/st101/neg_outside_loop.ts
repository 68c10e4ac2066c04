// No diagnostics: a conversion outside any loop, and a helper called in a loop (the conversion is
// not in a loop body of its own function).
import { type Tensor } from "symtensor";

function show(t: Tensor): string {
  return JSON.stringify(t.tolist());
}

export function once(t: Tensor): number {
  return t.numpy().size;
}

export function each(ts: Tensor[]): string[] {
  const out: string[] = [];
  for (const t of ts) out.push(show(t));
  return out;
}
