import { slackInteractionsLambda } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/handlers/slack-interactions.ts. */
export const handler = slackInteractionsLambda();
