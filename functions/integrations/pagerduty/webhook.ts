import type { Logger } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import type { SecretSource } from "../../adapters/http/auth.js";
import { rawBody } from "../../adapters/http/body.js";
import { errorResponses, HttpError } from "../../adapters/http/http-errors.js";
import { requestLog } from "../../adapters/http/request-log.js";
import { type HttpEvent, type HttpResult, json } from "../../adapters/http/types.js";
import { type ActionDeps, type ActOnce, takeIncidentAction } from "../../app/incident-actions.js";
import type { Config } from "../../core/config.js";
import { isIncidentId } from "../../core/incident-id.js";
import type { Actor } from "../../core/lifecycle-types.js";
import type { ReplayGuard } from "../../core/replay-guard.js";
import { verifyPagerDutySignature, webhookSecrets } from "./signature.js";
import {
  freshWebhook,
  type PagerDutyWebhookEvent,
  parsePagerDutyWebhook,
  WEBHOOK_REPLAY_SECONDS,
} from "./webhook-payload.js";

export interface PagerDutyWebhookDeps extends ActionDeps {
  logger: Logger;
  /** The subscriptions' signing secrets, comma-separated (PAGERDUTY_WEBHOOK_SECRETS). */
  secrets: SecretSource;
  /** Remembers each acted-on event id, across instances, for as long as it may be redelivered. */
  replayGuard: ReplayGuard;
  now: () => Date;
}

const unauthorized = (message: string) => new HttpError(401, "unauthorized", message);

/** Who acted, as the timeline names them: the config's person with that PagerDuty id if any. */
export function pagerDutyActor(
  config: Config,
  agent: { id: string; summary: string | null } | null,
): Actor {
  if (!agent) return { display: "PagerDuty (automation)", via: "pagerduty" };
  for (const [userId, user] of Object.entries(config.users)) {
    if (user.pagerduty === agent.id) {
      return { display: `${user.name} (${userId})`, via: "pagerduty", userId };
    }
  }
  return { display: `${agent.summary ?? "someone"} (PagerDuty ${agent.id})`, via: "pagerduty" };
}

/**
 * A delivery acts once: PagerDuty delivers at least once and repeats a delivery with the
 * same event, so the signed `event.id` is remembered (`pd:<id>`) until the oldest a
 * redelivery may be, only once the event is about to act (a refused one leaves nothing).
 */
function actOnce(deps: PagerDutyWebhookDeps, event: PagerDutyWebhookEvent): ActOnce {
  const key = `pd:${event.eventId}`;
  return {
    claim: () =>
      deps.replayGuard.firstSeen(key, {
        now: deps.now().toISOString(),
        until: new Date(Date.parse(event.occurredAt) + WEBHOOK_REPLAY_SECONDS * 1000).toISOString(),
      }),
    claimed: () => deps.replayGuard.seen(key, deps.now().toISOString()),
  };
}

/**
 * POST /webhooks/pagerduty: PagerDuty v3 webhooks (README "PagerDuty"). The signature is
 * verified on the raw body before anything reads it (401 when missing or forged, or when the
 * signed occurred_at is older than PagerDuty's 48 hours of retries); `incident.acknowledged`
 * and `incident.resolved` of an incident tocsin opened (its incident_key is the tocsin id)
 * acknowledge or resolve it, as the config's person with that PagerDuty user id, via
 * "pagerduty", and the escalation stops. Every other event, and an incident tocsin does not
 * know, is answered 200 and ignored: any 4xx is a delivery PagerDuty drops, and three drops
 * in a row disable the subscription. A repeated delivery answers 200 `{"duplicate": true}`;
 * the echo of a change tocsin made itself (its own acknowledge mirrored to PagerDuty) finds
 * the incident in that state already and answers 200 `{"status": "unchanged"}`: nothing is
 * written, nothing bounces. Only the conditional write and the engine calls are awaited,
 * well inside PagerDuty's 5 s.
 */
export function pagerDutyWebhook(deps: PagerDutyWebhookDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(requestLog(deps.logger, "pagerduty"))
    .use(errorResponses(deps.logger))
    .use(rawBody())
    .use({
      before: async ({ event }) => {
        const secrets = webhookSecrets(await deps.secrets());
        if (secrets.length === 0) {
          throw unauthorized(
            "no PagerDuty webhook secret is configured (PAGERDUTY_WEBHOOK_SECRETS)",
          );
        }
        const verdict = verifyPagerDutySignature({
          secrets,
          header: event.headers["x-pagerduty-signature"],
          rawBody: event.rawBody ?? "",
        });
        if (verdict !== "valid") throw unauthorized(`PagerDuty signature ${verdict}`);
      },
    })
    .handler(async (event) => {
      let body: unknown;
      try {
        body = JSON.parse(event.rawBody ?? "");
      } catch {
        throw new HttpError(400, "malformed_json", "the body is not JSON");
      }
      const parsed = parsePagerDutyWebhook(body);
      if (!parsed.ok) throw new HttpError(400, "invalid_payload", parsed.message);
      const webhook = parsed.event;
      // Signed, so its time is PagerDuty's: a capture replayed after the retry window is stale.
      if (!freshWebhook(webhook.occurredAt, deps.now())) {
        throw unauthorized(
          "PagerDuty signature stale: the event's occurred_at is outside PagerDuty's 48 hours of retries",
        );
      }
      if (webhook.kind === "ignored") return json(200, { ignored: webhook.type });
      const incidentId = webhook.incident.incidentKey;
      if (!isIncidentId(incidentId)) return json(200, { ignored: "not a tocsin incident" });
      event.incidentIds = [incidentId];
      const actor = pagerDutyActor(deps.config, webhook.agent);
      const outcome = await takeIncidentAction(
        {
          ...deps,
          onEngineFault: (id, error) =>
            deps.logger.error("escalation engine failed after a PagerDuty webhook", {
              event: "escalation_engine_fault",
              incidentId: id,
              error,
            }),
        },
        {
          incidentId,
          action:
            webhook.kind === "acknowledge"
              ? {
                  type: "acknowledge",
                  detail: webhook.mergedInto
                    ? `PagerDuty incident ${webhook.incident.id} merged into ${webhook.mergedInto}; the alert stays open until it resolves`
                    : `in PagerDuty incident ${webhook.incident.id}`,
                }
              : { type: "resolve", detail: `in PagerDuty incident ${webhook.incident.id}` },
          user: undefined,
          actor,
          once: actOnce(deps, webhook),
        },
        deps.now(),
      );
      deps.logger.info("pagerduty webhook", {
        event: "pagerduty_webhook",
        incidentId,
        action: webhook.kind,
        outcome: outcome.outcome,
        pagerDutyIncident: webhook.incident.id,
        pagerDutyEvent: webhook.eventId,
      });
      switch (outcome.outcome) {
        case "done":
          return json(200, { status: outcome.incident.status, incidentId });
        case "replayed":
          return json(200, { duplicate: true });
        case "not_found":
          return json(200, { ignored: "not a tocsin incident" });
        default:
          return json(200, { status: "unchanged", message: outcome.message });
      }
    });
}
