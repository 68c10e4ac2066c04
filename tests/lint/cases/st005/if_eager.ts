// ST005: if on a tensor in eager code too: every tensor is truthy.
import { tensor } from "symtensor";

const mask = tensor([true, false]);
export let picked = 0;
if (mask) { // expect: ST005
  picked = 1;
}
