/** Registers every CPU kernel (elementwise kernels are generated and need no entry). */
import "./reduction.js";
import "./shape.js";
import "./linalg.js";
import "./random.js";
import "./debug.js";
