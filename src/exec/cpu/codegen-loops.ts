/**
 * Loop nests for generated CPU kernels. A kernel walks an iteration space of static dims; every
 * array it touches is addressed by a stride vector over those dims (0 where it is broadcast), so
 * its element offset is a linear function of the loop counters. The nest keeps one running offset
 * per distinct stride vector, advanced by literal strides, so operands laid out like the output
 * share one index variable and no index is ever recomputed from scratch.
 */

export interface Collapsed {
  readonly dims: number[];
  /** Per array, per collapsed dim. */
  readonly strides: number[][];
  /** Per collapsed dim, the tag of the dims merged into it (reduced or kept). */
  readonly tags: boolean[];
}

/**
 * Drops length-1 dims and merges neighbours that every array walks as one run (outer stride =
 * inner stride x inner length) and that carry the same tag, so inner loops run as long as possible.
 * Callers handle empty spaces (a 0 dim) before collapsing.
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[], tags?: readonly boolean[]): Collapsed {
  const dims: number[] = [];
  const out: number[][] = strides.map(() => []);
  const outTags: boolean[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const tag = tags?.[d] ?? false;
    const last = dims.length - 1;
    const mergeable = last >= 0 && outTags[last] === tag && strides.every((s, k) => out[k]![last] === s[d]! * n);
    if (mergeable) {
      dims[last]! *= n;
      strides.forEach((s, k) => (out[k]![last] = s[d]!));
    } else {
      dims.push(n);
      strides.forEach((s, k) => out[k]!.push(s[d]!));
      outTags.push(tag);
    }
  }
  return { dims, strides: out, tags: outTags };
}

/** One running offset: its stride per collapsed dim and the variable name prefix it uses. */
export interface OffsetGroup {
  readonly strides: readonly number[];
  readonly prefix: string;
}

/**
 * Emits `for` loops over dims[from..to). Level L is the body of the loop over dim L-1 (level 0 is
 * outside every loop); `body(L, offsets, pad)` gives the code placed at the top of each level from
 * from+1 to `to`, before the nested loop, so a value that only varies with outer dims is computed
 * there once (the caller emits level `from` itself). `bases[g]` is each group's offset on entry ("0"
 * or a variable); `offsets[g]` its offset expression at that level. A group whose stride is 0 on a
 * dim keeps its outer variable there; a group starting at 0 with stride 1 reuses the loop counter.
 */
export function loopNest(
  dims: readonly number[],
  groups: readonly OffsetGroup[],
  from: number,
  to: number,
  bases: readonly string[],
  body: (level: number, offsets: readonly string[], pad: string) => string,
  indent = "  ",
): string {
  const emit = (d: number, vars: readonly string[], pad: string): string => {
    if (d === to) return "";
    const i = `i${d}`;
    const decl = [`${i} = 0`];
    const step = [`${i}++`];
    const next = [...vars];
    groups.forEach((g, k) => {
      const s = g.strides[d]!;
      if (s === 0) return;
      if (vars[k] === "0" && s === 1) {
        next[k] = i;
        return;
      }
      const v = `${g.prefix}${d}`;
      decl.push(`${v} = ${vars[k]}`);
      step.push(s === 1 ? `${v}++` : `${v} += ${s}`);
      next[k] = v;
    });
    const inner = pad + "  ";
    return `${pad}for (let ${decl.join(", ")}; ${i} < ${dims[d]}; ${step.join(", ")}) {\n${body(d + 1, next, inner)}${emit(d + 1, next, inner)}${pad}}\n`;
  };
  return emit(from, bases, indent);
}

/** The level (see loopNest) from which a group's offset stops changing: 1 + its innermost nonzero stride's dim. */
export function groupLevel(g: OffsetGroup): number {
  for (let d = g.strides.length - 1; d >= 0; d--) if (g.strides[d] !== 0) return d + 1;
  return 0;
}

