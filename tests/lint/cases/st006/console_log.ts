// ST006: console.log while tracing runs once, not on every call.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  console.log("tracing with shape", x.shape); // expect: ST006
  return x.exp();
});
