// ST101: in a loop inside a class method (not traced).
import { type Tensor } from "symtensor";

export class Logger {
  lines: string[] = [];
  logAll(ts: readonly Tensor[]): void {
    for (let i = 0; i < ts.length; i++) this.lines.push(String(ts[i]!.tolist())); // expect: ST101
  }
}
