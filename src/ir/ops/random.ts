/** random ops: registry entries. */
export {};
