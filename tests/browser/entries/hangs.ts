/** An entry whose promise never settles: the harness must time out and keep the browser usable. */
export default function main(): Promise<never> {
  return new Promise<never>(() => undefined);
}
