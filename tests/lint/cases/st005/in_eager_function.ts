// ST005 in an ordinary (never traced) function and method.
import { type Tensor } from "symtensor";

export function check(t: Tensor): string {
  if (t.isFinite().reduceAll()) return "finite"; // expect: ST005
  return "not finite";
}

export class Guard {
  ok(t: Tensor): boolean {
    return !t.reduceAny(); // expect: ST005
  }
}
