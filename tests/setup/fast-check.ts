/**
 * One seed for every property test, so a CI run is reproducible and a failure seen once is seen
 * again. `npm run test:fuzz` (FC_SEED=random) draws a fresh seed per run to keep exploring; a
 * failing property prints its seed, and `FC_SEED=<seed> npx vitest run <file>` replays it.
 */
import fc from "fast-check";

const FIXED_SEED = 20261126;
const raw = process.env["FC_SEED"];
const seed = raw === "random" ? (Math.random() * 2 ** 31) | 0 : raw !== undefined && raw !== "" ? Number(raw) : FIXED_SEED;
if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(raw)}`);
fc.configureGlobal({ seed });
