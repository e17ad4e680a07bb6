import { readApiLambda } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/handlers. */
export const handler = readApiLambda();
