import { type WebhookDeps, webhookHandler } from "../../adapters/http/ingest-webhook.js";
import { parseGrafanaPayload } from "./payload.js";
import { requireGrafanaSignature } from "./signature.js";

/** POST /webhooks/grafana: Grafana webhook contact point, token plus HMAC when configured. */
export function grafanaWebhook(deps: WebhookDeps) {
  return webhookHandler(deps, "grafana", parseGrafanaPayload, [
    requireGrafanaSignature(deps.grafanaHmacSecret, deps.now, deps.grafanaHeaders),
  ]);
}
