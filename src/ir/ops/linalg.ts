/** linalg ops: registry entries. */
export {};
