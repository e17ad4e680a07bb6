import { ackLinksLambda } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/integrations/links/handler.ts. */
export const handler = ackLinksLambda();
