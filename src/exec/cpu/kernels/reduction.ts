/** CPU kernels for reduction ops. */
export {};
