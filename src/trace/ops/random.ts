/** Public random functions. */
export {};
