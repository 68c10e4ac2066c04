// No diagnostics: coercions of eager tensors outside traced code work (one-element tensors).
import { tensor } from "symtensor";

const t = tensor([3]);
export const a = Number(t);
export const b = +t;
export const c = (t as unknown as number) * 2;
export const d = (t as unknown as number) > 1;
export const e = Math.max(t as unknown as number, 1);
export const g = parseFloat(t as unknown as string);
