// ST003: spreading a tensor into an array literal.
import { fn, stack, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => stack([...x].map((r) => r.reduceSum()))); // expect: ST003
