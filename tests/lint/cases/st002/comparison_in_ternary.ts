// ST002: the docs' example: comparing a reduction with 0 to pick a branch.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => ((x.reduceSum() as unknown as number) > 0 ? x : x.neg())); // expect: ST002
