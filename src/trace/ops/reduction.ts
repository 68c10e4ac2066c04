/** Public reduction functions. */
export {};
