/**
 * The `--args` option of `symtensor ir`: a comma-separated list of IR tensor types, as IR text
 * writes them: `"f32[64,784], f32[784,10], i32[]"`. dtypes use the short names (f32, f64, i32, u8,
 * bool); the long names (float32...) are accepted too. An empty string is an empty list.
 */
import type { TensorType } from "../ir/types.js";
import { DTYPES, dtypeInfo, DTypeError, ValueError } from "./lib.js";

const SHORT_NAMES = DTYPES.map((d) => dtypeInfo(d).short).join(", ");

/** A pointer under the offending character: the option value, then a caret line. */
function caret(text: string, pos: number): string {
  return `\n  ${text}\n  ${" ".repeat(pos)}^`;
}

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  /** What is at the cursor, for messages. */
  found(): string {
    if (this.pos >= this.text.length) return "the end of the list";
    const word = /^[A-Za-z0-9_]+/.exec(this.text.slice(this.pos));
    return JSON.stringify(word ? word[0] : this.text[this.pos]);
  }

  fail(expected: string, at = this.pos): never {
    this.pos = at;
    throw new ValueError(`--args: expected ${expected} at column ${at + 1}, found ${this.found()}${caret(this.text, at)}`);
  }

  expect(ch: string, what: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== ch) this.fail(what);
    this.pos++;
  }

  peek(): string | undefined {
    this.skipSpace();
    return this.text[this.pos];
  }

  word(re: RegExp): string | undefined {
    this.skipSpace();
    const m = re.exec(this.text.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
}

function readDType(s: Scanner): TensorType["dtype"] {
  s.skipSpace();
  const start = s.pos;
  const name = s.word(/^[A-Za-z_][A-Za-z0-9_]*/);
  if (name === undefined) s.fail(`a tensor type such as f32[2,3] (dtypes: ${SHORT_NAMES})`);
  const dtype = DTYPES.find((d) => dtypeInfo(d).short === name || d === name);
  if (dtype === undefined) {
    throw new DTypeError(`--args: unknown dtype ${JSON.stringify(name)} at column ${start + 1}; expected one of ${SHORT_NAMES}${caret(s.text, start)}`);
  }
  return dtype;
}

function readDim(s: Scanner): number {
  s.skipSpace();
  const start = s.pos;
  const digits = s.word(/^[0-9]+/);
  if (digits === undefined) s.fail("a dimension (a non-negative integer)");
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) throw new ValueError(`--args: dimension ${digits} at column ${start + 1} is too large${caret(s.text, start)}`);
  return n;
}

function readType(s: Scanner): TensorType {
  const dtype = readDType(s);
  s.expect("[", `"[" after the dtype (a 0-d tensor is written ${dtypeInfo(dtype).short}[])`);
  const shape: number[] = [];
  if (s.peek() !== "]") {
    shape.push(readDim(s));
    while (s.peek() === ",") {
      s.pos++;
      shape.push(readDim(s));
    }
  }
  s.expect("]", `"," or "]" in the shape`);
  return { dtype, shape };
}

/** Parses the `--args` list; a malformed list throws ValueError (ST404), an unknown dtype DTypeError (ST402). */
export function parseTypesArg(text: string): TensorType[] {
  const s = new Scanner(text);
  const types: TensorType[] = [];
  if (s.peek() === undefined) return types;
  types.push(readType(s));
  while (s.peek() !== undefined) {
    s.expect(",", `"," between types`);
    types.push(readType(s));
  }
  return types;
}
