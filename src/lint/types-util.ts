/**
 * Recognizing symtensor in a program: the Tensor classes (by the declaring file of the class
 * symbol, so aliases, subclasses and generics resolve through the checker) and the `fn` function.
 */
import ts from "typescript";

const PRIMITIVE =
  ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.ESSymbolLike |
  ts.TypeFlags.EnumLike | ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void;

const TENSOR_CLASSES = new Set(["Tensor", "EagerTensor", "SymbolicTensor"]);

function normalizePath(p: string): string {
  return p.replace(/\\/g, "/");
}

/** True for symtensor's own sources (…/src/trace/<base>.ts) or its published types (…/symtensor/…/trace/<base>.d.ts). */
function isSymtensorFile(fileName: string, base: string): boolean {
  const p = normalizePath(fileName);
  if (p.endsWith(`/src/trace/${base}.ts`)) return true;
  return p.endsWith(`/trace/${base}.d.ts`) && p.includes("/symtensor/");
}

/** The source directory of each copy of symtensor in the program (…/src/), whose files the call graph does not enter. */
export function librarySourceRoots(program: ts.Program): string[] {
  const roots = new Set<string>();
  for (const sf of program.getSourceFiles()) {
    const m = /^(.*\/src\/)trace\/(fn|tensor|symbolic)\.ts$/.exec(normalizePath(sf.fileName));
    if (m) roots.add(m[1]!);
  }
  return [...roots];
}

/** Answers "is this a tensor?" and "is this symtensor's fn?" with a cache per type and per node. */
export class SymtensorTypes {
  private readonly typeCache = new Map<ts.Type, boolean>();
  private readonly nodeCache = new Map<ts.Node, boolean>();
  private readonly fnSymbolCache = new Map<ts.Symbol, boolean>();

  constructor(private readonly checker: ts.TypeChecker) {}

  /** Whether the expression's type is a Tensor, a subclass, or a union/intersection with one. */
  isTensorExpr(node: ts.Node): boolean {
    let known = this.nodeCache.get(node);
    if (known === undefined) {
      // Look through `as any` and friends: a tensor cast away is still a tensor at run time.
      const e = ts.isExpression(node) ? skipOuter(node) : node;
      let type = this.checker.getTypeAtLocation(e);
      // Narrowing in a falsy branch makes an object type `never`; the declared type still says tensor.
      if (type.flags & ts.TypeFlags.Never && ts.isIdentifier(e)) {
        const symbol = this.checker.getSymbolAtLocation(e);
        if (symbol !== undefined) type = this.checker.getTypeOfSymbol(symbol);
      }
      known = this.isTensorType(type);
      this.nodeCache.set(node, known);
    }
    return known;
  }

  /** `Tensor | undefined` (or null): its truthiness is a presence test, not a constant. */
  isNullable(node: ts.Expression): boolean {
    const type = this.checker.getTypeAtLocation(skipOuter(node));
    const nullish = ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void;
    return type.isUnion() ? type.types.some((t) => (t.flags & nullish) !== 0) : (type.flags & nullish) !== 0;
  }

  isTensorType(type: ts.Type): boolean {
    const known = this.typeCache.get(type);
    if (known !== undefined) return known;
    // Guards recursion through self-referential base types.
    this.typeCache.set(type, false);
    const result = this.computeIsTensor(type);
    this.typeCache.set(type, result);
    return result;
  }

  private computeIsTensor(type: ts.Type): boolean {
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Never | PRIMITIVE)) return false;
    if (type.isUnionOrIntersection()) return type.types.some((t) => this.isTensorType(t));
    if (type.flags & ts.TypeFlags.TypeParameter) {
      const constraint = this.checker.getBaseConstraintOfType(type);
      return constraint !== undefined && constraint !== type && this.isTensorType(constraint);
    }
    if (!(type.flags & ts.TypeFlags.Object)) return false;
    const target = (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference ? (type as ts.TypeReference).target : type;
    const symbol = target.getSymbol();
    if (symbol === undefined || !(symbol.flags & ts.SymbolFlags.Class)) return false;
    if (this.isTensorClass(symbol)) return true;
    const bases = this.checker.getBaseTypes(target as ts.InterfaceType);
    return bases.some((b) => this.isTensorType(b));
  }

  private isTensorClass(symbol: ts.Symbol): boolean {
    if (!TENSOR_CLASSES.has(symbol.name)) return false;
    return (symbol.declarations ?? []).some((d) => {
      const f = d.getSourceFile().fileName;
      return isSymtensorFile(f, "tensor") || isSymtensorFile(f, "symbolic");
    });
  }

  /** Whether `symbol` (an import, re-export or namespace member) resolves to symtensor's `fn`. */
  isFnSymbol(symbol: ts.Symbol | undefined): boolean {
    if (symbol === undefined) return false;
    let known = this.fnSymbolCache.get(symbol);
    if (known === undefined) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
      known = target.name === "fn" && (target.declarations ?? []).some((d) => ts.isFunctionDeclaration(d) && isSymtensorFile(d.getSourceFile().fileName, "fn"));
      this.fnSymbolCache.set(symbol, known);
    }
    return known;
  }

  /** Whether the callee expression of a call (or a decorator) is symtensor's `fn`. */
  isFnCallee(callee: ts.Expression): boolean {
    const e = skipOuter(callee);
    if (ts.isIdentifier(e)) return this.isFnSymbol(this.checker.getSymbolAtLocation(e));
    if (ts.isPropertyAccessExpression(e)) return this.isFnSymbol(this.checker.getSymbolAtLocation(e.name));
    return false;
  }
}

/** Strips parentheses, `!`, `as`, `satisfies` and type assertions. */
export function skipOuter(e: ts.Expression): ts.Expression {
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e)) {
      e = e.expression;
    } else {
      return e;
    }
  }
}
