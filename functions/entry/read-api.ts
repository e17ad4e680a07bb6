import { readApiLambda } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/api and functions/pages. */
export const handler = readApiLambda();
