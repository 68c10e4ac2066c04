// No diagnostics: state declared inside the traced function is local to one trace.
import { fn, stack, type Tensor } from "symtensor";

let count = 0;

export const f = fn((x: Tensor) => {
  let n = 0;
  n++;
  n += 2;
  let count = 1;
  count++;
  const acc: Tensor[] = [];
  acc[0] = x;
  acc.push(x.exp());
  const box = { value: 0, name: "" };
  box.value = n + count;
  box.name += "b";
  let last: Tensor = x;
  last = last.add(1);
  return stack([...acc, last]).mul(box.value);
});

export function bump(): number {
  return ++count;
}
