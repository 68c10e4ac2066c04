/**
 * Traced scope: the functions passed to `fn(...)`, the methods decorated with `@fn()`, and
 * (transitively) every function they call whose body is in the program's own sources. Computed
 * lazily per program: files are scanned for roots with a cheap syntactic prefilter, and only the
 * bodies of traced functions are walked for calls (each function once, breadth-first, so every
 * function keeps its shortest chain from a root).
 */
import path from "node:path";
import ts from "typescript";
import { skipOuter, type SymtensorTypes } from "./types-util.js";

export type FunctionLike =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

/** How a traced function is reached. */
export interface TraceInfo {
  /** The traced root's name, e.g. `trainStep`. */
  readonly root: string;
  /** The root with its place, e.g. `trainStep (src/train.ts:10)`. */
  readonly rootLabel: string;
  /** The functions called on the way, after the root: ["loss", "accuracy"]. */
  readonly via: readonly string[];
}

export function isFunctionLike(node: ts.Node): node is FunctionLike {
  switch (node.kind) {
    case ts.SyntaxKind.FunctionDeclaration:
    case ts.SyntaxKind.MethodDeclaration:
    case ts.SyntaxKind.FunctionExpression:
    case ts.SyntaxKind.ArrowFunction:
    case ts.SyntaxKind.Constructor:
    case ts.SyntaxKind.GetAccessor:
    case ts.SyntaxKind.SetAccessor:
      return true;
    default:
      return false;
  }
}

/** The function a declaration stands for: itself, or the arrow/function expression it is initialized with. */
function functionOfDeclaration(decl: ts.Declaration): FunctionLike | undefined {
  if (isFunctionLike(decl)) return decl.body === undefined ? undefined : decl;
  if ((ts.isVariableDeclaration(decl) || ts.isPropertyDeclaration(decl) || ts.isPropertyAssignment(decl)) && decl.initializer !== undefined) {
    const init = skipOuter(decl.initializer);
    if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init;
  }
  return undefined;
}

function propertyNameText(name: ts.PropertyName | ts.BindingName | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return undefined;
}

function className(member: ts.Node): string | undefined {
  const cls = member.parent;
  if (cls !== undefined && (ts.isClassDeclaration(cls) || ts.isClassExpression(cls))) return cls.name?.text;
  return undefined;
}

/** What a user calls a function: `loss`, `Model.forward`, or the variable an arrow is stored in. */
export function functionName(fnNode: FunctionLike): string | undefined {
  if (ts.isConstructorDeclaration(fnNode)) return `${className(fnNode) ?? "class"} constructor`;
  if (ts.isMethodDeclaration(fnNode) || ts.isGetAccessor(fnNode) || ts.isSetAccessor(fnNode)) {
    const name = propertyNameText(fnNode.name) ?? "method";
    const cls = className(fnNode);
    return cls === undefined ? name : `${cls}.${name}`;
  }
  if ((ts.isFunctionDeclaration(fnNode) || ts.isFunctionExpression(fnNode)) && fnNode.name !== undefined) return fnNode.name.text;
  let p: ts.Node = fnNode.parent;
  while (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isSatisfiesExpression(p)) p = p.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p)) return propertyNameText(p.name);
  if (ts.isPropertyDeclaration(p)) {
    const name = propertyNameText(p.name);
    const cls = className(p);
    return name === undefined || cls === undefined ? name : `${cls}.${name}`;
  }
  return undefined;
}

/** The start of a function's name (or of the function), for its line. */
function namePosition(fnNode: FunctionLike): number {
  const sf = fnNode.getSourceFile();
  if (!ts.isArrowFunction(fnNode) && !ts.isConstructorDeclaration(fnNode) && fnNode.name !== undefined) return fnNode.name.getStart(sf);
  return fnNode.getStart(sf);
}

/** Import-bound local names of a file: a call through one of them may be a renamed `fn`. */
function importedNames(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && st.importClause !== undefined) {
      const clause = st.importClause;
      if (clause.name !== undefined) names.add(clause.name.text);
      const b = clause.namedBindings;
      if (b !== undefined) {
        if (ts.isNamespaceImport(b)) names.add(b.name.text);
        else for (const el of b.elements) names.add(el.name.text);
      }
    } else if (ts.isImportEqualsDeclaration(st)) {
      names.add(st.name.text);
    }
  }
  return names;
}

export class TracedScope {
  /** Every traced function (roots, callees, and functions nested in them) and how it is reached. */
  readonly traced = new Map<ts.Node, TraceInfo>();
  /** The calls of symtensor's `fn` found in scanned files (decorator calls included). */
  readonly fnCalls = new Set<ts.CallExpression>();
  private readonly scanned = new Set<ts.SourceFile>();
  private readonly queue: FunctionLike[] = [];

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly types: SymtensorTypes,
    /** Whether the call graph may enter a file (the program's own, non-library sources). */
    private readonly followInto: (sf: ts.SourceFile) => boolean,
    private readonly cwd: string,
  ) {}

  /** Finds the roots of `files` and walks the call graph from them (idempotent per file). */
  addFiles(files: Iterable<ts.SourceFile>): void {
    for (const sf of files) this.scanFile(sf);
    this.drain();
  }

  private scanFile(sf: ts.SourceFile): void {
    if (this.scanned.has(sf)) return;
    this.scanned.add(sf);
    if (sf.isDeclarationFile) return;
    const imports = importedNames(sf);
    const maybeFn = (callee: ts.Expression): boolean => {
      const e = skipOuter(callee);
      if (ts.isIdentifier(e)) return e.text === "fn" || imports.has(e.text);
      if (ts.isPropertyAccessExpression(e)) return e.name.text === "fn" || (ts.isIdentifier(e.expression) && imports.has(e.expression.text));
      return false;
    };
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && maybeFn(node.expression) && this.types.isFnCallee(node.expression)) {
        this.fnCalls.add(node);
        this.addRootFromCall(node);
      } else if (ts.isDecorator(node) && !ts.isCallExpression(node.expression) && maybeFn(node.expression) && this.types.isFnCallee(node.expression)) {
        this.addDecoratedRoot(node);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  private addRootFromCall(call: ts.CallExpression): void {
    if (ts.isDecorator(call.parent)) {
      this.addDecoratedRoot(call.parent);
      return;
    }
    const arg = call.arguments[0];
    if (arg === undefined) return;
    const e = skipOuter(arg);
    const target = ts.isArrowFunction(e) || ts.isFunctionExpression(e) ? e : this.resolveFunction(e);
    if (target === undefined) return;
    this.addRoot(target, this.optionName(call) ?? functionName(target) ?? this.assignedName(call) ?? "anonymous");
  }

  private addDecoratedRoot(decorator: ts.Decorator): void {
    const member = decorator.parent;
    if (isFunctionLike(member) && member.body !== undefined) {
      const call = decorator.expression;
      const name = (ts.isCallExpression(call) ? this.optionName(call, 0) : undefined) ?? functionName(member) ?? "anonymous";
      this.addRoot(member, name);
    }
  }

  /** `fn(f, { name: "step" })`: the name the runtime uses. */
  private optionName(call: ts.CallExpression, index = 1): string | undefined {
    const opts = call.arguments[index];
    if (opts === undefined || !ts.isObjectLiteralExpression(opts)) return undefined;
    for (const p of opts.properties) {
      if (ts.isPropertyAssignment(p) && propertyNameText(p.name) === "name" && ts.isStringLiteralLike(p.initializer)) return p.initializer.text;
    }
    return undefined;
  }

  /** `const trainStep = fn((x) => ...)`: the name of what holds the traced function. */
  private assignedName(call: ts.CallExpression): string | undefined {
    let p: ts.Node = call.parent;
    while (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isSatisfiesExpression(p)) p = p.parent;
    if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return propertyNameText(p.name);
    if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const left = p.left;
      if (ts.isIdentifier(left)) return left.text;
      if (ts.isPropertyAccessExpression(left)) return left.name.text;
    }
    return undefined;
  }

  private addRoot(target: FunctionLike, name: string): void {
    const existing = this.traced.get(target);
    // A root keeps its own label even if an earlier root's walk reached it as a callee.
    if (existing !== undefined && existing.via.length === 0) return;
    const sf = target.getSourceFile();
    const line = sf.getLineAndCharacterOfPosition(namePosition(target)).line + 1;
    const rel = path.relative(this.cwd, sf.fileName).replace(/\\/g, "/");
    const where = rel.startsWith("..") || path.isAbsolute(rel) ? sf.fileName : rel;
    this.traced.set(target, { root: name, rootLabel: `${name} (${where}:${line})`, via: [] });
    this.queue.push(target);
  }

  /** The function declaration an expression (a callee, or a function passed as a value) refers to. */
  resolveFunction(expr: ts.Expression): FunctionLike | undefined {
    const e = skipOuter(expr);
    let symbol: ts.Symbol | undefined;
    if (ts.isIdentifier(e)) symbol = this.checker.getSymbolAtLocation(e);
    else if (ts.isPropertyAccessExpression(e)) symbol = this.checker.getSymbolAtLocation(e.name);
    else return undefined;
    for (let depth = 0; symbol !== undefined && depth < 4; depth++) {
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
      let next: ts.Symbol | undefined;
      for (const decl of symbol.declarations ?? []) {
        if (ts.isShorthandPropertyAssignment(decl)) {
          next = this.checker.getShorthandAssignmentValueSymbol(decl);
          continue;
        }
        if (!this.followInto(decl.getSourceFile())) continue;
        const f = functionOfDeclaration(decl);
        if (f !== undefined) return f;
      }
      symbol = next;
    }
    return undefined;
  }

  private drain(): void {
    for (let i = 0; i < this.queue.length; i++) this.walkUnit(this.queue[i]!);
    this.queue.length = 0;
  }

  /** Collects the calls of one traced function (and of the functions nested in it). */
  private walkUnit(unit: FunctionLike): void {
    const info = this.traced.get(unit)!;
    const sf = unit.getSourceFile();
    const reach = (target: FunctionLike | undefined): void => {
      if (target === undefined || this.traced.has(target)) return;
      // A function nested in this one is part of it, not a hop of the chain.
      const nested = target.getSourceFile() === sf && target.pos >= unit.pos && target.end <= unit.end;
      this.traced.set(target, nested ? info : { ...info, via: [...info.via, functionName(target) ?? "anonymous"] });
      this.queue.push(target);
    };
    const visit = (node: ts.Node): void => {
      if (isFunctionLike(node)) {
        if (this.traced.has(node)) return;
        this.traced.set(node, info);
      } else if (ts.isCallExpression(node)) {
        const callee = skipOuter(node.expression);
        if (ts.isIdentifier(callee) || ts.isPropertyAccessExpression(callee)) reach(this.resolveFunction(callee));
        // A named function passed as a callback runs during the trace too: unstack(x).map(rowLoss).
        for (const arg of node.arguments) {
          const a = skipOuter(arg);
          if (ts.isIdentifier(a) || ts.isPropertyAccessExpression(a)) reach(this.resolveFunction(a));
        }
      }
      ts.forEachChild(node, visit);
    };
    for (const p of unit.parameters) visit(p);
    if (unit.body !== undefined) visit(unit.body);
  }
}
