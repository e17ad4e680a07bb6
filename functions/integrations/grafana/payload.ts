import * as z from "zod/mini";
import type { Alert } from "../../core/alert.js";
import { alerts, parseWith, status } from "../alertmanager/payload.js";

/** Grafana's webhook contact point (receivers/webhook/v1 in grafana/alerting). */
const grafanaSchema = z.object({
  version: z.optional(z.string()),
  status: z.optional(status),
  receiver: z.optional(z.string()),
  orgId: z.optional(z.number()),
  alerts,
});

/**
 * Validates a Grafana webhook body and returns its alerts, the alert of a test notification
 * (the contact point's Test button) marked `test`. Throws InvalidInputError.
 */
export function parseGrafanaPayload(body: unknown): Alert[] {
  const alerts = parseWith(grafanaSchema, "grafana", body);
  const { groupKey } = body as { groupKey?: unknown };
  return alerts.map((alert) => (isGrafanaTest(alert, groupKey) ? { ...alert, test: true } : alert));
}

/** `TestNotifier`'s group key in grafana/alerting: `<integration>-<fingerprint>-<unix time>`. */
const TEST_GROUP_KEY = /^[^{}]*-([^-{}]+)-\d+$/;

/**
 * Grafana's test notification (notify/receivers.go, test_receivers.go in grafana/alerting):
 * one firing alert, labels alertname=TestAlert and instance=Grafana unless the user gave
 * others, and a group key made of its fingerprint and the time, where a real notification's
 * starts with the route's `{}`. Without a group key (a custom payload), the labels decide.
 */
function isGrafanaTest(alert: Alert, groupKey: unknown): boolean {
  if (typeof groupKey === "string") return TEST_GROUP_KEY.exec(groupKey)?.[1] === alert.fingerprint;
  return alert.labels.alertname === "TestAlert" && alert.labels.instance === "Grafana";
}
