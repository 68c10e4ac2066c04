/** CPU kernels for linalg ops. */
export {};
