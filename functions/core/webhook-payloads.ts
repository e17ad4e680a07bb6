import { z } from "zod";
import type { Alert, AlertSource } from "./alert.js";
import { InvalidInputError } from "./errors.js";
import { labelsFingerprint } from "./fingerprint.js";

/** Go's zero time, which Alertmanager and Grafana send for "no end known". */
const GO_ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;

const labelSet = z.record(z.string().min(1), z.string());
const timestamp = z.iso.datetime({ offset: true, message: "expected an RFC 3339 timestamp" });
const url = z.string().max(8192);

const alertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: labelSet.refine(
    (labels) => Object.keys(labels).length > 0,
    "an alert needs at least one label",
  ),
  annotations: labelSet.default({}),
  startsAt: timestamp,
  endsAt: z.union([timestamp, z.literal("")]).optional(),
  generatorURL: url.optional(),
  fingerprint: z.string().max(128).optional(),
  // Grafana only.
  silenceURL: url.optional(),
  dashboardURL: url.optional(),
  panelURL: url.optional(),
});

/** Alertmanager webhook v4: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config */
const alertmanagerSchema = z.object({
  version: z.literal("4", { message: 'only Alertmanager webhook version "4" is supported' }),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string().optional(),
  alerts: z.array(alertSchema).min(1, "no alerts in the payload"),
});

/** Grafana's webhook contact point (receivers/webhook/v1 in grafana/alerting). */
const grafanaSchema = z.object({
  version: z.string().optional(),
  status: z.enum(["firing", "resolved"]).optional(),
  receiver: z.string().optional(),
  orgId: z.number().optional(),
  alerts: z.array(alertSchema).min(1, "no alerts in the payload"),
});

type WireAlert = z.output<typeof alertSchema>;

function optionalUrl(value: string | undefined): string | null {
  return value ? value : null;
}

function toIso(value: string): string {
  return new Date(value).toISOString();
}

function toAlert(source: AlertSource, wire: WireAlert): Alert {
  const endsAt = wire.endsAt && !GO_ZERO_TIME.test(wire.endsAt) ? toIso(wire.endsAt) : null;
  return {
    source,
    status: wire.status,
    fingerprint: wire.fingerprint || labelsFingerprint(wire.labels),
    labels: wire.labels,
    annotations: wire.annotations,
    startsAt: toIso(wire.startsAt),
    endsAt,
    generatorUrl: optionalUrl(wire.generatorURL),
    dashboardUrl: optionalUrl(wire.dashboardURL ?? wire.panelURL),
    silenceUrl: optionalUrl(wire.silenceURL),
  };
}

function parseWith<T extends { alerts: WireAlert[] }>(
  schema: z.ZodType<T>,
  source: AlertSource,
  body: unknown,
): Alert[] {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InvalidInputError(issue.path.map(String).join("."), issue.message);
  }
  return result.data.alerts.map((alert) => toAlert(source, alert));
}

/** Validates an Alertmanager webhook body and returns its alerts. Throws InvalidInputError. */
export function parseAlertmanagerPayload(body: unknown): Alert[] {
  return parseWith(alertmanagerSchema, "alertmanager", body);
}

/** Validates a Grafana webhook body and returns its alerts. Throws InvalidInputError. */
export function parseGrafanaPayload(body: unknown): Alert[] {
  return parseWith(grafanaSchema, "grafana", body);
}
