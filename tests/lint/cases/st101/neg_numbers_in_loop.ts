// No diagnostics: number.toFixed, string work and a class's own numpy() in loops.
export class Table {
  numpy(): number[] {
    return [1];
  }
}

export function format(xs: number[], tables: Table[]): string[] {
  const out: string[] = [];
  for (const x of xs) out.push(x.toFixed(2));
  xs.forEach((x) => out.push(x.toPrecision(3)));
  for (const t of tables) out.push(String(t.numpy().length));
  return out;
}
