/**
 * The part of the ONNX protobuf schema (onnx/onnx.proto, IR version 8) that symtensor reads and
 * writes, as .proto text parsed by protobufjs. Field numbers and types are the spec's; messages and
 * fields symtensor never touches (training info, sparse tensors, functions) are left out, and
 * protobuf skips them when decoding.
 */
import * as pbNamespace from "protobufjs";
import { FormatError } from "../../ir/errors.js";

// protobufjs is CommonJS: under Node's ESM loader its API is the default export, under bundlers the namespace.
type Protobuf = typeof pbNamespace;
const protobuf: Protobuf = (pbNamespace as unknown as { default?: Protobuf }).default ?? pbNamespace;

const ONNX_PROTO = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11;
    TYPE_PROTO = 13; FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
    SPARSE_TENSORS = 12; TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7;
    STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13; COMPLEX64 = 14;
    COMPLEX128 = 15; BFLOAT16 = 16;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  enum DataLocation { DEFAULT = 0; EXTERNAL = 1; }
  optional DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    optional int64 dim_value = 1;
    optional string dim_param = 2;
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
  optional string denotation = 6;
}
`;

/** TensorProto.DataType codes. */
export const ONNX_DTYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType codes. */
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

// Plain-object views of the messages, as `toObject({ longs: String })` gives them (int64 as decimal strings).
export type Int64 = number | string;

export interface TensorProtoObj {
  dims?: Int64[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  double_data?: number[];
  uint64_data?: Int64[];
  string_data?: Uint8Array[];
  name?: string;
  raw_data?: Uint8Array;
  data_location?: number;
}

export interface AttributeProtoObj {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProtoObj;
  g?: GraphProtoObj;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  ref_attr_name?: string;
}

export interface NodeProtoObj {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProtoObj[];
  doc_string?: string;
}

export interface DimensionObj {
  dim_value?: Int64;
  dim_param?: string;
}

export interface ValueInfoProtoObj {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DimensionObj[] } } };
  doc_string?: string;
}

export interface GraphProtoObj {
  node?: NodeProtoObj[];
  name?: string;
  initializer?: TensorProtoObj[];
  doc_string?: string;
  input?: ValueInfoProtoObj[];
  output?: ValueInfoProtoObj[];
  value_info?: ValueInfoProtoObj[];
}

export interface ModelProtoObj {
  ir_version?: Int64;
  opset_import?: { domain?: string; version?: Int64 }[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProtoObj;
  metadata_props?: { key?: string; value?: string }[];
}

let root: pbNamespace.Root | undefined;

/** The ONNX message types, parsed once on first use. */
export function onnxRoot(): pbNamespace.Root {
  root ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  return root;
}

/** The protobufjs type of an ONNX message (`ModelProto`, `TensorProto`, ...), for building models in tests too. */
export function onnxType(name: string): pbNamespace.Type {
  return onnxRoot().lookupType(`onnx.${name}`);
}

/** Encodes a plain ModelProto object (numbers for int64 fields) to bytes. */
export function encodeModelProto(model: ModelProtoObj): Uint8Array {
  const t = onnxType("ModelProto");
  const err = t.verify(model);
  if (err) throw new FormatError(`onnx: cannot encode the model: ${err}`);
  return t.encode(t.fromObject(model)).finish();
}

/** Decodes ModelProto bytes into a plain object with int64 fields as decimal strings. */
export function decodeModelProto(bytes: Uint8Array): ModelProtoObj {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`onnx: expected the model's bytes as a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`);
  const t = onnxType("ModelProto");
  let msg: pbNamespace.Message;
  try {
    msg = t.decode(bytes);
  } catch (e) {
    throw new FormatError(`onnx: the bytes are not an ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
  return t.toObject(msg, { longs: String, enums: Number, arrays: false, defaults: false }) as ModelProtoObj;
}
