// ST102: fn(...) in an arrow function body and in an array callback.
import { fn, type Tensor } from "symtensor";

export const make = (k: number) => fn((x: Tensor) => x.mul(k)); // expect: ST102
export const family = [1, 2].map((k) => fn((x: Tensor) => x.pow(k))); // expect: ST102
