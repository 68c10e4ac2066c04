/**
 * Ops that exist for automatic differentiation. `stopGradient` is the identity on values and
 * blocks cotangents: its VJP rule returns no gradient for the operand.
 */
import { defineOp } from "../registry.js";

defineOp({
  name: "stopGradient",
  kind: "elementwise",
  arity: 1,
  doc: "the operand unchanged; differentiation treats it as a constant (its gradient is zero)",
  attributes: {},
  infer(inputs) {
    const x = inputs[0]!;
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  scalar: (args) => args[0]!,
  vjp: () => [null],
});
