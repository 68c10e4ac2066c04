import { afterEach, describe, expect, it, vi } from "vitest";
import * as st from "../../src/index.js";
import { debugPrint, fn, type NDArray, SymbolicTensor, SymbolicTensorError, type Tensor, tensor } from "../../src/index.js";

const THIS_FILE = "tests/trace/fn.test.ts";

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

afterEach(() => {
  st.setWarningHandler(undefined);
  st.setDebugPrinter(undefined);
});

describe("fn(): tracing and caching", () => {
  it("traces once per signature and computes what eager code computes", () => {
    const f = fn((x: Tensor, y: Tensor) => st.relu(x.matmul(y)).reduceSum(-1));
    const x = st.tensor([[1, -2], [3, 4]]);
    const y = st.tensor([[1, 0], [0, -1]]);
    expect(f(x, y).tolist()).toEqual(st.relu(x.matmul(y)).reduceSum(-1).tolist());
    expect(f(st.tensor([[0, 1], [1, 0]]), y).tolist()).toEqual([0, 1]);
    expect(f.traceCount).toBe(1);
  });
  it("retraces on a new shape, dtype, static value or tree structure, and never otherwise", () => {
    const f = fn((x: Tensor, k: number) => x.mul(k));
    f(st.zeros([2]), 2);
    f(st.ones([2]), 2);
    expect(f.traceCount).toBe(1);
    f(st.zeros([3]), 2);
    expect(f.traceCount).toBe(2);
    f(st.zeros([3], { dtype: "float64" }), 2);
    expect(f.traceCount).toBe(3);
    expect(f(st.ones([3]), 5).tolist()).toEqual([5, 5, 5]);
    expect(f.traceCount).toBe(4);
    const g = fn((p: { a: Tensor; b?: Tensor }) => (p.b ? p.a.add(p.b) : p.a.neg()));
    g({ a: st.ones([2]) });
    g({ a: st.ones([2]), b: st.ones([2]) });
    expect(g.traceCount).toBe(2);
    f.clearCache();
    f(st.ones([3]), 5);
    expect(f.traceCount).toBe(5);
  });
  it("warns once, naming the changing argument, when the last 5 calls all retraced", () => {
    const warnings: st.SymtensorWarning[] = [];
    st.setWarningHandler((w) => warnings.push(w));
    const f = fn((x: Tensor) => x.add(1), { name: "step" });
    for (let n = 1; n <= 8; n++) f(st.zeros([n]));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe("ST007");
    expect(warnings[0]!.message).toMatch(/`step` was traced on each of its last 5 calls/);
    expect(warnings[0]!.message).toMatch(/argument \[0\] changed from f32\[4\] to f32\[5\]/);
    const g = fn((x: Tensor, lr: number) => x.mul(lr), { name: "update" });
    for (let i = 0; i < 6; i++) g(st.ones([2]), 0.1 * (i + 1));
    expect(warnings[1]!.message).toMatch(/argument \[1\] changed from 0.4 to 0.5/);
  });
  it("accepts pytrees of tensors mixed with static values, and returns pytrees", () => {
    const f = fn((params: { w: Tensor; layers: Tensor[] }, opts: { scale: number; tag: string }) => ({
      out: params.layers.reduce((h, b) => h.add(b), params.w).mul(opts.scale),
      tag: opts.tag,
      n: params.layers.length,
    }));
    const r = f({ w: st.ones([2]), layers: [st.ones([2]), st.full([2], 3)] }, { scale: 2, tag: "x" });
    expect(r.out.tolist()).toEqual([10, 10]);
    expect(r.tag).toBe("x");
    expect(r.n).toBe(2);
    expect(r.out).toBeInstanceOf(st.EagerTensor);
  });
  it("NDArray and TypedArray arguments are tensor inputs, not static values", () => {
    const f = fn((x: Tensor) => x.add(1));
    expect(f(new Float32Array([1, 2]) as never).tolist()).toEqual([2, 3]);
    expect(f(new Float32Array([5, 6]) as never).tolist()).toEqual([6, 7]);
    expect(f.traceCount).toBe(1);
    expect((f(tensor([1]).numpy() as never) as Tensor).tolist()).toEqual([2]);
  });
  it("closed-over eager tensors become constants, held by reference", () => {
    const w = st.tensor([[2, 0], [0, 3]]);
    const f = fn((x: Tensor) => x.matmul(w));
    expect(f(st.tensor([[1, 1]])).tolist()).toEqual([[2, 3]]);
    const g = f.lower(st.tensor([[1, 1]]));
    expect(g.constants).toHaveLength(1);
    // Graphs are immutable: passes build new ones (immer), nothing edits a traced graph in place.
    expect(Object.isFrozen(g) && Object.isFrozen(g.nodes) && Object.isFrozen(g.nodes[0]!.attrs)).toBe(true);
    expect(g.constants[0]!.data).toBe((w as st.EagerTensor).buffer());
  });
  it("console.log runs once, at trace time; debugPrint prints on every run", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const printed: [string, NDArray][] = [];
    st.setDebugPrinter((label, v) => printed.push([label, v]));
    const f = fn((x: Tensor) => {
      console.log("tracing");
      return debugPrint("doubled", x.mul(2)).add(1);
    });
    f(st.tensor([1, 2]));
    f(st.tensor([3, 4]));
    expect(log.mock.calls.filter((c) => c[0] === "tracing")).toHaveLength(1);
    log.mockRestore();
    expect(printed.map(([l, v]) => [l, v.tolist()])).toEqual([["doubled", [2, 4]], ["doubled", [6, 8]]]);
    expect(f.ir(st.tensor([1, 2]))).toMatch(/debugPrint\(%0\) \{label = "doubled"\}/);
  });
  it("debugPrint works eagerly too and returns its input", () => {
    const printed: string[] = [];
    st.setDebugPrinter((label, v) => printed.push(`${label}=${v.tolist()}`));
    const x = st.tensor([1, 2]);
    expect(debugPrint("x", x).tolist()).toEqual([1, 2]);
    expect(printed).toEqual(["x=1,2"]);
  });
  it("a traced function called inside another trace is inlined", () => {
    const inner = fn((x: Tensor) => x.exp());
    const outer = fn((x: Tensor) => inner(x).add(1));
    expect(outer(st.zeros([2])).tolist()).toEqual([2, 2]);
    expect(inner.traceCount).toBe(0);
    expect(outer.lower(st.zeros([2])).nodes.map((n) => n.op)).toEqual(["exp", "add"]);
  });
  it("ir() prints the traced graph with the function name and source locations", () => {
    const predict = fn((x: Tensor, w: Tensor) => st.argmax(st.relu(st.matmul(x, w)), -1));
    const text = predict.ir(st.zeros([4, 3]), st.zeros([3, 2]), { stage: "traced" });
    expect(text).toMatch(/^func @predict\(%arg0: f32\[4,3\], %arg1: f32\[3,2\]\) -> \(i32\[4\]\) \{/);
    expect(text).toMatch(/matmul\(%arg0, %arg1\)/);
    // The default stage is the optimized graph: matmul and relu fused into one kernel.
    expect(predict.ir(st.zeros([4, 3]), st.zeros([3, 2]))).toMatch(/fused\(%arg0, %arg1\) \{kind = "matmul"\}/);
    expect(text).toContain(THIS_FILE);
    expect(predict.ir(st.zeros([4, 3]), st.zeros([3, 2]), { stage: "traced", loc: false })).not.toContain("loc(");
    expect(predict.ir(st.zeros([4, 3]), st.zeros([3, 2]), { format: "dot" })).toMatch(/^digraph/);
    expect(JSON.parse(predict.ir(st.zeros([4, 3]), st.zeros([3, 2]), { format: "json" })).name).toBe("predict");
    expect(predict.traceCount).toBe(1);
  });
});

describe("symbolic tensors", () => {
  const conversions: [string, string, (t: Tensor) => unknown][] = [
    ["ST001", "numpy", (t) => t.numpy()],
    ["ST001", "item", (t) => t.item()],
    ["ST001", "tolist", (t) => t.tolist()],
    ["ST002", "Number", (t) => Number(t)],
    ["ST002", "unary plus", (t) => +(t as unknown as number)],
    ["ST002", "comparison", (t) => (t as unknown as number) > 0],
    ["ST002", "arithmetic", (t) => (t as unknown as number) * 2],
    ["ST003", "for...of", (t) => { for (const _ of t as unknown as Iterable<Tensor>) void _; }],
    ["ST003", "spread", (t) => [...(t as unknown as Iterable<Tensor>)]],
    ["ST003", "Array.from", (t) => Array.from(t as unknown as Iterable<Tensor>)],
  ];
  for (const [code, what, convert] of conversions) {
    it(`${what} of a symbolic tensor throws ${code} naming the function, the tensor and the user's line`, () => {
      const predict = fn((x: Tensor) => {
        const h = x.add(1);
        convert(h);
        return h;
      });
      const e = thrown(() => predict(st.zeros([2, 3]))) as SymbolicTensorError;
      expect(e).toBeInstanceOf(SymbolicTensorError);
      expect(e.code).toBe(code);
      expect(e.functionName).toBe("predict");
      expect(e.tensorType).toBe("f32[2,3]");
      expect(e.op).toBe("add");
      expect(e.createdAt).toMatch(new RegExp(`^${THIS_FILE.replace(/\./g, "\\.")}:\\d+:\\d+$`));
      expect(e.message).toContain("while tracing `predict`");
      expect(e.message).toMatch(/%0: f32\[2,3\] = add\(%arg0, %c0\)/);
      expect(e.message).toContain("reduceSum(t)");
      expect(e.message).toContain("debugPrint");
      expect(e.message).toContain(`docs/errors.md#${code.toLowerCase()}`);
    });
    it(`${what} works on eager tensors`, () => {
      expect(() => convert(st.tensor([[5]]))).not.toThrow();
    });
  }
  it("string coercion describes the tensor instead of throwing", () => {
    let seen = "";
    const predict = fn((x: Tensor) => {
      const h = x.add(1);
      seen = `${h}`;
      return h;
    });
    predict(st.zeros([64, 10]));
    expect(seen).toBe("SymbolicTensor<f32[64,10]> %0 = add(...) in predict");
  });
  it("numpy() on a closed-over eager tensor inside a trace is legal", () => {
    const w = st.tensor([1, 2]);
    const f = fn((x: Tensor) => x.add(w.numpy().get(1) as number));
    expect(f(st.zeros([1])).tolist()).toEqual([2]);
  });
  it("an escaped tracer used later throws ST004 saying which function traced it", () => {
    let leaked: Tensor | undefined;
    const f = fn((x: Tensor) => {
      leaked = x.exp();
      return x;
    }, { name: "leaky" });
    f(st.zeros([2]));
    expect(leaked).toBeInstanceOf(SymbolicTensor);
    for (const use of [() => st.add(leaked!, 1), () => fn((y: Tensor) => y.add(leaked!))(st.zeros([2])), () => f(leaked!)]) {
      const e = thrown(use) as SymbolicTensorError;
      expect(e).toBeInstanceOf(SymbolicTensorError);
      expect(e.code).toBe("ST004");
      expect(e.functionName).toBe("leaky");
      expect(e.message).toMatch(/trace of `leaky`/);
      expect(e.message).toMatch(/Return it from the traced function/);
    }
  });
  it("every op's shape and dtype rules apply while tracing", () => {
    const f = fn((x: Tensor) => st.matmul(x, x));
    expect(thrown(() => f(st.zeros([2, 3])))).toBeInstanceOf(st.ShapeError);
  });
});

describe("@fn() as a method decorator", () => {
  class Dense {
    w: Tensor;
    traces = 0;
    constructor(w: Tensor) {
      this.w = w;
    }
    @fn()
    forward(x: Tensor): Tensor {
      this.traces++;
      return st.relu(x.matmul(this.w));
    }
  }
  it("traces per instance and signature; this's tensor fields are constants of that trace", () => {
    const a = new Dense(st.tensor([[1], [-1]]));
    const b = new Dense(st.tensor([[-1], [1]]));
    const x = st.tensor([[3, 1]]);
    expect(a.forward(x).tolist()).toEqual([[2]]);
    expect(a.forward(x).tolist()).toEqual([[2]]);
    expect(a.traces).toBe(1);
    expect(b.forward(x).tolist()).toEqual([[0]]);
    expect(b.traces).toBe(1);
    a.w = st.tensor([[2], [0]]);
    expect(a.forward(x).tolist()).toEqual([[6]]);
    expect(a.traces).toBe(2);
  });
});

describe("fn(): optimization and compilation", () => {
  const softmaxFn = () => fn((x: Tensor) => st.softmax(x, -1), { name: "sm", verifyEach: true });
  it("optimizes with the default pipeline and runs generated kernels; results equal the interpreter's", () => {
    const x = st.randomNormal(st.randomKey(1), [8, 33]);
    const compiled = softmaxFn();
    const interpreted = fn((y: Tensor) => st.softmax(y, -1), { executor: "interpreter", passes: [] });
    expect(compiled(x).numpy().data).toEqual(interpreted(x).numpy().data);
    expect(compiled.stages(x).map((s) => s.pass)).toEqual(["canonicalize", "cse", "dce", "fuse", "dce"]);
    expect(compiled.optimized(x).nodes.map((n) => n.op)).toEqual(["reduceMax", "fused", "div"]);
    expect(compiled.lower(x).nodes.length).toBeGreaterThan(3);
    const kernels = compiled.kernels(x);
    expect(kernels.map((k) => k.op)).toEqual(["reduceMax", "fused", "div"]);
    expect(kernels.filter((k) => k.op === "fused").every((k) => typeof k.source === "string" && k.source.includes("for ("))).toBe(true);
    expect(compiled.memoryPlan(x).peakBytes).toBeGreaterThan(0);
  });
  it("passes: [] keeps the traced graph; an unknown pass name is a ValueError", () => {
    const f = fn((x: Tensor) => x.add(0).mul(1), { passes: [] });
    expect(f.optimized(st.ones([2])).nodes.map((n) => n.op)).toEqual(["add", "mul"]);
    expect(() => fn((x: Tensor) => x, { passes: ["nope"] })(st.ones([1]))).toThrow(st.ValueError);
    expect(() => fn((x: Tensor) => x, { executor: "gpu" as never })).toThrow(st.ValueError);
  });
  it("SYMTENSOR_DUMP=after-all writes every stage and the kernels to SYMTENSOR_DUMP_DIR", async () => {
    const { mkdtempSync, readdirSync, readFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(`${tmpdir()}/symtensor-dump-`);
    vi.stubEnv("SYMTENSOR_DUMP", "after-all");
    vi.stubEnv("SYMTENSOR_DUMP_DIR", dir);
    try {
      softmaxFn()(st.ones([2, 3]));
    } finally {
      vi.unstubAllEnvs();
    }
    const files = readdirSync(dir).sort();
    expect(files).toEqual([
      "sm.1.00-traced.stir", "sm.1.01-canonicalize.stir", "sm.1.02-cse.stir", "sm.1.03-dce.stir",
      "sm.1.04-fuse.stir", "sm.1.05-dce.stir", "sm.1.kernels.js",
    ]);
    expect(st.parse(readFileSync(`${dir}/sm.1.05-dce.stir`, "utf8")).nodes.map((n) => n.op)).toEqual(["reduceMax", "fused", "div"]);
  });
});
