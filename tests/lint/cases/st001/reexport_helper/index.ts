// A barrel file.
export * from "./helpers.js";
