import { type DType, dtypeInfo } from "./dtype.js";

/** The static type of a value in the IR and of every tensor: element type and shape. */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export function tensorType(dtype: DType, shape: readonly number[]): TensorType {
  return { dtype, shape: [...shape] };
}

/** `f32[2,3]`, the notation used by IR text and error messages. */
export function formatType(t: TensorType): string {
  return `${dtypeInfo(t.dtype).short}[${t.shape.join(",")}]`;
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
