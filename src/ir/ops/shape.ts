/** shape ops: registry entries. */
export {};
