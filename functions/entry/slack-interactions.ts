import { slackInteractionsLambda } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/integrations/slack/interactions.ts. */
export const handler = slackInteractionsLambda();
