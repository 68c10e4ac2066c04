/**
 * Control flow (cond, whileLoop, forLoop, scan): eager and traced runs agree (compiled and
 * interpreted), with pytrees, closures over outer tensors, nesting and debugPrint in bodies;
 * type errors are typed; graphs round-trip through text; gradients match finite differences.
 */
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import {
  add,
  cond,
  debugPrint,
  DTypeError,
  fn,
  forLoop,
  grad,
  greater,
  IRVerifyError,
  less,
  mul,
  NonDifferentiableError,
  parse,
  print,
  reduceSum,
  scan,
  setDebugPrinter,
  ShapeError,
  sin,
  tensor,
  type Tensor,
  valueAndGrad,
  ValueError,
  verify,
  whileLoop,
} from "../../src/index.js";

const f64 = (x: st.NestedArray): Tensor => tensor(x, { dtype: "float64" });
const i32 = (x: st.NestedArray): Tensor => tensor(x, { dtype: "int32" });

/** Every tensor leaf of a result tree as [dtype, shape, values]. */
function leaves(x: unknown): unknown {
  if (x instanceof st.Tensor) return [x.dtype, [...x.shape], x.tolist()];
  if (Array.isArray(x)) return x.map(leaves);
  if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, leaves(v)]));
  return x;
}

/** Runs f eagerly, compiled and interpreted; all three must agree exactly. Returns the eager result. */
function agree<A extends unknown[]>(f: (...args: A) => unknown, ...args: A): unknown {
  const eager = leaves(f(...args));
  expect(leaves(fn(f)(...args))).toEqual(eager);
  expect(leaves(fn(f, { executor: "interpreter" })(...args))).toEqual(eager);
  expect(leaves(fn(f, { passes: [] })(...args))).toEqual(eager);
  return eager;
}

function expectError(f: () => unknown, cls: new (...a: never[]) => st.SymtensorError, code: string, message?: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(cls);
  expect((err as st.SymtensorError).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
}

describe("cond", () => {
  const f = (x: Tensor, y: Tensor) => cond(greater(reduceSum(x), 0), (a: Tensor, b: Tensor) => ({ s: add(a, b), p: [mul(a, b)] }), (a: Tensor, b: Tensor) => ({ s: st.sub(a, b), p: [a] }), x, y);
  it("takes the right branch, eagerly and traced, with pytree operands and results", () => {
    expect(agree(f, tensor([1, 2]), tensor([3, 4]))).toEqual({ p: [["float32", [2], [3, 8]]], s: ["float32", [2], [4, 6]] });
    expect(agree(f, tensor([-1, -2]), tensor([3, 4]))).toEqual({ p: [["float32", [2], [-1, -2]]], s: ["float32", [2], [-4, -6]] });
  });
  it("captures outer symbolic tensors as operands (closures)", () => {
    const g = (x: Tensor, y: Tensor, p: Tensor) => cond(p, () => mul(x, y), () => add(x, 1));
    for (const p of [true, false]) agree(g, tensor([1, 2]), tensor([3, 4]), tensor(p));
    const graph = fn(g).lower(tensor([1, 2]), tensor([3, 4]), tensor(true));
    const node = graph.nodes.find((n) => n.op === "cond")!;
    expect(node.operands).toEqual(["%arg2", "%arg0", "%arg1"]);
    expect(node.regions!.map((r) => r.params.length)).toEqual([2, 2]);
  });
  it("works with int and bool results and 0-d / size-0 tensors", () => {
    const g = (p: Tensor, x: Tensor, e: Tensor) => cond(p, () => [st.logicalNot(x), e, i32(3)], () => [x, add(e, 1), i32(4)]);
    for (const p of [true, false]) agree(g, tensor(p), tensor([true, false]), tensor([], { dtype: "float64" }));
  });
  it("rejects branches of different types, structures and a non-bool predicate", () => {
    const x = tensor([1, 2, 3]);
    const shapes = fn((p: Tensor, v: Tensor) => cond(p, () => v, () => st.concat([v, v], 0)));
    expectError(() => shapes(tensor(true), x), ShapeError, "ST401", /cond: the branches return f32\[3\] and f32\[6\] at result \[0\]/);
    const dtypes = fn((p: Tensor, v: Tensor) => cond(p, () => v, () => st.cast(v, "int32")));
    expectError(() => dtypes(tensor(true), x), DTypeError, "ST402", /f32\[3\] and i32\[3\]/);
    const structure = fn((p: Tensor, v: Tensor) => cond(p, () => [v], () => [v, v]));
    expectError(() => structure(tensor(true), x), ValueError, "ST404", /structure/);
    expectError(() => cond(tensor(1), () => x, () => x), DTypeError, "ST402", /pred must be a bool/);
    expectError(() => cond(tensor([true, false]), () => x, () => x), ShapeError, "ST401", /scalar/);
  });
});

describe("whileLoop", () => {
  const f = (x: Tensor) => whileLoop((s: { v: Tensor; n: Tensor }) => less(reduceSum(s.v), 100), (s) => ({ v: mul(s.v, 2), n: add(s.n, 1) }), { v: x, n: i32(0) });
  it("runs until the condition is false (eager = traced)", () => {
    expect(agree(f, tensor([1, 2]))).toEqual({ n: ["int32", [], 6], v: ["float32", [2], [64, 128]] });
    expect(agree(f, tensor([100, 2]))).toEqual({ n: ["int32", [], 0], v: ["float32", [2], [100, 2]] });
  });
  it("closes over outer tensors in the condition and the body", () => {
    const g = (x: Tensor, limit: Tensor, step: Tensor) => whileLoop((v: Tensor) => less(reduceSum(v), limit), (v: Tensor) => add(v, step), x);
    agree(g, f64([0, 1]), f64(10), f64([1, 0.5]));
  });
  it("rejects a body that changes the carry's type and a non-bool condition", () => {
    const bad = (x: Tensor) => whileLoop((v: Tensor) => less(reduceSum(v), 10), (v: Tensor) => st.concat([v, v], 0), x);
    expectError(() => fn(bad)(tensor([1])), ShapeError, "ST401", /whileLoop: the body must return the carry's types/);
    expectError(() => bad(tensor([1])), ShapeError, "ST401");
    const cast = (x: Tensor) => whileLoop((v: Tensor) => less(reduceSum(v), 10), (v: Tensor) => st.cast(add(v, 1), "float64"), x);
    expectError(() => fn(cast)(tensor([1])), DTypeError, "ST402");
    const notBool = (x: Tensor) => whileLoop((v: Tensor) => reduceSum(v), (v: Tensor) => v, x);
    expectError(() => fn(notBool)(tensor([1])), DTypeError, "ST402", /bool scalar/);
    expectError(() => notBool(tensor([1])), DTypeError, "ST402");
  });
  it("has no gradient: ST008 suggesting forLoop", () => {
    const loss = (x: Tensor) => reduceSum(whileLoop((v: Tensor) => less(reduceSum(v), 10), (v: Tensor) => mul(v, 2), x));
    expectError(() => grad(loss)(f64([1, 2])), NonDifferentiableError, "ST008", /forLoop/);
  });
});

describe("forLoop", () => {
  it("passes the index as an int32 scalar (eager = traced), including empty ranges", () => {
    const f = (x: Tensor) => forLoop(2, 6, (i: Tensor, c: [Tensor, Tensor]): [Tensor, Tensor] => [add(c[0], mul(i, x)), add(c[1], i)], [st.zerosLike(x), i32(0)]);
    expect(agree(f, tensor([1, -1]))).toEqual([["float32", [2], [14, -14]], ["int32", [], 14]]);
    const empty = (x: Tensor) => forLoop(3, 3, (_i: Tensor, c: Tensor) => mul(c, 2), x);
    expect(agree(empty, tensor([5]))).toEqual(["float32", [1], [5]]);
  });
  it("nests inside cond and scan, and cond nests inside it", () => {
    const f = (x: Tensor, p: Tensor) =>
      cond(
        p,
        () => forLoop(0, 3, (i: Tensor, c: Tensor) => cond(greater(i, 0), () => mul(c, x), () => add(c, x)), x),
        () => scan((c: Tensor, r: Tensor) => [forLoop(0, 2, (_j: Tensor, d: Tensor) => add(d, r), c), c], st.zerosLike(x), st.stack([x, x, x], 0))[0],
      );
    for (const p of [true, false]) agree(f, tensor([1, 2]), tensor(p));
  });
  it("debugPrint in a body prints on every iteration, eagerly and compiled", () => {
    const seen: string[] = [];
    const prev = setDebugPrinter((label, v) => seen.push(`${label}=${JSON.stringify(v.tolist())}`));
    try {
      const f = (x: Tensor) => forLoop(0, 3, (_i: Tensor, c: Tensor) => add(debugPrint("c", c), 1), x);
      f(tensor([0]));
      const eager = [...seen];
      expect(eager).toEqual(["c=[0]", "c=[1]", "c=[2]"]);
      seen.length = 0;
      const g = fn(f);
      g(tensor([0]));
      expect(seen).toEqual(eager);
      seen.length = 0;
      g(tensor([0]));
      expect(seen).toEqual(eager);
      seen.length = 0;
      fn(f, { executor: "interpreter" })(tensor([0]));
      expect(seen).toEqual(eager);
    } finally {
      setDebugPrinter(prev);
    }
  });
  it("rejects non-integer bounds and a body that changes types", () => {
    expectError(() => forLoop(0, 1.5, (_i: Tensor, c: Tensor) => c, tensor([1])), ValueError, "ST404", /hi must be a JS integer/);
    const bad = (x: Tensor) => forLoop(0, 2, (i: Tensor, _c: Tensor) => i, x);
    expectError(() => fn(bad)(tensor([1])), DTypeError, "ST402");
  });
});

describe("scan", () => {
  it("returns the final carry and the stacked ys (eager = traced), pytree xs, reverse", () => {
    const f = (xs: { a: Tensor; b: Tensor }, reverse: boolean) =>
      scan((c: Tensor, x: { a: Tensor; b: Tensor }) => [add(c, reduceSum(mul(x.a, x.b))), { c, s: reduceSum(x.a) }], tensor(0), xs, { reverse });
    const xs = { a: tensor([[1, 2], [3, 4], [5, 6]]), b: tensor([1, -1, 2]) };
    expect(agree(f, xs, false)).toEqual([["float32", [], 18], { c: ["float32", [3], [0, 3, -4]], s: ["float32", [3], [3, 7, 11]] }]);
    expect(agree(f, xs, true)).toEqual([["float32", [], 18], { c: ["float32", [3], [15, 22, 0]], s: ["float32", [3], [3, 7, 11]] }]);
  });
  it("handles zero steps and closures", () => {
    const f = (xs: Tensor, w: Tensor) => scan((c: Tensor, x: Tensor) => [add(c, mul(x, w)), mul(c, w)], st.zerosLike(w), xs);
    agree(f, tensor([], { dtype: "float32" }).reshape([0, 2]), tensor([1, 2]));
    agree(f, tensor([[1, 2], [3, 4]]), tensor([1, 2]));
  });
  it("rejects xs of different lengths and a carry of another type", () => {
    expectError(() => scan((c: Tensor, x: Tensor[]) => [c, x[0]!], tensor(0), [tensor([1, 2]), tensor([1, 2, 3])]), ShapeError, "ST401", /disagree/);
    const bad = (xs: Tensor) => scan((c: Tensor, x: Tensor) => [x, c], tensor([0, 0]), xs);
    expectError(() => fn(bad)(tensor([1, 2, 3])), ShapeError, "ST401");
  });
});

describe("IR", () => {
  const f = (x: Tensor, y: Tensor) => {
    const c = cond(greater(reduceSum(x), 0), () => mul(x, y), () => add(x, y));
    const w = whileLoop((v: Tensor) => less(reduceSum(v), 100), (v: Tensor) => mul(v, 2), c);
    const l = forLoop(0, 3, (i: Tensor, v: Tensor) => add(v, mul(i, y)), w);
    return scan((s: Tensor, r: Tensor) => [add(s, r), mul(s, y)], l, st.stack([x, y], 0));
  };
  it("prints, parses and verifies; the parsed graph runs like the traced one", () => {
    const x = tensor([1, 2]);
    const y = tensor([3, 4]);
    const g = fn(f).lower(x, y);
    const text = print(g, { elideConstants: false });
    expect(text).toContain("= cond(");
    expect(text).toContain("= while(");
    expect(text).toContain("= for(");
    expect(text).toContain("= scan(");
    const parsed = parse(text);
    verify(parsed);
    expect(print(parsed, { elideConstants: false })).toBe(text);
    const inputs = [x, y].map((t) => ({ data: t.numpy().data, type: t.type }));
    const a = st.interpret(parsed, inputs).map((b) => Array.from(b.data));
    const b = st.compile(parsed).run(inputs).map((b) => Array.from(b.data));
    expect(a).toEqual(b);
    const eager = f(x, y) as [Tensor, Tensor];
    expect(a).toEqual(eager.map((t) => Array.from(t.numpy().data)));
  });
  it("the verifier rejects regions of the wrong types", () => {
    const bad = `func @f(%p: bool[], %x: f32[3]) -> (f32[3]) {
  %0 = cond(%p, %x) : f32[3] {
    ^(%a: f32[3]):
      yield %a
  }, {
    ^(%a: f32[3]):
      %b = cast(%a) {dtype = "int32"} : i32[3]
      yield %b
  }
  return %0
}`;
    expectError(() => verify(parse(bad)), IRVerifyError, "ST302", /cond/);
    const wrongParams = `func @f(%x: f32[3]) -> (f32[3]) {
  %0 = for(%x) {hi = 2, lo = 0, numCarry = 1} : f32[3] {
    ^(%c: f32[3]):
      yield %c
  }
  return %0
}`;
    expectError(() => verify(parse(wrongParams)), IRVerifyError, "ST302", /for/);
  });
});

describe("gradients through control flow (float64, vs finite differences)", () => {
  function numeric(f: (...a: Tensor[]) => Tensor, args: number[][], k: number): number[] {
    const h = 1e-6;
    return args[k]!.map((_, j) => {
      const plus = args.map((a) => [...a]);
      const minus = args.map((a) => [...a]);
      plus[k]![j]! += h;
      minus[k]![j]! -= h;
      return ((f(...plus.map((a) => f64(a))).item() as number) - (f(...minus.map((a) => f64(a))).item() as number)) / (2 * h);
    });
  }
  function check(f: (...a: Tensor[]) => Tensor, args: number[][]): void {
    const g = grad(f, { argnums: args.map((_, i) => i) })(...args.map((a) => f64(a))) as Tensor[];
    args.forEach((_, k) => {
      const want = numeric(f, args, k);
      const got = g[k]!.tolist() as number[];
      got.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
    });
  }
  it("cond: the taken branch's gradient, with closures", () => {
    const loss = (x: Tensor, y: Tensor) => reduceSum(cond(greater(reduceSum(x), 0), (a: Tensor) => mul(mul(a, a), y), (a: Tensor) => sin(add(a, y)), x));
    check(loss, [[0.3, 0.5], [0.7, -0.2]]);
    check(loss, [[-0.3, -0.5], [0.7, -0.2]]);
  });
  it("forLoop: carries and captures", () => {
    const loss = (x: Tensor, y: Tensor) => reduceSum(forLoop(0, 4, (i: Tensor, c: Tensor) => sin(add(mul(c, y), i)), x));
    check(loss, [[0.3, 0.5], [0.7, -0.2]]);
  });
  it("scan: carry, xs, ys and captures, forward and reverse", () => {
    for (const reverse of [false, true]) {
      const loss = (c0: Tensor, xs: Tensor, w: Tensor) => {
        const [c, ys] = scan((c: Tensor, x: Tensor) => [sin(mul(add(c, x), w)), mul(c, x)], c0, xs.reshape([3, 2]), { reverse });
        return add(reduceSum(c), reduceSum(mul(ys, ys)));
      };
      check(loss, [[0.1, 0.2], [1, 2, 3, 4, 5, 6].map((v) => v / 10), [0.7, -0.4]]);
    }
  });
  it("fn(valueAndGrad(loss with forLoop)) equals the eager gradient", () => {
    const loss = (w: Tensor, x: Tensor) => reduceSum(forLoop(0, 3, (_i: Tensor, h: Tensor) => st.tanh(st.matmul(h, w)), x));
    const w = f64([[0.5, -0.3], [0.2, 0.8]]);
    const x = f64([[1, 2]]);
    const eager = valueAndGrad(loss)(w, x) as [Tensor, Tensor];
    const traced = fn(valueAndGrad(loss))(w, x) as [Tensor, Tensor];
    expect(traced[0].item()).toBeCloseTo(eager[0].item() as number, 12);
    expect(traced[1].tolist()).toEqual(eager[1].tolist());
    const flat = (t: Tensor): number[] => (t.tolist() as number[][]).flat();
    const l = (wv: number[]) => loss(f64([wv.slice(0, 2), wv.slice(2)]), x).item() as number;
    const w0 = flat(w);
    flat(eager[1]).forEach((g, j) => {
      const p = [...w0];
      const m = [...w0];
      p[j]! += 1e-6;
      m[j]! -= 1e-6;
      expect(g).toBeCloseTo((l(p) - l(m)) / 2e-6, 5);
    });
  });
  it("grad of grad through forLoop and cond", () => {
    const f = (x: Tensor) => reduceSum(forLoop(0, 3, (_i: Tensor, c: Tensor) => sin(mul(c, x)), x));
    const g = grad(f);
    const gg = grad((x: Tensor) => g(x) as Tensor);
    const h = 1e-5;
    const at = (v: number): number => (g(f64(v)) as Tensor).item() as number;
    expect((gg(f64(0.7)) as Tensor).item()).toBeCloseTo((at(0.7 + h) - at(0.7 - h)) / (2 * h), 5);
    const c = (x: Tensor) => cond(greater(x, 0), () => mul(x, mul(x, x)), () => x);
    expect((grad((x: Tensor) => grad(c)(x) as Tensor)(f64(0.7)) as Tensor).item()).toBeCloseTo(4.2, 12);
  });
});
