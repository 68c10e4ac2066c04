// Suppressing ST005 in eager code; the same mistake one line later is still reported.
import { tensor } from "symtensor";

const t = tensor([1]);
// symtensor-disable-next-line ST005 -- testing the truthiness of objects on purpose
export const a = t ? 1 : 0;
export const b = t ? 1 : 0; // expect: ST005
