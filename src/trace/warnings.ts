/** Warnings live in the bottom layer (every layer may warn); this is their public home. */
export { emitWarning, setWarningHandler, type SymtensorWarning, type WarningHandler } from "../ir/warnings.js";
