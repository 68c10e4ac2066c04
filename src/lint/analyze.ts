/**
 * The lint analysis: finds traced scope (callgraph.ts), then walks each file once, asking the
 * type checker only about candidate expressions (receivers of conversions, operands, conditions)
 * and caching every answer per node and per type.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { CODE_HINTS } from "../guidance.js";
import { isFunctionLike, type FunctionLike, type TraceInfo, TracedScope } from "./callgraph.js";
import { severityOf } from "./rules.js";
import { isSuppressed, parseSuppressions } from "./suppress.js";
import type { LintCode, LintDiagnostic, LintOptions } from "./types.js";
import { librarySourceRoots, skipOuter, SymtensorTypes } from "./types-util.js";

const CONVERSIONS = new Set(["numpy", "item", "tolist", "numpyAsync", "data"]);
const ARRAY_CALLBACK_METHODS = new Set([
  "forEach", "map", "filter", "reduce", "reduceRight", "some", "every", "find", "findIndex",
  "findLast", "findLastIndex", "flatMap", "sort", "toSorted",
]);
const COERCING_GLOBALS = new Set(["Number", "parseFloat", "parseInt"]);
const SOURCE_EXTENSIONS = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".mjs"]);

const WHY: Record<LintCode, string> = {
  ST001: "it has no value while tracing",
  ST002: "JS coercion calls valueOf, and a symbolic tensor has no value while tracing",
  ST003: "a symbolic tensor has no rows to iterate while tracing",
  ST005: "a tensor is an object, and every object is truthy",
  ST006: "it runs once, while tracing, not on every call",
  ST101: "each conversion is a device synchronization and a copy",
  ST102: "a new traced function, traced again on every call",
};

/** A finding before options and suppressions apply. */
interface RawDiagnostic {
  readonly code: LintCode;
  readonly start: number;
  readonly end: number;
  readonly message: string;
  readonly trace: TraceInfo | undefined;
}

/** Everything computed once per program: type caches, traced scope, findings per file. */
class Analysis {
  readonly checker: ts.TypeChecker;
  readonly types: SymtensorTypes;
  readonly scope: TracedScope;
  readonly cwd: string;
  private readonly findings = new Map<ts.SourceFile, readonly RawDiagnostic[]>();
  private readonly libraryRoots: readonly string[];

  constructor(readonly program: ts.Program) {
    this.checker = program.getTypeChecker();
    this.types = new SymtensorTypes(this.checker);
    this.cwd = program.getCurrentDirectory();
    this.libraryRoots = librarySourceRoots(program);
    this.scope = new TracedScope(this.checker, this.types, (sf) => this.isOwnSource(sf), this.cwd);
    this.scope.addFiles(program.getSourceFiles().filter((sf) => this.isOwnSource(sf)));
  }

  /** The user's code: not a declaration file, not a dependency, not symtensor's own sources. */
  isOwnSource(sf: ts.SourceFile): boolean {
    if (sf.isDeclarationFile || this.program.isSourceFileFromExternalLibrary(sf) || this.program.isSourceFileDefaultLibrary(sf)) return false;
    const name = sf.fileName.replace(/\\/g, "/");
    return !name.includes("/node_modules/") && !this.libraryRoots.some((r) => name.startsWith(r));
  }

  findingsFor(sf: ts.SourceFile): readonly RawDiagnostic[] {
    let found = this.findings.get(sf);
    if (found === undefined) {
      this.scope.addFiles([sf]);
      found = new FileLinter(this, sf).run();
      this.findings.set(sf, found);
    }
    return found;
  }
}

const analyses = new WeakMap<ts.Program, Analysis>();

function analysisFor(program: ts.Program): Analysis {
  let a = analyses.get(program);
  if (a === undefined) {
    a = new Analysis(program);
    analyses.set(program, a);
  }
  return a;
}

/** The walk of one file: context (traced function, loop, function depth) and the rules. */
class FileLinter {
  private readonly out: RawDiagnostic[] = [];
  private readonly checker: ts.TypeChecker;
  private readonly types: SymtensorTypes;
  private readonly traced: ReadonlyMap<ts.Node, TraceInfo>;
  /** Operands already checked as conditions (so `if (!t)` reports once). */
  private readonly conditionChecked = new Set<ts.Node>();
  private trace: TraceInfo | undefined;
  private inLoop = false;
  private functionDepth = 0;
  private inFieldInitializer = false;

  constructor(
    private readonly a: Analysis,
    private readonly sf: ts.SourceFile,
  ) {
    this.checker = a.checker;
    this.types = a.types;
    this.traced = a.scope.traced;
  }

  run(): RawDiagnostic[] {
    this.visit(this.sf);
    return this.out;
  }

  private readonly visit = (node: ts.Node): void => {
    if (isFunctionLike(node)) return this.visitFunction(node);
    switch (node.kind) {
      case ts.SyntaxKind.ForStatement: {
        const s = node as ts.ForStatement;
        if (s.initializer !== undefined) this.visit(s.initializer);
        this.inLoopDo(() => {
          if (s.condition !== undefined) {
            this.checkCondition(s.condition, "`for` condition");
            this.visit(s.condition);
          }
          if (s.incrementor !== undefined) this.visit(s.incrementor);
          this.visit(s.statement);
        });
        return;
      }
      case ts.SyntaxKind.ForOfStatement:
      case ts.SyntaxKind.ForInStatement: {
        const s = node as ts.ForOfStatement | ts.ForInStatement;
        if (ts.isForOfStatement(s) && this.trace !== undefined && this.isSymbolicTensor(s.expression)) {
          this.report("ST003", s.expression, `\`for...of\` over a symbolic tensor ${this.where()}`);
        }
        this.visit(s.initializer);
        this.visit(s.expression);
        this.inLoopDo(() => this.visit(s.statement));
        return;
      }
      case ts.SyntaxKind.WhileStatement:
      case ts.SyntaxKind.DoStatement: {
        const s = node as ts.WhileStatement | ts.DoStatement;
        this.inLoopDo(() => {
          this.checkCondition(s.expression, ts.isWhileStatement(s) ? "`while` condition" : "`do...while` condition");
          this.visit(s.expression);
          this.visit(s.statement);
        });
        return;
      }
      case ts.SyntaxKind.PropertyDeclaration:
      case ts.SyntaxKind.ClassStaticBlockDeclaration: {
        const saved = this.inFieldInitializer;
        this.inFieldInitializer = true;
        ts.forEachChild(node, this.visit);
        this.inFieldInitializer = saved;
        return;
      }
      case ts.SyntaxKind.IfStatement:
        this.checkCondition((node as ts.IfStatement).expression, "`if` condition");
        break;
      case ts.SyntaxKind.ConditionalExpression:
        this.checkCondition((node as ts.ConditionalExpression).condition, "`?:` condition");
        break;
      case ts.SyntaxKind.CallExpression:
        this.visitCall(node as ts.CallExpression);
        break;
      case ts.SyntaxKind.NewExpression:
        this.visitNew(node as ts.NewExpression);
        break;
      case ts.SyntaxKind.SpreadElement:
        if (this.trace !== undefined && this.isSymbolicTensor((node as ts.SpreadElement).expression)) {
          this.report("ST003", node, `spread of a symbolic tensor ${this.where()}`);
        }
        break;
      case ts.SyntaxKind.VariableDeclaration: {
        const d = node as ts.VariableDeclaration;
        if (this.trace !== undefined && ts.isArrayBindingPattern(d.name) && d.initializer !== undefined && this.isSymbolicTensor(d.initializer)) {
          this.report("ST003", d, `array destructuring of a symbolic tensor ${this.where()}`);
        }
        break;
      }
      case ts.SyntaxKind.PrefixUnaryExpression:
        this.visitPrefix(node as ts.PrefixUnaryExpression);
        break;
      case ts.SyntaxKind.PostfixUnaryExpression: {
        const u = node as ts.PostfixUnaryExpression;
        this.visitUpdate(u, u.operand, u.operator === ts.SyntaxKind.PlusPlusToken ? "++" : "--");
        break;
      }
      case ts.SyntaxKind.BinaryExpression:
        this.visitBinary(node as ts.BinaryExpression);
        break;
      default:
        break;
    }
    ts.forEachChild(node, this.visit);
  };

  private inLoopDo(body: () => void): void {
    const saved = this.inLoop;
    this.inLoop = true;
    body();
    this.inLoop = saved;
  }

  private visitFunction(node: FunctionLike): void {
    const saved = { trace: this.trace, inLoop: this.inLoop, field: this.inFieldInitializer };
    // Decorators run where the class is defined, not in the method.
    for (const m of ts.canHaveDecorators(node) ? (ts.getDecorators(node) ?? []) : []) this.visit(m);
    this.trace = this.traced.get(node);
    this.inLoop = this.isArrayCallback(node);
    this.inFieldInitializer = false;
    this.functionDepth++;
    for (const p of node.parameters) this.visit(p);
    if (node.body !== undefined) this.visit(node.body);
    this.functionDepth--;
    this.trace = saved.trace;
    this.inLoop = saved.inLoop;
    this.inFieldInitializer = saved.field;
  }

  /** A callback of forEach/map/reduce/... on an array: its body runs once per element. */
  private isArrayCallback(node: FunctionLike): boolean {
    if (!ts.isArrowFunction(node) && !ts.isFunctionExpression(node)) return false;
    let child: ts.Node = node;
    while (ts.isParenthesizedExpression(child.parent)) child = child.parent;
    const call = child.parent;
    if (!ts.isCallExpression(call) || !call.arguments.includes(child as ts.Expression)) return false;
    const callee = skipOuter(call.expression);
    if (!ts.isPropertyAccessExpression(callee) || !ARRAY_CALLBACK_METHODS.has(callee.name.text)) return false;
    const t = this.checker.getTypeAtLocation(callee.expression);
    const isArray = (x: ts.Type): boolean => this.checker.isArrayType(x) || this.checker.isTupleType(x);
    return t.isUnion() ? t.types.some(isArray) : isArray(t);
  }

  // ---- calls ----

  private visitCall(call: ts.CallExpression): void {
    const callee = skipOuter(call.expression);
    if (this.a.scope.fnCalls.has(call) && !ts.isDecorator(call.parent)) this.checkFnPlacement(call);
    if (ts.isPropertyAccessExpression(callee)) {
      const name = callee.name.text;
      if (CONVERSIONS.has(name) && this.types.isTensorExpr(callee.expression)) {
        if (this.trace !== undefined) {
          if (this.isSymbolic(callee.expression)) this.report("ST001", call, `\`.${name}()\` of a symbolic tensor ${this.where()}`);
        } else if (this.inLoop) {
          this.report("ST101", call, `\`.${name}()\` of a tensor inside a loop`);
        }
        return;
      }
      if (this.trace === undefined) return;
      const obj = skipOuter(callee.expression);
      if (!ts.isIdentifier(obj)) return;
      switch (obj.text) {
        case "Math":
          if (!this.isGlobal(obj)) return;
          if (name === "random") this.report("ST006", call, `\`Math.random()\` ${this.where()}`);
          else if (call.arguments.some((x) => !ts.isSpreadElement(x) && this.isSymbolicTensor(x))) this.report("ST002", call, `\`Math.${name}()\` of a symbolic tensor ${this.where()}`);
          return;
        case "console":
          if (this.isGlobal(obj)) this.report("ST006", call, `\`console.${name}()\` ${this.where()}`);
          return;
        case "Date":
          if (name === "now" && this.isGlobal(obj)) this.report("ST006", call, `\`Date.now()\` ${this.where()}`);
          return;
        case "performance":
          if (name === "now" && this.isGlobal(obj)) this.report("ST006", call, `\`performance.now()\` ${this.where()}`);
          return;
        case "Array":
          if (name === "from" && this.isGlobal(obj) && call.arguments[0] !== undefined && this.isSymbolicTensor(call.arguments[0])) {
            this.report("ST003", call, `\`Array.from()\` of a symbolic tensor ${this.where()}`);
          }
          return;
        default:
          return;
      }
    }
    if (this.trace !== undefined && ts.isIdentifier(callee) && COERCING_GLOBALS.has(callee.text) && this.isGlobal(callee)) {
      const arg = call.arguments[0];
      if (arg !== undefined && !ts.isSpreadElement(arg) && this.isSymbolicTensor(arg)) {
        this.report("ST002", call, `\`${callee.text}()\` of a symbolic tensor ${this.where()}`);
      }
    }
  }

  private checkFnPlacement(call: ts.CallExpression): void {
    if (this.inLoop) this.report("ST102", call, "`fn(...)` inside a loop");
    else if (this.functionDepth > 0 && !this.inFieldInitializer) this.report("ST102", call, "`fn(...)` inside a function body");
  }

  private visitNew(node: ts.NewExpression): void {
    if (this.trace === undefined) return;
    const callee = skipOuter(node.expression);
    if (ts.isIdentifier(callee) && callee.text === "Date" && (node.arguments === undefined || node.arguments.length === 0) && this.isGlobal(callee)) {
      this.report("ST006", node, `\`new Date()\` ${this.where()}`);
    }
  }

  // ---- operators ----

  private visitPrefix(u: ts.PrefixUnaryExpression): void {
    switch (u.operator) {
      case ts.SyntaxKind.ExclamationToken:
        if (!this.conditionChecked.has(u)) this.checkCondition(u.operand, "`!` operand");
        return;
      case ts.SyntaxKind.PlusToken:
      case ts.SyntaxKind.MinusToken:
      case ts.SyntaxKind.TildeToken:
        if (this.trace !== undefined && this.isSymbolicTensor(u.operand)) {
          this.report("ST002", u, `unary \`${ts.tokenToString(u.operator)}\` of a symbolic tensor ${this.where()}`);
        }
        return;
      case ts.SyntaxKind.PlusPlusToken:
      case ts.SyntaxKind.MinusMinusToken:
        this.visitUpdate(u, u.operand, u.operator === ts.SyntaxKind.PlusPlusToken ? "++" : "--");
        return;
      default:
        return;
    }
  }

  private visitUpdate(node: ts.Node, operand: ts.Expression, op: string): void {
    if (this.trace === undefined) return;
    if (this.isSymbolicTensor(operand)) this.report("ST002", node, `\`${op}\` of a symbolic tensor ${this.where()}`);
    this.checkOuterWrite(operand, node, `\`${op}\``);
  }

  private visitBinary(b: ts.BinaryExpression): void {
    const op = b.operatorToken.kind;
    if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.AmpersandAmpersandEqualsToken || op === ts.SyntaxKind.BarBarEqualsToken) {
      // In a condition the whole operand tree was checked already; as a value only the left operand's truthiness is used.
      if (!this.conditionChecked.has(b)) this.checkCondition(b.left, `\`${ts.tokenToString(op)}\` operand`);
      return;
    }
    if (this.trace === undefined) return;
    if (op === ts.SyntaxKind.EqualsToken) {
      if (ts.isArrayLiteralExpression(skipOuter(b.left)) && this.isSymbolicTensor(b.right)) {
        this.report("ST003", b, `array destructuring of a symbolic tensor ${this.where()}`);
      }
      this.checkOuterWrite(b.left, b, "assignment");
      return;
    }
    const isCompound = op >= ts.SyntaxKind.FirstCompoundAssignment && op <= ts.SyntaxKind.LastCompoundAssignment;
    if (isCompound && op !== ts.SyntaxKind.QuestionQuestionEqualsToken) this.checkOuterWrite(b.left, b, `\`${ts.tokenToString(op)}\``);
    if (!isCoercingOperator(op)) return;
    const left = this.isSymbolicTensor(b.left);
    const right = this.isSymbolicTensor(b.right);
    if (!left && !right) return;
    if ((op === ts.SyntaxKind.PlusToken || op === ts.SyntaxKind.PlusEqualsToken) && (this.isStringLike(b.left) || this.isStringLike(b.right))) return;
    this.report("ST002", b, `\`${ts.tokenToString(op)}\` with a symbolic tensor operand ${this.where()}`);
  }

  private isStringLike(e: ts.Expression): boolean {
    const t = this.checker.getTypeAtLocation(e);
    const isStr = (x: ts.Type): boolean => (x.flags & ts.TypeFlags.StringLike) !== 0;
    return t.isUnion() ? t.types.every(isStr) : isStr(t);
  }

  /** Reports every tensor whose truthiness `expr` tests (through `!`, `&&`, `||` and parentheses). */
  private checkCondition(expr: ts.Expression, context: string): void {
    const e = skipParens(expr);
    this.conditionChecked.add(e);
    if (ts.isPrefixUnaryExpression(e)) {
      if (e.operator === ts.SyntaxKind.ExclamationToken) this.checkCondition(e.operand, "`!` operand");
      return;
    }
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken) {
        this.checkCondition(e.left, context);
        this.checkCondition(e.right, context);
        return;
      }
      if (op === ts.SyntaxKind.CommaToken) {
        this.checkCondition(e.right, context);
        return;
      }
      if (op !== ts.SyntaxKind.EqualsToken && op !== ts.SyntaxKind.QuestionQuestionToken) return; // comparisons and arithmetic give primitives
    }
    if (isObviouslyPrimitive(e)) return;
    // A possibly-absent tensor (`bias?: Tensor`) tested for presence is fine: the truthiness varies.
    if (this.types.isTensorExpr(e) && !this.types.isNullable(e)) {
      this.report("ST005", e, `a tensor used as the ${context}`);
    }
  }

  // ---- traced-scope helpers ----

  /** A tensor expression inside traced scope that is not a closed-over eager tensor. */
  private isSymbolicTensor(e: ts.Expression): boolean {
    return this.types.isTensorExpr(e) && this.isSymbolic(e);
  }

  /**
   * Symbolic unless it is a plain identifier/property chain whose root is declared outside every
   * traced function (module scope, an enclosing non-traced function) or is `this` (the receiver of
   * a decorated method is part of the signature: its tensors are graph constants).
   */
  private isSymbolic(e: ts.Expression): boolean {
    const root = chainRoot(e);
    if (root.kind === ts.SyntaxKind.ThisKeyword) return false;
    if (!ts.isIdentifier(root)) return true;
    return this.declaredInTracedScope(root) ?? true;
  }

  /** Whether the identifier's declaration is inside a traced function (undefined when unknown). */
  private declaredInTracedScope(id: ts.Identifier): boolean | undefined {
    const symbol = this.checker.getSymbolAtLocation(id);
    if (symbol === undefined) return undefined;
    if (symbol.flags & ts.SymbolFlags.Alias) return false;
    const decl = symbol.valueDeclaration ?? symbol.declarations?.[0];
    if (decl === undefined) return undefined;
    if (decl.getSourceFile().isDeclarationFile) return false;
    for (let p: ts.Node | undefined = decl.parent; p !== undefined; p = p.parent) {
      if (isFunctionLike(p)) return this.traced.has(p);
    }
    return false;
  }

  /** ST006 for a write whose target's root lives outside traced scope. */
  private checkOuterWrite(target: ts.Expression, node: ts.Node, what: string): void {
    const t = skipOuter(target);
    if (ts.isArrayLiteralExpression(t)) {
      for (const el of t.elements) if (!ts.isOmittedExpression(el)) this.checkOuterWrite(ts.isSpreadElement(el) ? el.expression : el, node, what);
      return;
    }
    if (ts.isObjectLiteralExpression(t)) {
      for (const p of t.properties) {
        if (ts.isPropertyAssignment(p)) this.checkOuterWrite(p.initializer, node, what);
        else if (ts.isShorthandPropertyAssignment(p)) this.checkOuterWrite(p.name, node, what);
        else if (ts.isSpreadAssignment(p)) this.checkOuterWrite(p.expression, node, what);
      }
      return;
    }
    if (ts.isBinaryExpression(t) && t.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      this.checkOuterWrite(t.left, node, what); // a destructuring default: [a = 1] = xs
      return;
    }
    const root = chainRoot(t);
    let name: string;
    if (root.kind === ts.SyntaxKind.ThisKeyword) {
      name = "this";
    } else if (ts.isIdentifier(root)) {
      if (this.declaredInTracedScope(root) !== false) return;
      name = root.text;
    } else {
      return;
    }
    const kind = t === root ? `outer variable \`${name}\`` : `\`${t.getText(this.sf)}\` (state outside the traced function)`;
    this.report("ST006", node, `${what} to ${kind} ${this.where()}`);
  }

  private isGlobal(id: ts.Identifier): boolean {
    const symbol = this.checker.getSymbolAtLocation(id);
    return symbol === undefined || (symbol.declarations ?? []).every((d) => d.getSourceFile().isDeclarationFile);
  }

  /** "in traced function `f`", or "in `g`, reached from traced function `f` (a.ts:3) via `h` -> `g`". */
  private where(): string {
    const t = this.trace!;
    if (t.via.length === 0) return `in traced function \`${t.root}\``;
    const place = t.rootLabel.slice(t.root.length + 1);
    return `in \`${t.via[t.via.length - 1]!}\`, reached from traced function \`${t.root}\` ${place} via ${t.via.map((v) => `\`${v}\``).join(" -> ")}`;
  }

  private report(code: LintCode, node: ts.Node, what: string): void {
    this.out.push({ code, start: node.getStart(this.sf), end: node.getEnd(), message: `${what}: ${WHY[code]}`, trace: isTracedCode(code) ? this.trace : undefined });
  }
}

function isTracedCode(code: LintCode): boolean {
  return code === "ST001" || code === "ST002" || code === "ST003" || code === "ST006";
}

function skipParens(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  return e;
}

/** The root of `a.b[0].c`, through parentheses, `!` and type assertions. */
function chainRoot(e: ts.Expression): ts.Expression {
  for (;;) {
    e = skipOuter(e);
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) e = e.expression;
    else return e;
  }
}

function isCoercingOperator(op: ts.SyntaxKind): boolean {
  switch (op) {
    case ts.SyntaxKind.PlusToken: case ts.SyntaxKind.MinusToken: case ts.SyntaxKind.AsteriskToken: case ts.SyntaxKind.SlashToken:
    case ts.SyntaxKind.PercentToken: case ts.SyntaxKind.AsteriskAsteriskToken:
    case ts.SyntaxKind.AmpersandToken: case ts.SyntaxKind.BarToken: case ts.SyntaxKind.CaretToken:
    case ts.SyntaxKind.LessThanLessThanToken: case ts.SyntaxKind.GreaterThanGreaterThanToken: case ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken:
    case ts.SyntaxKind.LessThanToken: case ts.SyntaxKind.GreaterThanToken: case ts.SyntaxKind.LessThanEqualsToken: case ts.SyntaxKind.GreaterThanEqualsToken:
    case ts.SyntaxKind.PlusEqualsToken: case ts.SyntaxKind.MinusEqualsToken: case ts.SyntaxKind.AsteriskEqualsToken: case ts.SyntaxKind.SlashEqualsToken:
    case ts.SyntaxKind.PercentEqualsToken: case ts.SyntaxKind.AsteriskAsteriskEqualsToken:
    case ts.SyntaxKind.AmpersandEqualsToken: case ts.SyntaxKind.BarEqualsToken: case ts.SyntaxKind.CaretEqualsToken:
    case ts.SyntaxKind.LessThanLessThanEqualsToken: case ts.SyntaxKind.GreaterThanGreaterThanEqualsToken: case ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken:
      return true;
    default:
      return false;
  }
}

/** Expressions whose value is a primitive by their syntax alone: no need to ask the checker. */
function isObviouslyPrimitive(e: ts.Expression): boolean {
  switch (e.kind) {
    case ts.SyntaxKind.TrueKeyword: case ts.SyntaxKind.FalseKeyword: case ts.SyntaxKind.NullKeyword:
    case ts.SyntaxKind.NumericLiteral: case ts.SyntaxKind.StringLiteral: case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
    case ts.SyntaxKind.TemplateExpression: case ts.SyntaxKind.TypeOfExpression: case ts.SyntaxKind.VoidExpression:
    case ts.SyntaxKind.PrefixUnaryExpression: case ts.SyntaxKind.PostfixUnaryExpression:
      return true;
    case ts.SyntaxKind.BinaryExpression: {
      const op = (e as ts.BinaryExpression).operatorToken.kind;
      return op !== ts.SyntaxKind.EqualsToken && op !== ts.SyntaxKind.QuestionQuestionToken && op !== ts.SyntaxKind.AmpersandAmpersandToken && op !== ts.SyntaxKind.BarBarToken && op !== ts.SyntaxKind.CommaToken;
    }
    default:
      return false;
  }
}

function toDiagnostic(sf: ts.SourceFile, file: string, raw: RawDiagnostic, severity: LintDiagnostic["severity"]): LintDiagnostic {
  const s = sf.getLineAndCharacterOfPosition(raw.start);
  const e = sf.getLineAndCharacterOfPosition(raw.end);
  const base = { code: raw.code, severity, file, line: s.line + 1, col: s.character + 1, endLine: e.line + 1, endCol: e.character + 1, message: raw.message, help: CODE_HINTS[raw.code] };
  return raw.trace === undefined ? base : { ...base, tracedVia: [raw.trace.rootLabel, ...raw.trace.via] };
}

/**
 * Lints `files` of `program` (default: every non-declaration source file, except dependencies and
 * symtensor's own sources). Traced scope is computed over the whole program once and cached.
 */
export function lintProgram(program: ts.Program, files: readonly ts.SourceFile[] | undefined, options?: LintOptions): LintDiagnostic[] {
  const a = analysisFor(program);
  const targets = files ?? program.getSourceFiles().filter((sf) => a.isOwnSource(sf));
  const out: LintDiagnostic[] = [];
  for (const sf of targets) {
    if (sf.isDeclarationFile) continue;
    const raws = a.findingsFor(sf);
    if (raws.length === 0) continue;
    const suppressions = parseSuppressions(sf);
    const file = path.isAbsolute(sf.fileName) ? sf.fileName : path.resolve(a.cwd, sf.fileName);
    for (const raw of raws) {
      const severity = severityOf(raw.code, options);
      if (severity === undefined) continue;
      const d = toDiagnostic(sf, file, raw, severity);
      if (!isSuppressed(suppressions, d.line, d.code)) out.push(d);
    }
  }
  return out.sort(compareDiagnostics);
}

export function compareDiagnostics(x: LintDiagnostic, y: LintDiagnostic): number {
  if (x.file !== y.file) return x.file < y.file ? -1 : 1;
  return x.line - y.line || x.col - y.col || (x.code < y.code ? -1 : x.code > y.code ? 1 : 0);
}

/** The files under `paths` (directories recursively; node_modules and dot-directories skipped). */
export function expandPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st === undefined) throw new Error(`symtensor lint: no such file or directory: ${p}`);
    if (st.isDirectory()) {
      for (const entry of fs.readdirSync(p, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
        if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
        const child = path.join(p, entry.name);
        if (entry.isDirectory()) walk(child);
        else if (entry.isFile() && isLintable(entry.name)) out.push(child);
      }
    } else {
      out.push(p);
    }
  };
  for (const p of paths) walk(path.resolve(p));
  return [...new Set(out)];
}

function isLintable(name: string): boolean {
  if (/\.d\.[cm]?ts$/.test(name)) return false;
  return SOURCE_EXTENSIONS.has(path.extname(name));
}

const DEFAULT_COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  skipLibCheck: true,
  noEmit: true,
};

/** The compiler options of `project` (a tsconfig.json), or of the nearest one above `from`. */
function compilerOptionsFor(project: string | undefined, from: string | undefined): ts.CompilerOptions {
  let config = project === undefined ? undefined : path.resolve(project);
  if (config !== undefined && fs.existsSync(config) && fs.statSync(config).isDirectory()) config = path.join(config, "tsconfig.json");
  if (config === undefined && from !== undefined) {
    const start = fs.existsSync(from) && fs.statSync(from).isDirectory() ? from : path.dirname(from);
    config = ts.findConfigFile(start, ts.sys.fileExists);
  }
  if (config === undefined) return { ...DEFAULT_COMPILER_OPTIONS };
  const host: ts.ParseConfigFileHost = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(`symtensor lint: cannot read ${config}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  } };
  const parsed = ts.getParsedCommandLineOfConfigFile(config, { noEmit: true }, host);
  return parsed === undefined ? { ...DEFAULT_COMPILER_OPTIONS } : parsed.options;
}

/**
 * Lints files and directories: builds a Program over them with the compiler options of `project`
 * (default: the nearest tsconfig.json above the first path), then runs lintProgram on them.
 */
export function lintFiles(paths: readonly string[], options: LintOptions & { project?: string } = {}): LintDiagnostic[] {
  const files = expandPaths(paths);
  if (files.length === 0) return [];
  const compilerOptions = compilerOptionsFor(options.project, paths[0] === undefined ? undefined : path.resolve(paths[0]));
  if (files.some((f) => /\.[cm]?jsx?$/.test(f))) compilerOptions.allowJs = true;
  const program = ts.createProgram({ rootNames: files, options: compilerOptions });
  const wanted = new Set(files.map((f) => path.resolve(f)));
  const targets = program.getSourceFiles().filter((sf) => wanted.has(path.resolve(sf.fileName)));
  return lintProgram(program, targets, options);
}
