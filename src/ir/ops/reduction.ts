/** reduction ops: registry entries. */
export {};
