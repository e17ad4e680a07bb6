import { pagerDutyWebhookLambda } from "./lambda-runtime.js";

/** Lambda entry point; everything it does is in functions/integrations/pagerduty/webhook.ts. */
export const handler = pagerDutyWebhookLambda();
