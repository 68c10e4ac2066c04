/** The `symtensor` command: ops, ir, opt, run, verify, lint (bench arrives with a later layer). */
import { Command, CommanderError, Option } from "commander";
import { CliError, type CliIO, formatError, processIO } from "./common.js";
import { irCommand, type IrCommandOptions } from "./ir-command.js";
import { listOps, VERSION } from "./lib.js";
import { optCommand, type OptCommandOptions } from "./opt-command.js";
import { runCommand, type RunCommandOptions, verifyCommand } from "./run-command.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The linter pulls in the TypeScript compiler, so it loads only when `lint` runs (the build turns
 * this import into dist/lint.js). TypeScript is an optional peer dependency: say so if it is missing.
 */
async function loadLinter(): Promise<typeof import("../lint/cli.js")> {
  try {
    return await import("../lint/cli.js");
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if ((e.code === "ERR_MODULE_NOT_FOUND" || e.code === "MODULE_NOT_FOUND") && String(e.message).includes("typescript")) {
      throw new CliError("symtensor lint needs the TypeScript compiler: npm install --save-dev typescript");
    }
    throw err;
  }
}

/**
 * The command tree. Commander never exits the process: errors reach `runCli` as CommanderError
 * (after commander printed its own message to `io`), so the CLI can run in-process in tests.
 */
export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command();
  program
    .name("symtensor")
    .description("symtensor: a TypeScript tensor library with a tracing compiler")
    .version(VERSION, "-v, --version", "print the symtensor version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  program
    .command("ops")
    .description("list the ops in the registry, by kind")
    .option("--kind <kind>", "only ops of this kind (elementwise, reduction, shape, ...)")
    .action((opts: { kind?: string }) => {
      const ops = listOps().filter((o) => !opts.kind || o.kind === opts.kind);
      const width = Math.max(...ops.map((o) => o.name.length), 4);
      for (const op of ops.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))) {
        io.out(`${op.kind.padEnd(12)} ${op.name.padEnd(width)}  ${op.doc}\n`);
      }
    });
  program
    .command("ir")
    .description("trace an exported function of a .ts/.js module on zero-filled arguments and print its IR")
    .argument("<module>", "the module (.ts or .js; bundled with esbuild)")
    .option("--fn <export>", "the export to trace (required for .ts/.js modules): a function made by fn(), or a plain function")
    .option("--args <types>", 'the argument types, comma-separated IR types: "f32[64,784], i32[]"', "")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "dot"]).default("text"))
    .addOption(new Option("--stage <stage>", "the pipeline stage to print: traced (default, before any pass) or optimized").choices(["traced", "optimized"]))
    .option("--no-elide", "print large constants in full (text that parses back) instead of dense<...>")
    .option("--no-loc", "omit loc(...) source locations")
    .action(async (module: string, opts: IrCommandOptions) => irCommand(module, opts, io));
  program
    .command("opt")
    .description("run a pass pipeline over an IR file (.stir) and print the result, like mlir-opt")
    .argument("<file>", "the IR text file")
    .option("--passes <names>", 'comma-separated passes ("default": the default pipeline; "": none)', "default")
    .option("--print-after-all", "print the IR after every pass (to stderr)")
    .option("--print-after <names>", "print the IR after these passes (comma-separated, repeatable; to stderr)", collect, [])
    .option("--fold-limit <n>", "largest constant (in elements) that constant folding may create")
    .option("--no-fold", "do not fold constants")
    .option("--no-verify-each", "do not verify the graph after each pass")
    .option("--no-loc", "omit loc(...) source locations")
    .option("--timing", "print each pass's time (to stderr)")
    .action((file: string, opts: OptCommandOptions) => optCommand(file, opts, io));
  program
    .command("run")
    .description("run an IR file (.stir) with the reference interpreter on .npy inputs")
    .argument("<file>", "the IR text file")
    .option("--in <file.npy>", "an input, once per parameter in order", collect, [])
    .option("--out <file.npy>", "where to write a result, once per result in order (default: print them)", collect, [])
    .action((file: string, opts: RunCommandOptions) => runCommand(file, opts, io));
  program
    .command("verify")
    .description("parse and verify an IR file (.stir)")
    .argument("<file>", "the IR text file")
    .action((file: string) => verifyCommand(file, io));
  program
    .command("lint")
    .description("find host conversions, coercions and other tracing mistakes in TypeScript sources before they run (docs/lint.md)")
    .argument("[paths...]", "files and directories to lint (default: .)")
    .option("--project <tsconfig>", "the tsconfig.json to build the program with (default: the nearest one above the first path)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "sarif"]).default("text"))
    .option("--max-warnings <n>", "exit with code 1 when there are more warnings than this")
    .option("--rule <CODE=setting>", "set a rule to off, warning or error, e.g. --rule ST101=off (repeatable)", collect, [])
    .action(async (paths: string[], opts: { project?: string; format?: string; maxWarnings?: string; rule: string[] }) => {
      const { lintCommand } = await loadLinter();
      const code = lintCommand(paths, { ...opts, version: VERSION }, io);
      // Commander's error carries the exit code to runCli without printing anything more.
      if (code !== 0) throw new CommanderError(code, "symtensor.lint", "");
    });
  return program;
}

/**
 * Runs the CLI on `argv` (node-style: the first two entries are the runtime and the script) and
 * returns the exit code; errors are printed to `io`, never thrown, and the process is never exited.
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Commander has printed its own message (unknown option, --help, --version...).
    if (err instanceof CommanderError) return err.exitCode;
    io.err(`${formatError(err)}\n`);
    return 1;
  }
}

/** The entry used by bin.ts: runs the CLI and sets process.exitCode on failure. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<void> {
  const code = await runCli(argv, io);
  if (code !== 0) process.exitCode = code;
}
