/** Runs the `symtensor` CLI in this process with collected output: what the CLI tests share. */
import { runCli } from "../../src/cli/main.js";

export interface Result {
  code: number;
  out: string;
  err: string;
}

/** The CLI in this process; argv as typed after `symtensor`. */
export async function cli(...args: string[]): Promise<Result> {
  let out = "";
  let err = "";
  const code = await runCli(["node", "symtensor", ...args], { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}
