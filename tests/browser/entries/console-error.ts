/** An entry that logs a console error and then fails: the failure must carry the console line. */
export default async function main(): Promise<never> {
  console.error("symtensor-test: something went wrong before the throw");
  throw new RangeError("entry failed on purpose");
}
