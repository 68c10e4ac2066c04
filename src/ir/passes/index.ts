/**
 * The optimization passes and their registry. Importing this module registers the built-in passes;
 * adding a pass is one line here: `registerPass(myPass)` (pipelines resolve names when they run,
 * so DEFAULT_PIPELINE may name a pass registered later).
 */
import { canonicalizePass } from "./canonicalize.js";
import { csePass } from "./cse.js";
import { dcePass } from "./dce.js";
import { fusePass } from "./fuse.js";
import { registerPass } from "./manager.js";

registerPass(canonicalizePass);
registerPass(csePass);
registerPass(dcePass);
registerPass(fusePass);

export { canonicalize, canonicalizePass, castChainIsExact, castIsLossless, MAX_CANONICALIZE_ITERATIONS } from "./canonicalize.js";
export { cse, csePass } from "./cse.js";
export { dce, dcePass, hasEffect, nodeReads, renameNode, useCounts } from "./dce.js";
export { fuse, fusePass } from "./fuse.js";
export {
  DEFAULT_PIPELINE,
  getPass,
  hasPass,
  listPasses,
  parsePipeline,
  registerPass,
  runPasses,
  type PassStage,
  type RunPassesOptions,
  type RunPassesResult,
} from "./manager.js";
export { DEFAULT_FOLD_LIMIT, type HostValue, type Pass, type PassContext } from "./pass.js";
