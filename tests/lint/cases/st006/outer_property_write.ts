// ST006: writing properties of objects declared outside the traced function.
import { fn, type Tensor } from "symtensor";

const stats = { calls: 0, last: "" };
const cache: Record<string, Tensor> = {};

export const f = fn((x: Tensor) => {
  stats.calls = stats.calls + 1; // expect: ST006
  stats.last += "x"; // expect: ST006
  cache["input"] = x; // expect: ST006
  return x.exp();
});
