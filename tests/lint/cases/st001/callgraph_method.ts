// ST001 in a class method reached through a property access on a typed receiver.
import { fn, type Tensor } from "symtensor";

class Metrics {
  score(t: Tensor): number {
    return t.reduceMean().item() as number; // expect: ST001
  }
}

const metrics = new Metrics();

export const f = fn((x: Tensor) => x.mul(metrics.score(x)));
