import { webhookLambdas } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/integrations/grafana/webhook.ts. */
export const handler = webhookLambdas().grafanaWebhook;
