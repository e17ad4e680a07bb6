import type { Logger } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import { type IngestDeps, ingestAlerts } from "../../app/ingest-alerts.js";
import type { Alert } from "../../core/alert.js";
import { ServiceUnavailableError } from "../../core/errors.js";
import { truncatedAlerts } from "../../integrations/alertmanager/payload.js";
import type { GrafanaSignatureHeaders } from "../../integrations/grafana/signature.js";
import { requireToken, type SecretSource } from "./auth.js";
import { jsonBody, rawBody } from "./body.js";
import { errorResponses } from "./http-errors.js";
import { requestLog } from "./request-log.js";
import { type HttpEvent, type HttpMiddleware, type HttpResult, json } from "./types.js";

export interface WebhookDeps extends IngestDeps {
  logger: Logger;
  webhookToken: SecretSource;
  grafanaHmacSecret: () => Promise<string | undefined> | string | undefined;
  /** Where Grafana puts the signature and its timestamp; Grafana's defaults when unset. */
  grafanaHeaders?: GrafanaSignatureHeaders | undefined;
  /** Wall-clock time; handlers are the edge that reads it. */
  now: () => Date;
}

/** How long before the function's timeout a delivery still under way is answered 503. */
export const ANSWER_RESERVE_MS = 1_000;

export function webhookHandler(
  deps: WebhookDeps,
  source: "alertmanager" | "grafana",
  parse: (body: unknown) => Alert[],
  verify: HttpMiddleware[] = [],
) {
  return middy<HttpEvent, HttpResult>({
    // A delivery too slow for the function's timeout is answered 503 before it: the sender
    // retries, and the retry goes further (what was written is now a one-write duplicate).
    timeoutEarlyInMillis: ANSWER_RESERVE_MS,
    timeoutEarlyResponse: () => {
      throw new ServiceUnavailableError("the delivery did not finish before the deadline");
    },
  })
    .use(requestLog(deps.logger, source))
    .use(errorResponses(deps.logger))
    .use(requireToken(deps.webhookToken))
    .use(rawBody())
    .use(verify)
    .use(jsonBody())
    .handler(async (event, _context, { signal }) => {
      // Counted once authenticated: a stranger's requests are not deliveries.
      deps.telemetry?.count("webhooks_received", 1, { source });
      const alerts = parse(event.jsonBody);
      const truncated = truncatedAlerts(event.jsonBody);
      const result = await ingestAlerts(deps, alerts, deps.now().toISOString(), {
        truncatedAlerts: truncated,
        signal,
      });
      event.incidentIds = [...new Set(result.incidents.map((incident) => incident.id))];
      for (const id of result.opened)
        deps.logger.info("incident opened", { event: "incident_opened", incidentId: id });
      if (truncated > 0) {
        // The sender kept part of its group back: say so where operators look.
        deps.logger.warn("delivery truncated by its sender", {
          event: "delivery_truncated",
          source,
          alerts: alerts.length,
          truncatedAlerts: truncated,
        });
      }
      for (const cut of result.cut) {
        deps.logger.warn("alert cut to fit one incident", { event: "alert_cut", ...cut });
      }
      return json(202, { accepted: result.accepted, incidents: result.incidents });
    });
}
