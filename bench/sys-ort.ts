/**
 * onnxruntime-node (native C++ CPU provider, MLAS kernels) with a fixed number of intra-op
 * threads. Each workload is an ONNX model built here from the same inputs and weights
 * (bench/onnx.ts); weights are initializers, i.e. constants the session may pre-pack.
 */
import { encodeModel, type OnnxGraph, type OnnxNode, scalar } from "./onnx.js";
import { packageVersion } from "./pkg.js";
import type { MlpParams } from "./data.js";
import type { Prepared, System, Task } from "./workloads.js";

type Ort = typeof import("onnxruntime-node");
type Session = import("onnxruntime-node").InferenceSession;
type OrtTensor = import("onnxruntime-node").Tensor;

let ortModule: Promise<Ort> | undefined;

/** The MLP as MatMul/Add/Relu layers and a Softmax over the classes (axis 1). */
export function mlpGraph(batch: number, p: MlpParams): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers = [];
  let h = "x";
  const layers = p.w.length;
  for (let l = 0; l < layers; l++) {
    initializers.push({ name: `w${l}`, shape: [p.dims[l]!, p.dims[l + 1]!], data: p.w[l]! });
    initializers.push({ name: `b${l}`, shape: [p.dims[l + 1]!], data: p.b[l]! });
    nodes.push({ op: "MatMul", inputs: [h, `w${l}`], outputs: [`m${l}`] });
    nodes.push({ op: "Add", inputs: [`m${l}`, `b${l}`], outputs: [`a${l}`] });
    if (l + 1 < layers) {
      nodes.push({ op: "Relu", inputs: [`a${l}`], outputs: [`h${l}`] });
      h = `h${l}`;
    } else {
      nodes.push({ op: "Softmax", inputs: [`a${l}`], outputs: ["y"], attrs: { axis: 1 } });
    }
  }
  return {
    inputs: [{ name: "x", shape: [batch, p.dims[0]!] }],
    outputs: [{ name: "y", shape: [batch, p.dims[layers]!] }],
    initializers,
    nodes,
  };
}

/** The ONNX graph for a task (the first-call task reuses the MLP), output always named `y`. */
export function taskGraph(task: Task): OnnxGraph {
  switch (task.kind) {
    case "elementwise": {
      const shape = [task.x.length];
      return {
        inputs: [{ name: "x", shape }],
        outputs: [{ name: "y", shape }],
        initializers: [scalar("half", 0.5), scalar("one", 1)],
        nodes: [
          { op: "Mul", inputs: ["x", "half"], outputs: ["t0"] },
          { op: "Add", inputs: ["t0", "one"], outputs: ["t1"] },
          { op: "Tanh", inputs: ["t1"], outputs: ["t2"] },
          { op: "Mul", inputs: ["t2", "x"], outputs: ["t3"] },
          { op: "Sigmoid", inputs: ["x"], outputs: ["t4"] },
          { op: "Add", inputs: ["t3", "t4"], outputs: ["y"] },
        ],
      };
    }
    case "matmul": {
      const shape = [task.n, task.n];
      return { inputs: [{ name: "a", shape }, { name: "b", shape }], outputs: [{ name: "y", shape }], nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["y"] }] };
    }
    case "softmax": {
      const shape = [task.rows, task.cols];
      return { inputs: [{ name: "x", shape }], outputs: [{ name: "y", shape }], nodes: [{ op: "Softmax", inputs: ["x"], outputs: ["y"], attrs: { axis: 1 } }] };
    }
    case "mlpTrain":
      throw new Error("onnxruntime-node runs inference graphs only: no training step");
    case "mlp":
    case "mlpFirstCall":
      return mlpGraph(task.batch, task.params);
    case "add": {
      const shape = [task.a.length];
      return { inputs: [{ name: "a", shape }, { name: "b", shape }], outputs: [{ name: "y", shape }], nodes: [{ op: "Add", inputs: ["a", "b"], outputs: ["y"] }] };
    }
  }
}

function feedsFor(ort: Ort, task: Task): Record<string, OrtTensor> {
  switch (task.kind) {
    case "elementwise":
      return { x: new ort.Tensor("float32", task.x, [task.x.length]) };
    case "matmul":
      return { a: new ort.Tensor("float32", task.a, [task.n, task.n]), b: new ort.Tensor("float32", task.b, [task.n, task.n]) };
    case "softmax":
      return { x: new ort.Tensor("float32", task.x, [task.rows, task.cols]) };
    case "mlpTrain":
      throw new Error("onnxruntime-node runs inference graphs only: no training step");
    case "mlp":
    case "mlpFirstCall":
      return { x: new ort.Tensor("float32", task.x, [task.batch, task.params.dims[0]!]) };
    case "add":
      return { a: new ort.Tensor("float32", task.a, [4]), b: new ort.Tensor("float32", task.b, [4]) };
  }
}

export function ortSystem(threads: number): System {
  let ort: Ort | undefined;
  const lib = (): Ort => {
    if (!ort) throw new Error("onnxruntime-node used before load()");
    return ort;
  };
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  } as const;
  const runOnce = async (session: Session, feeds: Record<string, OrtTensor>): Promise<Float32Array> => {
    const out = await session.run(feeds);
    const data = out["y"]?.data;
    if (!(data instanceof Float32Array)) throw new Error("onnxruntime returned no float32 output y");
    return data;
  };

  return {
    id: `ort-${threads}t`,
    label: `onnxruntime-node ${threads} thread${threads === 1 ? "" : "s"}`,
    exclusive: threads > 1,
    load: async () => {
      ortModule ??= import("onnxruntime-node");
      ort = await ortModule;
    },
    version: () => packageVersion("onnxruntime-node"),
    prepare: async (task: Task): Promise<Prepared | undefined> => {
      if (task.kind === "mlpTrain") return undefined; // inference sessions have no gradients
      const o = lib();
      const bytes = encodeModel(taskGraph(task));
      const feeds = feedsFor(o, task);
      if (task.kind === "mlpFirstCall") {
        // Each run creates a session from the model bytes (parse, optimize, pre-pack) and runs it once.
        return {
          run: async () => {
            const session = await o.InferenceSession.create(bytes, options);
            try {
              return await runOnce(session, feeds);
            } finally {
              await session.release();
            }
          },
        };
      }
      const session = await o.InferenceSession.create(bytes, options);
      return { run: () => runOnce(session, feeds), dispose: () => session.release() };
    },
  };
}
