/** CPU kernels for shape ops. */
export {};
