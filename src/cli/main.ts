/** The `symtensor` command. Subcommands arrive with later layers (ir, opt, run, lint, bench). */
import { Command } from "commander";
import { listOps } from "../ir/registry.js";
import "../ir/ops/index.js";
import { VERSION } from "../version.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("symtensor")
    .description("symtensor: a TypeScript tensor library with a tracing compiler")
    .version(VERSION, "-v, --version", "print the symtensor version");
  program
    .command("ops")
    .description("list the ops in the registry, by kind")
    .option("--kind <kind>", "only ops of this kind (elementwise, reduction, shape, ...)")
    .action((opts: { kind?: string }) => {
      const ops = listOps().filter((o) => !opts.kind || o.kind === opts.kind);
      const width = Math.max(...ops.map((o) => o.name.length), 4);
      for (const op of ops.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))) {
        console.log(`${op.kind.padEnd(12)} ${op.name.padEnd(width)}  ${op.doc}`);
      }
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  await buildProgram().parseAsync([...argv]);
}
