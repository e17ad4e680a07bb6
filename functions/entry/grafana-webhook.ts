import { webhookLambdas } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/handlers. */
export const handler = webhookLambdas().grafanaWebhook;
