import { webhookLambdas } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/integrations/alertmanager/webhook.ts. */
export const handler = webhookLambdas().alertmanagerWebhook;
