// No diagnostics: a class with its own numpy()/item()/tolist() methods is not a tensor.
import { fn, type Tensor } from "symtensor";

export class Fake {
  numpy(): number[] {
    return [1, 2];
  }
  item(): number {
    return 1;
  }
  tolist(): number[] {
    return [1];
  }
}

const fake = new Fake();

export const f = fn((x: Tensor, other: Fake) => {
  const a = fake.numpy();
  const b = other.item();
  const c = other.tolist();
  return x.mul(a.length + b + c.length);
});
