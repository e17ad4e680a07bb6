import { type WebhookDeps, webhookHandler } from "../../adapters/http/ingest-webhook.js";
import { parseAlertmanagerPayload } from "./payload.js";

/** POST /webhooks/alertmanager: Alertmanager webhook v4, bearer or basic token. */
export function alertmanagerWebhook(deps: WebhookDeps) {
  return webhookHandler(deps, "alertmanager", parseAlertmanagerPayload);
}
