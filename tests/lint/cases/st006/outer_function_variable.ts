// ST006: writing a variable of the enclosing (non-traced) function; the fn(...) in a function body
// is ST102.
import { fn, type Tensor } from "symtensor";

export function makeCounter() {
  let seen = 0;
  const f = fn((x: Tensor) => { // expect: ST102
    seen = seen + 1; // expect: ST006
    return x;
  });
  return { f, seen: () => seen };
}
