/**
 * Smoke test of the benchmark suite (bench/): every system computes every workload it supports,
 * on tiny sizes, and its output matches symtensor eager's. No timing is asserted. A peer library
 * that cannot load is skipped (with the reason in the test name); one that loads must be right.
 */
import { describe, expect, it } from "vitest";
import { median, measureWorkload } from "../bench/measure.js";
import { encodeModel } from "../bench/onnx.js";
import { consoleTable, markdown, type Report, svgChart } from "../bench/report.js";
import { allSystems } from "../bench/systems.js";
import { checkOutput, selectWorkloads, type System, type Task, workloads } from "../bench/workloads.js";

const systems = allSystems();
const loadErrors = new Map<string, string>();
for (const s of systems) {
  try {
    await s.load();
  } catch (e) {
    loadErrors.set(s.id, e instanceof Error ? e.message.split("\n")[0]! : String(e));
  }
}

const tiny = workloads("tiny");
const eager = systems.find((s) => s.id === "st-eager")!;

async function output(s: System, task: Task): Promise<Float32Array | undefined> {
  const p = await s.prepare(task);
  if (!p) return undefined;
  try {
    // Twice: a system that caches (fn, jit, sessions) must give the same answer on reuse.
    const first = await p.run();
    const second = await p.run();
    expect(Array.from(second)).toEqual(Array.from(first));
    return first;
  } finally {
    await p.dispose?.();
  }
}

describe("bench systems agree with symtensor eager on tiny inputs", () => {
  it("symtensor eager and the plain-JS loops always load", () => {
    for (const id of ["st-eager", "st-fn", "js", "js-blocked"]) expect(loadErrors.get(id)).toBeUndefined();
  });

  for (const s of systems) {
    const why = loadErrors.get(s.id);
    describe(why === undefined ? s.label : `${s.label} (skipped: could not load: ${why})`, () => {
      for (const w of tiny) {
        it.skipIf(why !== undefined)(`(${w.id}) ${w.title}`, async () => {
          const want = await output(eager, w.referenceTask());
          expect(want).toBeDefined();
          const got = await output(s, w.task());
          if (got === undefined) return; // the system does not run this workload (e.g. plain JS has no compile step)
          const c = checkOutput(w, got, want!);
          expect(c.ok, `${s.id} on ${w.id}: ${c.detail}`).toBe(true);
        });
      }
    });
  }

  it("the systems that run each workload are the expected ones", async () => {
    const runs = async (id: string, w: string): Promise<boolean> => {
      const s = systems.find((x) => x.id === id)!;
      if (loadErrors.has(id)) return true;
      const p = await s.prepare(tiny.find((x) => x.id === w)!.task());
      await p?.dispose?.();
      return p !== undefined;
    };
    expect(await runs("js-blocked", "b16")).toBe(true);
    expect(await runs("js-blocked", "a")).toBe(false);
    expect(await runs("st-eager", "f")).toBe(false);
    expect(await runs("st-fn", "f")).toBe(true);
    expect(await runs("ort-1t", "f")).toBe(true);
    // The training step: symtensor both ways, tfjs, jax-js; no ONNX inference session, no plain JS.
    for (const id of ["st-eager", "st-fn", "tfjs-cpu", "tfjs-wasm", "jax-jit"]) expect(await runs(id, "g"), id).toBe(true);
    for (const id of ["js", "js-blocked", "ort-1t"]) expect(await runs(id, "g"), id).toBe(false);
  });

  it("the training step's output is the loss, the updated biases and last weights, and it moves the parameters", async () => {
    const w = tiny.find((x) => x.id === "g")!;
    const task = w.task();
    if (task.kind !== "mlpTrain") throw new Error("g is not a training task");
    const out = await output(eager, task);
    const { params } = task;
    const last = params.w.length - 1;
    expect(out!.length).toBe(1 + params.b.reduce((a, b) => a + b.length, 0) + params.w[last]!.length);
    // Cross-entropy of 10 classes starts near log(10); the large tiny-scale lr moves every bias.
    expect(out![0]).toBeGreaterThan(0.5);
    expect(out![0]).toBeLessThan(5);
    expect(out![1]).not.toBeCloseTo(params.b[0]![0]!, 6);
  });
});

describe("bench plumbing", () => {
  it("selects workloads by group letter or id", () => {
    const full = workloads("full");
    expect(full.map((w) => w.id)).toEqual(["a", "b256", "b512", "b1024", "c", "d", "e", "f", "g"]);
    expect(selectWorkloads(full, ["a", "d"]).map((w) => w.id)).toEqual(["a", "d"]);
    expect(selectWorkloads(full, ["b"]).map((w) => w.id)).toEqual(["b256", "b512", "b1024"]);
    expect(selectWorkloads(full, ["b512"]).map((w) => w.id)).toEqual(["b512"]);
    expect(selectWorkloads(full, [])).toHaveLength(full.length);
  });

  it("inputs are deterministic: the same seed gives the same arrays", () => {
    const t1 = workloads("tiny")[0]!.task();
    const t2 = workloads("tiny")[0]!.task();
    expect(t1.kind).toBe("elementwise");
    if (t1.kind === "elementwise" && t2.kind === "elementwise") expect(Array.from(t1.x)).toEqual(Array.from(t2.x));
  });

  it("checkOutput applies rtol/atol elementwise and relative L1 for matmul", () => {
    const want = Float32Array.of(1, 2, 1000, Number.NaN);
    expect(checkOutput({ check: "close" }, Float32Array.of(1, 2.00001, 1000.05, Number.NaN), want).ok).toBe(true);
    expect(checkOutput({ check: "close" }, Float32Array.of(1, 2.001, 1000, Number.NaN), want).ok).toBe(false);
    expect(checkOutput({ check: "close" }, Float32Array.of(1, 2, 1000, 0), want).ok).toBe(false);
    expect(checkOutput({ check: "close" }, Float32Array.of(1, 2, 1000), want).ok).toBe(false);
    const m = Float32Array.of(10, -10, 0.001);
    expect(checkOutput({ check: "l1" }, Float32Array.of(10, -10, 0.0011), m).ok).toBe(true);
    expect(checkOutput({ check: "l1" }, Float32Array.of(10.01, -10, 0.001), m).ok).toBe(false);
    expect(checkOutput({ check: "l1" }, Float32Array.of(Number.NaN, -10, 0.001), m).ok).toBe(false);
  });

  it("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("a system whose output differs is reported as a mismatch and not timed", async () => {
    const w = tiny.find((x) => x.id === "a")!;
    const wrong: System = {
      id: "wrong",
      label: "wrong",
      load: async () => {},
      version: () => "0",
      prepare: async (task) => (task.kind === "elementwise" ? { run: () => new Float32Array(task.x.length) } : undefined),
    };
    const broken: System = { ...wrong, id: "broken", label: "broken", prepare: async () => ({ run: () => { throw new Error("boom"); } }) };
    const r = await measureWorkload(w, [eager, wrong, broken], [eager], new Map([["gone", "could not load: x"]]), { targetMs: 1, maxRuns: 2 });
    expect(r.reference).toBe("st-eager");
    const byId = new Map(r.results.map((x) => [x.system, x]));
    expect(byId.get("st-eager")?.status).toBe("ok");
    expect(byId.get("wrong")?.status).toBe("mismatch");
    expect(byId.get("wrong")?.medianMs).toBeUndefined();
    expect(byId.get("broken")?.status).toBe("error");
    expect(byId.get("broken")?.note).toContain("boom");
  });

  it("writes the markdown table and an SVG chart with one bar per measured ratio", () => {
    const report: Report = {
      info: { date: "2026-01-01T00:00:00.000Z", node: "v20", cpu: "test cpu", cores: 2, platform: "linux x64", mode: "full", only: [], wallSeconds: 1, systems: [{ id: "st-fn", label: "symtensor fn", version: "0.1.0", loaded: true }] },
      workloads: [
        {
          id: "e",
          group: "e",
          title: "tiny <add> & read",
          callsPerSample: 10,
          micro: true,
          results: [
            { system: "st-fn", label: "symtensor fn", status: "ok", medianMs: 0.002, runs: 20, ratio: 1 },
            { system: "js", label: "plain JS loop", status: "ok", medianMs: 0.0001, runs: 20, ratio: 0.05 },
            { system: "tfjs-cpu", label: "tfjs cpu", status: "mismatch", note: "differs | badly" },
            { system: "js-blocked", label: "plain JS (blocked matmul)", status: "n/a" },
          ],
        },
      ],
    };
    const md = markdown(report);
    expect(md).toContain("| (e) tiny <add> & read | 2 µs (1x) | 0.1 µs (0.05x) | mismatch |");
    expect(md).toContain("differs \\| badly");
    expect(md).not.toContain("blocked matmul");
    const svg = svgChart(report);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("tiny &lt;add&gt; &amp; read");
    expect(svg.match(/<rect [^>]*fill="#/g)).toHaveLength(2); // background + the one plain-JS bar
    expect(consoleTable(report)).toContain("plain JS loop");
  });

  it("the ONNX writer encodes varints and nested messages", () => {
    const bytes = encodeModel({ inputs: [{ name: "a", shape: [300] }], outputs: [{ name: "y", shape: [300] }], nodes: [{ op: "Relu", inputs: ["a"], outputs: ["y"] }] });
    // ModelProto starts with ir_version = 8 (field 1, varint).
    expect(Array.from(bytes.slice(0, 2))).toEqual([0x08, 0x08]);
    // The dim 300 is written as the varint ac 02.
    expect(Buffer.from(bytes).includes(Buffer.from([0x08, 0xac, 0x02]))).toBe(true);
  });
});
