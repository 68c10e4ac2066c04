// fn(predict) with predict imported from ./model.ts: predict is traced.
import { fn } from "symtensor";
import { predict } from "./model.js";

export const tracedPredict = fn(predict);
