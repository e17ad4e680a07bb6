import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import type { WebhookDeps } from "../../functions/adapters/http/ingest-webhook.js";
import type { IncidentStore } from "../../functions/core/incident-store.js";
import type { ReplayGuard } from "../../functions/core/replay-guard.js";
import { parseConfig } from "../../functions/core/yaml-files.js";
import type { alertmanagerWebhook } from "../../functions/integrations/alertmanager/webhook.js";
import { fixture } from "./fixtures.js";
import { alertmanagerGroup, gpuFleetAlerts } from "./gpu-fleet.js";
import { httpEvent, lambdaContext } from "./http-events.js";

/**
 * What the handler tests build their handlers from, whichever store they run on (the memory
 * store under test/unit, DynamoDB on dynalite in the *.dynamo tests).
 */

export const WEBHOOK_TOKEN = "webhook-token-for-tests";
/** The handlers' clock. */
export const NOW = new Date("2026-11-30T09:30:00Z");
export const shippedConfig = parseConfig(
  readFileSync(new URL("../../tocsin.yaml", import.meta.url), "utf8"),
);

/**
 * The webhooks' dependencies over `store`: the shipped config, no Grafana secret, a fixed
 * clock, and incident ids inc-1, inc-2, ... counted from each call.
 */
export function webhookDeps(store: IncidentStore): WebhookDeps {
  let ids = 0;
  return {
    store,
    config: shippedConfig,
    newId: () => `inc-${++ids}`,
    logger: new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" }),
    webhookToken: () => WEBHOOK_TOKEN,
    grafanaHmacSecret: () => undefined,
    now: () => NOW,
  };
}

/** A captured Alertmanager 0.25 delivery, as text. */
export const alertmanagerBody = (name = "alertmanager-0.25-firing.json") =>
  JSON.stringify(fixture(name));

/** POST /webhooks/alertmanager with the webhook token (unless `headers` say otherwise). */
export const postAlertmanager = (
  handler: ReturnType<typeof alertmanagerWebhook>,
  body: string,
  headers: Record<string, string> = {},
  base64 = false,
) =>
  handler(
    httpEvent({
      routeKey: "POST /webhooks/alertmanager",
      body,
      base64,
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, ...headers },
    }),
    lambdaContext,
  );

/** A group of `count` warning alerts as Alertmanager 0.25 sends it. */
export const warningGroup = (count: number, extra: Record<string, unknown> = {}) =>
  alertmanagerGroup(
    gpuFleetAlerts({ count, severity: "warning", run: "big", startsAt: "2026-11-30T09:00:00Z" }),
    extra,
  );

export const parseBody = (result: { body?: string }) => JSON.parse(result.body ?? "null");

/**
 * `guard` with what it remembered: the keys it answered true for (once each), as the
 * DynamoDB guard's records in its table are one per key.
 */
export function rememberingGuard(guard: ReplayGuard): { guard: ReplayGuard; remembered: string[] } {
  const remembered: string[] = [];
  return {
    remembered,
    guard: {
      async firstSeen(key, window) {
        const first = await guard.firstSeen(key, window);
        if (first && !remembered.includes(key)) remembered.push(key);
        return first;
      },
      seen: (key, now) => guard.seen(key, now),
    },
  };
}
