/**
 * `npm run bench`: symtensor (eager and fn) against plain JS loops, tfjs (cpu, wasm),
 * onnxruntime-node (1 and 2 threads) and jax-js, on the workloads of bench/workloads.ts.
 *
 *   npm run bench                     full sizes; writes bench/results/latest.{json,md} and ratios.svg
 *   npm run bench -- --quick          small sizes, few runs (prints only, unless --write)
 *   npm run bench -- --only a,d       some workloads (group letters, or ids such as b512)
 *   npm run bench -- --systems st-fn,ort-1t   some systems (symtensor eager still gives the reference)
 *   npm run bench -- --render         rewrite latest.md and ratios.svg from latest.json (no runs)
 *   npm run bench -- --only g --out training.json   write this (partial) run's report to
 *                                     bench/results/training.json only, leaving latest.* alone
 *
 * A partial or quick run does not overwrite the result files unless --write is given.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { measureWorkload, REFERENCE_SYSTEMS, type WorkloadResult } from "./measure.js";
import { consoleTable, markdown, type Report, svgChart } from "./report.js";
import { allSystems } from "./systems.js";
import { selectWorkloads, workloads } from "./workloads.js";

interface Args {
  quick: boolean;
  only: string[];
  systems: string[];
  write: boolean | undefined;
  render: boolean;
  /** A file name under bench/results/ for this run's JSON report (instead of latest.*). */
  out: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, only: [], systems: [], write: undefined, render: false, out: undefined };
  const list = (v: string | undefined, flag: string): string[] => {
    if (v === undefined || v === "") throw new Error(`${flag} needs a comma-separated list`);
    return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    switch (flag) {
      case "--quick":
        args.quick = true;
        break;
      case "--only":
        args.only = list(inline ?? argv[++i], flag);
        break;
      case "--systems":
        args.systems = list(inline ?? argv[++i], flag);
        break;
      case "--write":
        args.write = true;
        break;
      case "--no-write":
        args.write = false;
        break;
      case "--render":
        args.render = true;
        break;
      case "--out": {
        const name = inline ?? argv[++i];
        // A bare file name: the report goes under bench/results/, never elsewhere or over latest.json.
        if (name === undefined || !/^[\w.-]+\.json$/.test(name) || name === "latest.json") throw new Error(`--out needs a file name such as training.json (not latest.json), got ${name}`);
        args.out = name;
        break;
      }
      case "--help":
        console.log("usage: npm run bench -- [--quick] [--only a,b,...] [--systems id,...] [--write | --no-write] [--out name.json] | --render");
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a} (try --help)`);
    }
  }
  return args;
}

const RESULTS = new URL("./results/", import.meta.url);

function writeRendered(report: Report): void {
  writeFileSync(new URL("latest.md", RESULTS), markdown(report));
  writeFileSync(new URL("ratios.svg", RESULTS), svgChart(report));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.render) {
    writeRendered(JSON.parse(readFileSync(new URL("latest.json", RESULTS), "utf8")) as Report);
    console.log("wrote bench/results/latest.md and ratios.svg from latest.json");
    return;
  }
  const started = performance.now();
  const all = allSystems();
  const unknown = args.systems.filter((id) => !all.some((s) => s.id === id));
  if (unknown.length) throw new Error(`unknown system ${unknown.join(", ")}; systems: ${all.map((s) => s.id).join(", ")}`);
  const timed = args.systems.length ? all.filter((s) => args.systems.includes(s.id)) : all;
  const pool = all.filter((s) => timed.includes(s) || (REFERENCE_SYSTEMS as readonly string[]).includes(s.id));

  const selected = selectWorkloads(workloads(args.quick ? "quick" : "full"), args.only);
  if (selected.length === 0) throw new Error(`--only ${args.only.join(",")} selects no workload (use a-g, or an id such as b512)`);

  const unavailable = new Map<string, string>();
  for (const s of pool) {
    try {
      await s.load();
    } catch (e) {
      const why = e instanceof Error ? e.message.split("\n")[0]! : String(e);
      unavailable.set(s.id, `could not load: ${why}`);
      console.error(`! ${s.label} could not load: ${why}`);
    }
  }

  const results: WorkloadResult[] = [];
  const opts = {
    targetMs: args.quick ? 50 : 1000,
    maxRuns: args.quick ? 20 : 200,
    onStart: (w: { id: string }, s: { label: string }) => process.stderr.write(`  (${w.id}) ${s.label}...\n`),
  };
  // The first-call workload runs first, so its first sample is the cold first call in the process
  // (no library code warmed up by earlier workloads, no program in any peer's compile cache).
  const order = [...selected.filter((w) => w.group === "f"), ...selected.filter((w) => w.group !== "f")];
  for (const w of order) {
    process.stderr.write(`(${w.id}) ${w.title}\n`);
    results.push(await measureWorkload(w, timed, pool, unavailable, opts));
  }
  results.sort((x, y) => selected.findIndex((w) => w.id === x.id) - selected.findIndex((w) => w.id === y.id));

  const cpus = os.cpus();
  const report: Report = {
    info: {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus[0]?.model.trim() ?? "unknown",
      cores: cpus.length,
      platform: `${os.platform()} ${os.arch()}`,
      mode: args.quick ? "quick" : "full",
      only: args.only,
      wallSeconds: (performance.now() - started) / 1000,
      systems: timed.map((s) => {
        const why = unavailable.get(s.id);
        let version = "?";
        try {
          version = why === undefined ? s.version() : "?";
        } catch {
          // a version getter that fails must not lose the results
        }
        return { id: s.id, label: s.label, version, loaded: why === undefined, ...(why === undefined ? {} : { note: why }) };
      }),
    },
    workloads: results,
  };
  console.log(consoleTable(report));

  if (args.out !== undefined) {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(new URL(args.out, RESULTS), JSON.stringify(report, null, 2) + "\n");
    console.log(`\nwrote bench/results/${args.out} (${report.info.wallSeconds.toFixed(0)} s)`);
    return;
  }
  const partial = args.quick || args.only.length > 0 || args.systems.length > 0;
  if (args.write ?? !partial) {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(new URL("latest.json", RESULTS), JSON.stringify(report, null, 2) + "\n");
    writeRendered(report);
    console.log(`\nwrote bench/results/latest.json, latest.md, ratios.svg (${report.info.wallSeconds.toFixed(0)} s)`);
  } else {
    console.log(`\n${report.info.wallSeconds.toFixed(0)} s; partial run: result files not written (pass --write to write them)`);
  }
}

main().then(
  () => process.exit(0), // peers keep worker threads and native handles alive; the run is over
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
