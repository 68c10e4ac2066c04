/**
 * The IR parser: text -> Graph, with chevrotain. The grammar is the one print.ts writes (see the
 * example at the top of that file); `//` comments run to the end of a line.
 *
 *   file      := func blobs? EOF
 *   func      := "func" FUNC "(" (param ("," param)*)? ")" "->" "(" (type ("," type)*)? ")"
 *                "{" (constant | node)* "return" values "}"
 *   param     := VALUE ":" type
 *   type      := IDENT "[" (NUMBER ("," NUMBER)*)? "]"
 *   constant  := "const" VALUE ":" type "=" ("dense" "<" literal ">" | "blob" "<" STRING ">")
 *   literal   := NUMBER | "true" | "false" | "[" (literal ("," literal)*)? "]"
 *   node      := (VALUE ("," VALUE)* "=")? opname "(" values ")" attrs? (":" type ("," type)*)?
 *                loc? (region ("," region)*)?
 *   opname    := IDENT | STRING
 *   attrs     := "{" (key "=" attr ("," key "=" attr)*)? "}"        key := IDENT | STRING
 *   attr      := NUMBER | STRING | "true" | "false" | "null" | "[" (attr ("," attr)*)? "]" | attrs
 *   loc       := "loc" "(" STRING ":" NUMBER ":" NUMBER ")"
 *   region    := "{" "^" "(" (param ("," param)*)? ")" ":" node* "yield" values "}"
 *   blobs     := "blobs" "{" (STRING ":" STRING ","?)* "}"
 *
 * A node with results declares one type per result; a node without results declares none.
 * NUMBER includes `nan`, `inf` and `-inf`. The parser checks what the text alone can decide (known
 * dtypes, well-formed types, literals that fit their declared type, base64 and blob references,
 * declared result types against the returned values) and leaves graph rules (defined operands,
 * op type rules, unique names) to `verify`. Blob entries that no constant uses are ignored. Whatever
 * the input, it throws nothing but IRParseError.
 */
import {
  EmbeddedActionsParser,
  EOF,
  type IParserErrorMessageProvider,
  type IToken,
  Lexer,
  type TokenType,
  createToken,
} from "chevrotain";
import { type DType, DTYPES, dtypeFromShort, dtypeInfo, type TypedArray } from "./dtype.js";
import { IRParseError, type TextPosition } from "./errors.js";
import { type Constant, freezeGraph, type Graph, type Node, type Region, type SourceLoc, type Value } from "./graph.js";
import { LITTLE_ENDIAN } from "./print.js";
import type { AttrValue, Attrs } from "./registry.js";
import { formatType, sameType, type TensorType } from "./types.js";

export interface ParseOptions {
  /** The file the text came from, named in error messages. */
  readonly file?: string;
}

/** Parses IR text into a Graph. Throws IRParseError (ST301) with line, column and a caret on any problem. */
export function parse(text: string, options: ParseOptions = {}): Graph {
  const ctx = new Context(String(text), options.file);
  try {
    return freezeGraph(parseText(ctx));
  } catch (err) {
    if (err instanceof IRParseError) throw err;
    // Anything else is a bug or exhausted resources (a stack overflow on absurd nesting): it must
    // still surface as a parse error at the last place the parser reached.
    const detail = err instanceof RangeError ? "the input is nested too deeply or is too large" : `internal parser error: ${String(err)}`;
    throw ctx.error(detail, ctx.lastPos);
  }
}

// ---- tokens -----------------------------------------------------------------------------------

const QUOTED = String.raw`"(?:[^"\\\n\r]|\\.)*"`;

const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED, line_breaks: true });
const Comment = createToken({ name: "Comment", pattern: /\/\/[^\n\r]*/, group: Lexer.SKIPPED });
const StringLit = createToken({ name: "StringLit", pattern: new RegExp(QUOTED), label: "a string" });
const ValueName = createToken({ name: "ValueName", pattern: new RegExp(`%(?:[A-Za-z0-9_.$]+|${QUOTED})`), label: "a value name (%x)" });
const FuncName = createToken({ name: "FuncName", pattern: new RegExp(`@(?:[A-Za-z0-9_.$-]+|${QUOTED})`), label: "a function name (@f)" });

// Numbers are lexed generously (a digit followed by any word characters, and `e+`/`e-`), so that
// `2.5.1` or `12abc` is one token reported as a bad number instead of a confusing token split.
const NUMBER_RE = /-?(?:(?:inf|nan)(?![A-Za-z0-9_$.])|[0-9](?:[eE][+-]|[A-Za-z0-9_.$])*)/y;
const NumberLit = createToken({
  name: "NumberLit",
  pattern: {
    exec: (text: string, offset: number) => {
      NUMBER_RE.lastIndex = offset;
      return NUMBER_RE.exec(text);
    },
  },
  start_chars_hint: ["-", "i", "n", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  line_breaks: false,
  label: "a number",
});
const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_$][A-Za-z0-9_$.]*/, label: "an identifier" });
// The lexer never fails: a string without its closing quote and any stray character become tokens
// that no rule accepts, so the parser reports them in order with every other error.
const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\n\r]|\\.)*/, label: "an unterminated string" });
const Unknown = createToken({ name: "Unknown", pattern: /[^]/, label: "an unexpected character" });

const keyword = (word: string): TokenType =>
  createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });
const Func = keyword("func");
const Const = keyword("const");
const Return = keyword("return");
const Yield = keyword("yield");
const Dense = keyword("dense");
const Blobs = keyword("blobs"); // before `blob`, which would otherwise match its prefix
const Blob = keyword("blob");
const Loc = keyword("loc");
const True = keyword("true");
const False = keyword("false");
const Null = keyword("null");

const punct = (name: string, s: string): TokenType => createToken({ name, pattern: s, label: `'${s}'` });
const Arrow = punct("Arrow", "->");
const LParen = punct("LParen", "(");
const RParen = punct("RParen", ")");
const LBrace = punct("LBrace", "{");
const RBrace = punct("RBrace", "}");
const LBracket = punct("LBracket", "[");
const RBracket = punct("RBracket", "]");
const LAngle = punct("LAngle", "<");
const RAngle = punct("RAngle", ">");
const Comma = punct("Comma", ",");
const Colon = punct("Colon", ":");
const Equals = punct("Equals", "=");
const Caret = punct("Caret", "^");

const ALL_TOKENS = [
  WhiteSpace, Comment, Arrow, StringLit, ValueName, FuncName, NumberLit,
  Func, Const, Return, Yield, Dense, Blobs, Blob, Loc, True, False, Null, Identifier,
  LParen, RParen, LBrace, RBrace, LBracket, RBracket, LAngle, RAngle, Comma, Colon, Equals, Caret,
  UnterminatedString, Unknown,
];

const LEXER = new Lexer(ALL_TOKENS, { positionTracking: "full", ensureOptimizations: false });

// ---- error messages ----------------------------------------------------------------------------

function showToken(t: IToken | undefined): string {
  if (!t || t.tokenType === EOF) return "the end of the input";
  return `'${t.image.length > 30 ? `${t.image.slice(0, 30)}...` : t.image}'`;
}

/** What is wrong with a token no rule accepts, when that is the whole story. */
function lexicalProblem(t: IToken): string | undefined {
  if (t.tokenType === UnterminatedString) return "unterminated string literal";
  if (t.tokenType !== Unknown) return undefined;
  if (t.image === "%") return "malformed value name (expected % followed by letters, digits, _ . $ or a quoted string)";
  if (t.image === "@") return "malformed function name (expected @ followed by letters, digits, _ . $ - or a quoted string)";
  return `unexpected character ${JSON.stringify(t.image)}`;
}

const labelOf = (t: TokenType): string => t.LABEL ?? t.name;

/** Human phrases for rules, for "while reading ..." in syntax errors. */
const RULE_TEXT: Record<string, string> = {
  file: "the file",
  func: "the function",
  body: "the function body",
  param: "a parameter",
  type: "a type",
  constant: "a constant",
  literal: "a dense literal",
  node: "a node",
  attrDict: "attributes",
  attrValue: "an attribute value",
  loc: "a loc(...) annotation",
  region: "a region",
  valueList: "a list of values",
  blobs: "the blobs section",
};

function alternatives(paths: TokenType[][][]): string {
  const firsts = new Set<string>();
  for (const alt of paths) for (const path of alt) if (path[0]) firsts.add(labelOf(path[0]));
  const list = [...firsts];
  return list.length <= 1 ? (list[0] ?? "something else") : `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
}

const MESSAGES: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual, ruleName }) =>
    `expected ${labelOf(expected)} but found ${showToken(actual)} while reading ${RULE_TEXT[ruleName] ?? ruleName}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `unexpected ${showToken(firstRedundant)} after the end of the function (only a blobs section may follow)`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, customUserDescription, ruleName }) =>
    `unexpected ${showToken(actual[0])} while reading ${RULE_TEXT[ruleName] ?? ruleName}; expected ${customUserDescription ?? alternatives(expectedPathsPerAlt)}`,
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, customUserDescription, ruleName }) =>
    `unexpected ${showToken(actual[0])} while reading ${RULE_TEXT[ruleName] ?? ruleName}; expected ${customUserDescription ?? alternatives([expectedIterationPaths])}`,
};

// ---- parse context and semantic helpers ---------------------------------------------------------

/** Literals and attribute values nest at most this deep (the verifier allows 32 for attributes). */
const MAX_DEPTH = 64;

class Context {
  lastPos: TextPosition = { line: 1, col: 1 };
  depth = 0;

  constructor(
    readonly text: string,
    readonly file: string | undefined,
  ) {}

  pos(line: number, col: number): TextPosition {
    return this.file === undefined ? { line, col } : { line, col, file: this.file };
  }

  at(t: IToken): TextPosition {
    if (t.tokenType === EOF || !Number.isFinite(t.startLine) || !Number.isFinite(t.startColumn)) return this.endPos();
    return this.pos(t.startLine!, t.startColumn!);
  }

  /** Just past the last character: where "unexpected end of input" points. */
  endPos(): TextPosition {
    const lines = this.text.split(/\r\n|\r|\n/);
    const last = lines[lines.length - 1] ?? "";
    return this.pos(lines.length, last.length + 1);
  }

  error(detail: string, pos: TextPosition): IRParseError {
    return new IRParseError(detail, pos, this.text);
  }

  fail(t: IToken, detail: string): never {
    throw this.error(detail, this.at(t));
  }

  /** A syntax error at `t`, unless `t` is itself a bad character or an unterminated string. */
  syntax(t: IToken, detail: string): never {
    throw this.error(lexicalProblem(t) ?? detail, this.at(t));
  }

  enter(t: IToken): void {
    if (++this.depth > MAX_DEPTH) this.fail(t, `nesting deeper than ${MAX_DEPTH} levels`);
  }
}

function decodeString(ctx: Context, t: IToken): string {
  try {
    const s: unknown = JSON.parse(t.image);
    if (typeof s === "string") return s;
  } catch {
    // reported below
  }
  return ctx.fail(t, `malformed string literal ${t.image.length > 40 ? `${t.image.slice(0, 40)}..."` : t.image} (strings use JSON escapes)`);
}

/** `%x` or `%"x y"`: the name keeps its `%`. */
function decodeValueName(ctx: Context, t: IToken): string {
  const rest = t.image.slice(1);
  return rest.startsWith('"') ? `%${decodeString(ctx, { ...t, image: rest })}` : t.image;
}

function decodeFuncName(ctx: Context, t: IToken): string {
  const rest = t.image.slice(1);
  return rest.startsWith('"') ? decodeString(ctx, { ...t, image: rest }) : rest;
}

const NUMBER_SYNTAX = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

function decodeNumber(ctx: Context, t: IToken): number {
  const s = t.image;
  if (s === "nan" || s === "-nan") return NaN;
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  if (!NUMBER_SYNTAX.test(s)) ctx.fail(t, `bad number '${s}'`);
  return Number(s);
}

function decodeDim(ctx: Context, t: IToken): number {
  const d = /^[0-9]+$/.test(t.image) ? Number(t.image) : NaN;
  if (!Number.isSafeInteger(d)) ctx.fail(t, `bad dimension '${t.image}': dimensions are non-negative integers`);
  return d;
}

function decodeType(ctx: Context, dtypeTok: IToken, dims: readonly IToken[]): TensorType {
  const dtype = dtypeFromShort(dtypeTok.image);
  if (!dtype) {
    const known = DTYPES.map((d) => dtypeInfo(d).short).join(", ");
    ctx.fail(dtypeTok, `unknown dtype '${dtypeTok.image}' (expected one of ${known})`);
  }
  return { dtype, shape: dims.map((d) => decodeDim(ctx, d)) };
}

/** A dense literal as written, before it is checked against the declared type. */
type Literal = { readonly kind: "scalar"; readonly tok: IToken } | { readonly kind: "list"; readonly tok: IToken; readonly items: readonly Literal[] };

const ELEMENT_TEXT: Record<DType, string> = {
  bool: "true or false",
  uint8: "an integer in 0..255",
  int32: "an integer in -2147483648..2147483647",
  float32: "a number",
  float64: "a number",
};

function decodeElement(ctx: Context, t: IToken, type: TensorType): number {
  const dtype = type.dtype;
  const bad = (): never => ctx.fail(t, `${showToken(t)} is not a valid ${dtypeInfo(dtype).short} element (expected ${ELEMENT_TEXT[dtype]}) in the dense literal of ${formatType(type)}`);
  if (t.tokenType === True || t.tokenType === False) {
    if (dtype !== "bool") bad();
    return t.tokenType === True ? 1 : 0;
  }
  if (dtype === "bool") bad();
  const x = decodeNumber(ctx, t);
  switch (dtype) {
    case "float64":
      return x;
    case "float32": {
      const f = Math.fround(x);
      if (Number.isFinite(x) && !Number.isFinite(f)) ctx.fail(t, `${showToken(t)} is out of range for f32 in the dense literal of ${formatType(type)}`);
      return f;
    }
    case "int32":
      if (!Number.isInteger(x) || x < -2147483648 || x > 2147483647) bad();
      return x;
    default:
      if (!Number.isInteger(x) || x < 0 || x > 255) bad();
      return x;
  }
}

/** Checks a dense literal's nesting against the declared shape and fills the data. */
function denseData(ctx: Context, lit: Literal, type: TensorType): TypedArray {
  const shape = type.shape;
  const values: number[] = [];
  const walk = (l: Literal, axis: number): void => {
    if (axis === shape.length) {
      if (l.kind === "list") ctx.fail(l.tok, `the dense literal of ${formatType(type)} nests deeper than its ${shape.length} dimension${shape.length === 1 ? "" : "s"}: expected an element here, found a list`);
      values.push(decodeElement(ctx, l.tok, type));
      return;
    }
    const n = shape[axis]!;
    if (l.kind === "scalar") ctx.fail(l.tok, `the dense literal of ${formatType(type)} needs a list of ${n} element${n === 1 ? "" : "s"} along axis ${axis}, found ${showToken(l.tok)}`);
    if (l.items.length !== n) {
      ctx.fail(l.tok, `the dense literal of ${formatType(type)} has ${l.items.length} element${l.items.length === 1 ? "" : "s"} along axis ${axis}, but the type has ${n}`);
    }
    for (const item of l.items) walk(item, axis + 1);
  };
  walk(lit, 0);
  const data = new (dtypeInfo(type.dtype).array)(values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i]!;
  return data;
}

function decodeAttrs(ctx: Context, entries: readonly (readonly [IToken, AttrValue])[]): Attrs {
  const out: { [k: string]: AttrValue } = {};
  const seen = new Set<string>();
  for (const [kt, v] of entries) {
    const key = kt.tokenType === StringLit ? decodeString(ctx, kt) : kt.image;
    if (seen.has(key)) ctx.fail(kt, `duplicate attribute '${key}'`);
    seen.add(key);
    // defineProperty, so a key like "__proto__" is stored as data rather than changing the prototype
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// ---- base64 -----------------------------------------------------------------------------------

const B64_INDEX = new Int16Array(128).fill(-1);
for (const [i, ch] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].entries()) B64_INDEX[ch.charCodeAt(0)] = i;

/** Strict base64 (standard alphabet, `=` padding). Throws an IRParseError at the bad character. */
function base64Decode(ctx: Context, t: IToken, s: string, what: string): Uint8Array {
  // Characters of the literal sit one column after the quote when it holds no escapes.
  const colOf = (i: number): TextPosition => {
    const start = ctx.at(t);
    return s.length + 2 === t.image.length ? ctx.pos(start.line, start.col + 1 + i) : start;
  };
  const fail = (i: number, detail: string): never => {
    throw ctx.error(`${detail} in the base64 data of ${what}`, colOf(i));
  };
  let end = s.length;
  while (end > 0 && s[end - 1] === "=" && s.length - end < 2) end--;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || B64_INDEX[c]! < 0) fail(i, `invalid character ${JSON.stringify(s[i])}`);
  }
  if (s.length % 4 !== 0) fail(s.length, `length ${s.length} is not a multiple of 4`);
  const pad = s.length - end;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const a = B64_INDEX[s.charCodeAt(i)]!;
    const b = B64_INDEX[s.charCodeAt(i + 1)]!;
    const c = i + 2 < end ? B64_INDEX[s.charCodeAt(i + 2)]! : 0;
    const d = i + 3 < end ? B64_INDEX[s.charCodeAt(i + 3)]! : 0;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

function bytesToData(ctx: Context, ref: IToken, name: string, bytes: Uint8Array, type: TensorType): TypedArray {
  const info = dtypeInfo(type.dtype);
  const size = type.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== size * info.itemsize) {
    ctx.fail(ref, `blob "${name}" holds ${bytes.length} bytes, but ${formatType(type)} needs ${size * info.itemsize}`);
  }
  const data = new info.array(size);
  if (LITTLE_ENDIAN) {
    new Uint8Array(data.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < size; i++) {
      data[i] = type.dtype === "float32" ? view.getFloat32(i * 4, true) : type.dtype === "float64" ? view.getFloat64(i * 8, true) : type.dtype === "int32" ? view.getInt32(i * 4, true) : view.getUint8(i);
    }
  }
  if (type.dtype === "bool") {
    const i = data.findIndex((x) => x !== 0 && x !== 1);
    if (i >= 0) ctx.fail(ref, `blob "${name}" holds ${data[i]} at element ${i}, but bool elements are 0 or 1`);
  }
  return data;
}

// ---- the grammar ------------------------------------------------------------------------------

interface PendingConstant {
  readonly name: string;
  readonly type: TensorType;
  readonly data?: TypedArray;
  /** `blob<"name">`: resolved once the blobs section is read. */
  readonly blobRef?: IToken;
}

interface TypeAt {
  readonly type: TensorType;
  readonly tok: IToken;
}

interface FuncAst {
  readonly name: string;
  readonly params: Value[];
  readonly declared: TypeAt[];
  readonly constants: PendingConstant[];
  readonly nodes: Node[];
  readonly results: string[];
  readonly returnTok: IToken;
}

interface FileAst {
  readonly func: FuncAst;
  readonly blobs: (readonly [IToken, IToken])[];
}

class IRParser extends EmbeddedActionsParser {
  ctx: Context = new Context("", undefined);

  constructor() {
    super(ALL_TOKENS, { recoveryEnabled: false, maxLookahead: 3, errorMessageProvider: MESSAGES });
    this.performSelfAnalysis();
  }

  /** Consumes one token and remembers where it was, for errors that are not tied to a token. */
  private take(t: TokenType, idx = 0): IToken {
    const tok = this.consume(idx, t);
    this.ACTION(() => {
      if (Number.isFinite(tok.startLine)) this.ctx.lastPos = this.ctx.at(tok);
    });
    return tok;
  }

  file = this.RULE("file", (): FileAst => {
    const func = this.SUBRULE(this.func);
    const blobs: (readonly [IToken, IToken])[] = [];
    this.OPTION(() => {
      this.take(Blobs);
      this.take(LBrace);
      this.MANY(() => {
        const name = this.take(StringLit, 1);
        this.take(Colon);
        const data = this.take(StringLit, 2);
        this.OPTION2(() => this.take(Comma));
        this.ACTION(() => blobs.push([name, data]));
      });
      this.take(RBrace);
    });
    return { func, blobs };
  });

  func = this.RULE("func", (): FuncAst => {
    this.take(Func);
    const nameTok = this.take(FuncName);
    this.take(LParen, 1);
    const params = this.SUBRULE(this.params);
    this.take(RParen, 1);
    this.take(Arrow);
    this.take(LParen, 2);
    const declared: TypeAt[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const t = this.SUBRULE(this.type);
        this.ACTION(() => declared.push(t));
      },
    });
    this.take(RParen, 2);
    this.take(LBrace);
    const constants: PendingConstant[] = [];
    const nodes: Node[] = [];
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            const c = this.SUBRULE(this.constant);
            this.ACTION(() => constants.push(c));
          },
        },
        {
          ALT: () => {
            const n = this.SUBRULE(this.node);
            this.ACTION(() => nodes.push(n));
          },
        },
      ]);
    });
    const returnTok = this.take(Return);
    const results = this.SUBRULE(this.valueList);
    this.take(RBrace);
    return this.ACTION(() => ({ name: decodeFuncName(this.ctx, nameTok), params, declared, constants, nodes, results, returnTok }));
  });

  params = this.RULE("params", (): Value[] => {
    const params: Value[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const nameTok = this.take(ValueName);
        this.take(Colon);
        const t = this.SUBRULE(this.type);
        this.ACTION(() => params.push({ name: decodeValueName(this.ctx, nameTok), type: t.type }));
      },
    });
    return params;
  });

  type = this.RULE("type", (): TypeAt => {
    const dtypeTok = this.take(Identifier);
    this.take(LBracket);
    const dims: IToken[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const d = this.take(NumberLit);
        this.ACTION(() => dims.push(d));
      },
    });
    this.take(RBracket);
    return this.ACTION(() => ({ type: decodeType(this.ctx, dtypeTok, dims), tok: dtypeTok }));
  });

  valueList = this.RULE("valueList", (): string[] => {
    const names: string[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const t = this.take(ValueName);
        this.ACTION(() => names.push(decodeValueName(this.ctx, t)));
      },
    });
    return names;
  });

  constant = this.RULE("constant", (): PendingConstant => {
    this.take(Const);
    const nameTok = this.take(ValueName);
    this.take(Colon);
    const t = this.SUBRULE(this.type);
    this.take(Equals);
    return this.OR([
      {
        ALT: () => {
          this.take(Dense);
          this.take(LAngle, 1);
          const lit = this.SUBRULE(this.literal);
          this.take(RAngle, 1);
          return this.ACTION(() => ({ name: decodeValueName(this.ctx, nameTok), type: t.type, data: denseData(this.ctx, lit, t.type) }));
        },
      },
      {
        ALT: () => {
          this.take(Blob);
          this.take(LAngle, 2);
          const ref = this.take(StringLit);
          this.take(RAngle, 2);
          return this.ACTION(() => ({ name: decodeValueName(this.ctx, nameTok), type: t.type, blobRef: ref }));
        },
      },
    ]);
  });

  literal = this.RULE("literal", (): Literal => {
    return this.OR([
      { ALT: () => ({ kind: "scalar" as const, tok: this.take(NumberLit) }) },
      { ALT: () => ({ kind: "scalar" as const, tok: this.take(True) }) },
      { ALT: () => ({ kind: "scalar" as const, tok: this.take(False) }) },
      {
        ALT: () => {
          const open = this.take(LBracket);
          this.ACTION(() => this.ctx.enter(open));
          const items: Literal[] = [];
          this.MANY_SEP({
            SEP: Comma,
            DEF: () => {
              const item = this.SUBRULE(this.literal);
              this.ACTION(() => items.push(item));
            },
          });
          this.take(RBracket);
          this.ACTION(() => this.ctx.depth--);
          return { kind: "list" as const, tok: open, items };
        },
      },
    ]);
  });

  node = this.RULE("node", (): Node => {
    const resultToks: IToken[] = [];
    let eq: IToken | undefined;
    this.OPTION(() => {
      this.AT_LEAST_ONE_SEP({
        SEP: Comma,
        DEF: () => {
          const t = this.take(ValueName, 1);
          this.ACTION(() => resultToks.push(t));
        },
      });
      eq = this.take(Equals);
    });
    const opTok = this.OR([{ ALT: () => this.take(Identifier) }, { ALT: () => this.take(StringLit) }]);
    this.take(LParen);
    const operands = this.SUBRULE(this.valueList);
    this.take(RParen);
    let attrs: Attrs = {};
    this.OPTION2(() => {
      attrs = this.SUBRULE(this.attrDict);
    });
    const types: TypeAt[] = [];
    let colon: IToken | undefined;
    this.OPTION3(() => {
      colon = this.take(Colon);
      this.AT_LEAST_ONE_SEP2({
        SEP: Comma,
        DEF: () => {
          const t = this.SUBRULE(this.type);
          this.ACTION(() => types.push(t));
        },
      });
    });
    let loc: SourceLoc | undefined;
    this.OPTION4(() => {
      loc = this.SUBRULE(this.loc);
    });
    const regions: Region[] = [];
    this.OPTION5(() => {
      this.AT_LEAST_ONE_SEP3({
        SEP: Comma,
        DEF: () => {
          const r = this.SUBRULE(this.region);
          this.ACTION(() => regions.push(r));
        },
      });
    });
    return this.ACTION(() => {
      const op = opTok.tokenType === StringLit ? decodeString(this.ctx, opTok) : opTok.image;
      if (resultToks.length > 0 && colon === undefined) {
        const next = this.LA(1);
        this.ctx.syntax(next, `expected ':' and the result type${resultToks.length === 1 ? "" : "s"} of ${op}(...) but found ${showToken(next)}`);
      }
      if (types.length !== resultToks.length) {
        const where = colon ?? eq ?? opTok;
        const detail = resultToks.length === 0
          ? `${op} has no results, so it takes no ': types'`
          : `${op} names ${resultToks.length} result${resultToks.length === 1 ? "" : "s"} but declares ${types.length} type${types.length === 1 ? "" : "s"}`;
        this.ctx.fail(where, detail);
      }
      const results = resultToks.map((t, i) => ({ name: decodeValueName(this.ctx, t), type: types[i]!.type }));
      return { op, operands, results, attrs, ...(loc ? { loc } : {}), ...(regions.length ? { regions } : {}) };
    });
  });

  attrDict = this.RULE("attrDict", (): Attrs => {
    const open = this.take(LBrace);
    this.ACTION(() => this.ctx.enter(open));
    const entries: (readonly [IToken, AttrValue])[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const key = this.OR([{ ALT: () => this.take(Identifier) }, { ALT: () => this.take(StringLit) }]);
        this.take(Equals);
        const v = this.SUBRULE(this.attrValue);
        this.ACTION(() => entries.push([key, v]));
      },
    });
    this.take(RBrace);
    return this.ACTION(() => {
      this.ctx.depth--;
      return decodeAttrs(this.ctx, entries);
    });
  });

  attrValue = this.RULE("attrValue", (): AttrValue => {
    return this.OR([
      {
        ALT: () => {
          const t = this.take(NumberLit);
          return this.ACTION(() => decodeNumber(this.ctx, t));
        },
      },
      {
        ALT: () => {
          const t = this.take(StringLit);
          return this.ACTION(() => decodeString(this.ctx, t));
        },
      },
      { ALT: () => (this.take(True), true) },
      { ALT: () => (this.take(False), false) },
      { ALT: () => (this.take(Null), null) },
      {
        ALT: () => {
          const open = this.take(LBracket);
          this.ACTION(() => this.ctx.enter(open));
          const items: AttrValue[] = [];
          this.MANY_SEP({
            SEP: Comma,
            DEF: () => {
              const v = this.SUBRULE(this.attrValue);
              this.ACTION(() => items.push(v));
            },
          });
          this.take(RBracket);
          this.ACTION(() => this.ctx.depth--);
          return items;
        },
      },
      { ALT: () => this.SUBRULE(this.attrDict) },
    ]);
  });

  loc = this.RULE("loc", (): SourceLoc => {
    this.take(Loc);
    this.take(LParen);
    const file = this.take(StringLit);
    this.take(Colon, 1);
    const line = this.take(NumberLit, 1);
    this.take(Colon, 2);
    const col = this.take(NumberLit, 2);
    this.take(RParen);
    return this.ACTION(() => ({ file: decodeString(this.ctx, file), line: decodeNumber(this.ctx, line), col: decodeNumber(this.ctx, col) }));
  });

  region = this.RULE("region", (): Region => {
    this.take(LBrace);
    this.take(Caret);
    this.take(LParen);
    const params = this.SUBRULE(this.params);
    this.take(RParen);
    this.take(Colon);
    const nodes: Node[] = [];
    this.MANY(() => {
      const n = this.SUBRULE(this.node);
      this.ACTION(() => nodes.push(n));
    });
    this.take(Yield);
    const results = this.SUBRULE(this.valueList);
    this.take(RBrace);
    return { params, nodes, results };
  });
}

let PARSER: IRParser | undefined;

/** One parser instance, built lazily: chevrotain's grammar analysis is costly. */
function parser(): IRParser {
  PARSER ??= new IRParser();
  return PARSER;
}

// ---- driver -----------------------------------------------------------------------------------

function parseText(ctx: Context): Graph {
  const lexed = LEXER.tokenize(ctx.text);
  const lexError = lexed.errors[0];
  // Unknown and UnterminatedString make every input lexable; this is only a safety net.
  if (lexError) throw ctx.error(lexError.message, ctx.pos(lexError.line ?? 1, lexError.column ?? 1));
  const p = parser();
  p.ctx = ctx;
  p.input = lexed.tokens;
  const ast = p.file();
  const syntax = p.errors[0];
  if (syntax) ctx.syntax(syntax.token, syntax.message);
  return finish(ctx, ast);
}

/** Resolves blob references and checks the declared result types: what needs the whole file. */
function finish(ctx: Context, ast: FileAst): Graph {
  const blobs = new Map<string, IToken>();
  for (const [nameTok, dataTok] of ast.blobs) {
    const name = decodeString(ctx, nameTok);
    if (blobs.has(name)) ctx.fail(nameTok, `duplicate blob "${name}"`);
    blobs.set(name, dataTok);
  }
  const f = ast.func;
  const decoded = new Map<string, Uint8Array>();
  const constants: Constant[] = f.constants.map((c) => {
    if (c.data) return { name: c.name, type: c.type, data: c.data };
    const ref = c.blobRef!;
    const name = decodeString(ctx, ref);
    const dataTok = blobs.get(name);
    if (!dataTok) ctx.fail(ref, `constant ${c.name} refers to blob "${name}", which the blobs section does not define`);
    let bytes = decoded.get(name);
    if (!bytes) {
      bytes = base64Decode(ctx, dataTok, decodeString(ctx, dataTok), `blob "${name}"`);
      decoded.set(name, bytes);
    }
    return { name: c.name, type: c.type, data: bytesToData(ctx, ref, name, bytes, c.type) };
  });
  checkDeclaredResults(ctx, f, constants);
  return { name: f.name, params: f.params, constants, nodes: f.nodes, results: f.results };
}

/**
 * The header's result types are not stored in the graph (they follow from the returned values),
 * so they are checked here or they would be silently dropped. Undefined or twice-defined names are
 * left to `verify`.
 */
function checkDeclaredResults(ctx: Context, f: FuncAst, constants: readonly Constant[]): void {
  if (f.declared.length !== f.results.length) {
    ctx.fail(f.returnTok, `the function declares ${f.declared.length} result type${f.declared.length === 1 ? "" : "s"} but returns ${f.results.length} value${f.results.length === 1 ? "" : "s"}`);
  }
  const types = new Map<string, TensorType | null>();
  const define = (v: Value): void => {
    types.set(v.name, types.has(v.name) ? null : v.type);
  };
  f.params.forEach(define);
  constants.forEach(define);
  for (const n of f.nodes) n.results.forEach(define);
  f.results.forEach((name, i) => {
    const t = types.get(name);
    const d = f.declared[i]!;
    if (t && !sameType(t, d.type)) {
      ctx.fail(d.tok, `result ${i} is declared ${formatType(d.type)}, but the returned value ${name} is ${formatType(t)}`);
    }
  });
}
