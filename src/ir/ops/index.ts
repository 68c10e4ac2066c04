/** Loads every op definition into the registry. */
import "./elementwise.js";
import "./reduction.js";
import "./shape.js";
import "./linalg.js";
import "./random.js";
import "./debug.js";
import "./fused.js";
import "./autodiff.js";
import "./control.js";
