/**
 * A minimal ONNX ModelProto writer, enough to build the benchmark models for onnxruntime-node
 * from the same weights every other system uses. Only the protobuf fields these models need are
 * written; field numbers are those of onnx/onnx.proto (IR version 8, opset 17).
 */

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;

/** Protobuf encoder: appends fields to a growing byte list. */
class Writer {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number): void {
    // Values here are non-negative and below 2^53, so plain division keeps them exact.
    const out: number[] = [];
    let v = value;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, value: number): this {
    if (!Number.isInteger(value) || value < 0) throw new Error(`onnx writer: field ${field} needs a non-negative integer, got ${value}`);
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, m: Writer): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes only (axis); the benchmark models need no others. */
  readonly attrs?: Readonly<Record<string, number>>;
}

export interface OnnxInitializer {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface OnnxGraph {
  readonly inputs: readonly { name: string; shape: readonly number[] }[];
  readonly outputs: readonly { name: string; shape: readonly number[] }[];
  readonly initializers?: readonly OnnxInitializer[];
  readonly nodes: readonly OnnxNode[];
}

function valueInfo(name: string, shape: readonly number[]): Writer {
  const dims = new Writer();
  for (const d of shape) dims.message(1, new Writer().int(1, d)); // TensorShapeProto.dim.dim_value
  const tensorType = new Writer().int(1, FLOAT).message(2, dims); // TypeProto.Tensor
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

function tensorProto(init: OnnxInitializer): Writer {
  const w = new Writer();
  for (const d of init.shape) w.int(1, d);
  w.int(2, FLOAT).string(8, init.name);
  // raw_data is little-endian; copy so a view into a larger buffer writes only its own bytes.
  const raw = new Uint8Array(init.data.byteLength);
  raw.set(new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
  return w.bytes(9, raw);
}

function nodeProto(n: OnnxNode, index: number): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`).string(4, n.op);
  for (const [name, value] of Object.entries(n.attrs ?? {})) {
    if (value < 0) throw new Error("onnx writer: negative attributes are not supported (use a non-negative axis)");
    w.message(5, new Writer().string(1, name).int(3, value).int(20, ATTR_INT));
  }
  return w;
}

/** Serializes a single-graph model (float32 everywhere) to ModelProto bytes. */
export function encodeModel(g: OnnxGraph): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => graph.message(1, nodeProto(n, i)));
  graph.string(2, "bench");
  for (const init of g.initializers ?? []) graph.message(5, tensorProto(init));
  for (const i of g.inputs) graph.message(11, valueInfo(i.name, i.shape));
  for (const o of g.outputs) graph.message(12, valueInfo(o.name, o.shape));
  return new Writer()
    .int(1, 8) // ir_version
    .string(2, "symtensor-bench")
    .message(7, graph)
    .message(8, new Writer().string(1, "").int(2, 17)) // opset_import: default domain, opset 17
    .finish();
}

/** A rank-0 initializer holding one float. */
export function scalar(name: string, value: number): OnnxInitializer {
  return { name, shape: [], data: Float32Array.of(value) };
}
