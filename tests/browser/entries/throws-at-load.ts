/** An entry whose module evaluation throws: the worker fails to load and never posts an answer. */
const broken: boolean = (globalThis as { __neverSet?: boolean }).__neverSet ?? true;
if (broken) throw new TypeError("entry module failed while loading");

export default async function main(): Promise<number> {
  return 1;
}
