// ST006: Math.random() is evaluated once, at trace time.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => x.mul(Math.random())); // expect: ST006
