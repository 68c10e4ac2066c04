/**
 * The CLI's one door into the library. Symbolic tensors are recognised with instanceof, so the CLI,
 * and every user module it loads, must share ONE copy of symtensor: the public entry "../index.js".
 * scripts/build.mjs keeps that import external in dist/cli.js (rewritten to "./index.js", the
 * library bundle beside it) instead of bundling a second copy.
 */
export * from "../index.js";
