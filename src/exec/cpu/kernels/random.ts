/** CPU kernels for random ops. */
export {};
