/**
 * The pass manager: a registry of passes by name and `runPasses`, which runs a pipeline over a
 * graph, optionally verifying and printing after each pass, and keeps every stage with its timing.
 *
 * Names are resolved when a pipeline runs, not when it is written, so a pipeline may name a pass
 * (DEFAULT_PIPELINE names "fuse") whose module registers it later.
 */
import { IRVerifyError, ValueError } from "../errors.js";
import type { Graph } from "../graph.js";
import { print, type PrintOptions } from "../print.js";
import { verify } from "../verify.js";
import { DEFAULT_FOLD_LIMIT, type Pass, type PassContext } from "./pass.js";

const PASSES = new Map<string, Pass>();

/**
 * Adds a pass to the registry under its name. Registering the same pass object again is a no-op
 * (a module may register itself and be registered by index.ts); a different pass with a taken
 * name is a bug and throws.
 */
export function registerPass(pass: Pass): void {
  const existing = PASSES.get(pass.name);
  if (existing === pass) return;
  if (existing) throw new Error(`a different pass named "${pass.name}" is already registered`);
  PASSES.set(pass.name, pass);
}

/** The registered pass called `name`; a ValueError listing the available passes if there is none. */
export function getPass(name: string): Pass {
  const pass = PASSES.get(name);
  if (!pass) {
    throw new ValueError(`unknown pass ${JSON.stringify(name)}; available passes: ${listPasses().map((p) => p.name).join(", ") || "none"}`);
  }
  return pass;
}

export function hasPass(name: string): boolean {
  return PASSES.has(name);
}

/** Every registered pass, sorted by name. */
export function listPasses(): Pass[] {
  return [...PASSES.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** What `fn()` runs by default: simplify, share, clean up, fuse, clean up what fusion left. */
export const DEFAULT_PIPELINE: readonly string[] = Object.freeze(["canonicalize", "cse", "dce", "fuse", "dce"]);

/** Splits a comma-separated pipeline (`"canonicalize, cse,dce"`) into pass names; blanks are dropped. */
export function parsePipeline(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export interface RunPassesOptions {
  /**
   * Verify the input before the first pass and the graph after every pass (default true). A pass
   * that breaks the graph is named in the IRVerifyError's message.
   */
  readonly verifyEach?: boolean;
  /** Print the graph after every pass ("all") or after the passes with these names. */
  readonly printAfter?: "all" | readonly string[];
  /** Receives each dump; without it, dumps are collected in the result's `printed`. */
  readonly onPrint?: (pass: string, text: string) => void;
  /** How dumps are printed (default: print's defaults). */
  readonly printOptions?: PrintOptions;
  /** Evaluates one op on constants, for constant folding (absent: no folding). */
  readonly evaluate?: PassContext["evaluate"];
  /** Largest result, in elements, that constant folding may create (default DEFAULT_FOLD_LIMIT). */
  readonly foldLimit?: number;
}

/** One pass's output in a pipeline run. */
export interface PassStage {
  readonly pass: string;
  readonly graph: Graph;
  /** Wall-clock milliseconds the pass took (verification and printing excluded). */
  readonly ms: number;
}

export interface RunPassesResult {
  /** The graph after the last pass (the input itself when the pipeline is empty). */
  readonly graph: Graph;
  readonly stages: PassStage[];
  /** The dumps asked for with `printAfter`, when no `onPrint` callback took them. */
  readonly printed: { readonly pass: string; readonly text: string }[];
}

function resolve(p: Pass | string): Pass {
  if (typeof p === "string") return getPass(p);
  if (typeof p !== "object" || p === null || typeof p.name !== "string" || typeof p.run !== "function") {
    throw new ValueError(`runPasses: a pipeline entry must be a pass name or a Pass {name, description, run}, got ${p === null ? "null" : typeof p}`);
  }
  return p;
}

/** Re-throws a verify failure with what was being verified (the input, or the graph a pass produced). */
function verifyStage(graph: Graph, what: string): void {
  try {
    verify(graph);
  } catch (err) {
    if (!(err instanceof IRVerifyError)) throw err;
    const prefix = `error ST302: ${err.where}: ${err.rule}: `;
    const summary = err.summary;
    const detail = summary.startsWith(prefix) ? summary.slice(prefix.length) : summary;
    const wrapped = new IRVerifyError(err.where, err.rule, `${what}: ${detail}`);
    Object.defineProperty(wrapped, "cause", { value: err });
    throw wrapped;
  }
}

/**
 * Runs `passes` in order over `graph`. Every pass name is resolved before anything runs, so an
 * unknown name fails fast with a ValueError listing the available passes.
 */
export function runPasses(graph: Graph, passes: readonly (Pass | string)[], options: RunPassesOptions = {}): RunPassesResult {
  if (!Array.isArray(passes)) throw new ValueError(`runPasses: passes must be an array of pass names or passes`);
  const pipeline = passes.map(resolve);
  const verifyEach = options.verifyEach ?? true;
  const foldLimit = options.foldLimit ?? DEFAULT_FOLD_LIMIT;
  if (!Number.isSafeInteger(foldLimit) || foldLimit < 0) {
    throw new ValueError(`runPasses: foldLimit must be a non-negative integer, got ${String(foldLimit)}`);
  }
  const printAfter = options.printAfter;
  if (printAfter !== undefined && printAfter !== "all") {
    if (!Array.isArray(printAfter)) throw new ValueError(`runPasses: printAfter must be "all" or a list of pass names`);
    // A name must be a pass: one in this pipeline (possibly unregistered) or a registered one.
    for (const name of printAfter) if (!pipeline.some((p) => p.name === name)) getPass(name);
  }
  const ctx: PassContext = { foldLimit, ...(options.evaluate ? { evaluate: options.evaluate } : {}) };
  const printed: { pass: string; text: string }[] = [];
  const onPrint = options.onPrint ?? ((pass: string, text: string) => void printed.push({ pass, text }));
  const wantsDump = (name: string): boolean => printAfter === "all" || (printAfter !== undefined && printAfter.includes(name));

  if (verifyEach) verifyStage(graph, "the input graph (before any pass) is invalid");
  const stages: PassStage[] = [];
  let current = graph;
  for (const pass of pipeline) {
    const start = performance.now();
    current = pass.run(current, ctx);
    const ms = performance.now() - start;
    if (verifyEach) verifyStage(current, `pass "${pass.name}" produced an invalid graph`);
    stages.push({ pass: pass.name, graph: current, ms });
    if (wantsDump(pass.name)) onPrint(pass.name, print(current, options.printOptions));
  }
  return { graph: current, stages, printed };
}
