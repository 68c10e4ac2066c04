/** Public linalg functions. */
export {};
