/**
 * `symtensor opt <file.stir> --passes canonicalize,cse,dce [--print-after-all] [--print-after <names>]`:
 * like mlir-opt, reads an IR file, runs a pass pipeline over it (verifying after each pass) and
 * prints the result, which parses back. Dumps asked for with --print-after go to stderr, each
 * under a `// -----// IR Dump After <pass> //----- //` header, so stdout stays the final IR.
 */
import { CliError, type CliIO } from "./common.js";
import { DEFAULT_PIPELINE, getPass, type Graph, interpret, type PassContext, parsePipeline, print, runPasses, ValueError } from "./lib.js";
import { readGraph } from "./run-command.js";

export interface OptCommandOptions {
  /** Comma-separated pass names; "default" is the default pipeline; "" runs nothing. */
  passes: string;
  printAfterAll?: boolean;
  /** Comma-separated pass names (the option may be repeated). */
  printAfter: string[];
  foldLimit?: string;
  /** `--no-fold` sets false: constant folding is off. */
  fold: boolean;
  /** `--no-verify-each` sets false. */
  verifyEach: boolean;
  /** `--no-loc` sets false. */
  loc: boolean;
  timing?: boolean;
}

/**
 * Constant folding runs ops with the executor's CPU kernels, reached through `interpret` on a
 * one-node graph: the same kernels `cpuBackend.execute` runs, through the library's public entry.
 */
const evaluateOnCpu: NonNullable<PassContext["evaluate"]> = (op, inputs, attrs, outTypes) => {
  const params = inputs.map((x, i) => ({ name: `%in${i}`, type: x.type }));
  const results = outTypes.map((type, i) => ({ name: `%out${i}`, type }));
  const graph: Graph = {
    name: "fold",
    params,
    constants: [],
    nodes: [{ op: op.name, operands: params.map((p) => p.name), results, attrs }],
    results: results.map((r) => r.name),
  };
  return interpret(graph, inputs).map((b) => b.data);
};

/** The pipeline named by --passes. */
export function pipelineOf(text: string): string[] {
  const names = parsePipeline(text).flatMap((n) => (n === "default" ? [...DEFAULT_PIPELINE] : [n]));
  for (const n of names) getPass(n); // unknown names fail here, listing the available passes
  return names;
}

function parseFoldLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new CliError(`--fold-limit must be a non-negative integer (elements), got ${JSON.stringify(text)}`);
  return Number(text.trim());
}

export function optCommand(file: string, opts: OptCommandOptions, io: CliIO): void {
  const { graph } = readGraph(file);
  const passes = pipelineOf(opts.passes);
  const printAfter = opts.printAfterAll ? "all" : opts.printAfter.flatMap(parsePipeline);
  for (const name of printAfter === "all" ? [] : printAfter) {
    if (!passes.includes(name)) {
      throw new ValueError(`opt: --print-after ${name}: the pipeline (${passes.join(", ") || "empty"}) does not run pass "${name}"`);
    }
  }
  const foldLimit = parseFoldLimit(opts.foldLimit);
  const printOptions = { loc: opts.loc };
  const result = runPasses(graph, passes, {
    verifyEach: opts.verifyEach,
    printAfter,
    printOptions,
    onPrint: (pass, text) => io.err(`// -----// IR Dump After ${pass} //----- //\n${text}\n`),
    ...(opts.fold ? { evaluate: evaluateOnCpu } : {}),
    ...(foldLimit !== undefined ? { foldLimit } : {}),
  });
  if (opts.timing) {
    const total = result.stages.reduce((t, s) => t + s.ms, 0);
    io.err("// pass timing (ms)\n");
    for (const s of result.stages) io.err(`//   ${s.ms.toFixed(3).padStart(10)}  ${s.pass}\n`);
    io.err(`//   ${total.toFixed(3).padStart(10)}  total\n`);
  }
  io.out(print(result.graph, printOptions));
}
