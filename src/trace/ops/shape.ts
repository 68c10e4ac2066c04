/** Public shape functions. */
export {};
