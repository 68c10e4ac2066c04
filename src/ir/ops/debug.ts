/** debugPrint: prints a value every time it is computed, eagerly or inside a compiled graph. */
import { isStr } from "../registry.js";
import { ValueError } from "../errors.js";
import { defineOp } from "../registry.js";
import { identityGrad } from "../autodiff/rule-helpers.js";

defineOp({
  name: "debugPrint",
  kind: "debug",
  arity: 1,
  effect: true,
  // The printed value is observed, not changed: the cotangent passes straight through.
  vjp: identityGrad,
  doc: "prints attribute label and the operand's value when it runs; returns the operand unchanged",
  attributes: { label: { type: "string", doc: "printed before the value" } },
  infer(inputs, attrs) {
    const label = attrs["label"];
    if (label === undefined || !isStr(label)) throw new ValueError(`debugPrint: attribute "label" must be a string, got ${JSON.stringify(label)}`);
    return [inputs[0]!];
  },
});
