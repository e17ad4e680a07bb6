import * as z from "zod/mini";
import { type Alert, type AlertSource, type Labels, labelSet } from "../../core/alert.js";
import { InvalidInputError } from "../../core/errors.js";
import { labelsFingerprint } from "../../core/fingerprint.js";
import { validate } from "../../core/validation.js";

/** Go's zero time, which Alertmanager and Grafana send for "no end known". */
const GO_ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;

/**
 * An object of `kind` values (labels, annotations, Grafana's values), every own name kept
 * as an ordinary key of a prototype-less object. Not z.record, which assigns each key and
 * so drops `__proto__` (JSON.parse keeps it as a name like any other; Alertmanager and
 * Grafana allow it).
 */
function ownRecord<T extends string | number, R>(
  kind: "string" | "number",
  make: (entries: Array<[string, T]>) => R,
) {
  return z.pipe(
    z.custom<Record<string, unknown>>(
      (value) => typeof value === "object" && value !== null && !Array.isArray(value),
      { error: `expected an object of ${kind} values` },
    ),
    z.transform((value, ctx) => {
      const entries: Array<[string, T]> = [];
      for (const name of Object.keys(value)) {
        const item = value[name];
        if (name === "") ctx.issues.push(labelIssue(name, item, "a name must not be empty"));
        else if (typeof item !== kind)
          ctx.issues.push(labelIssue(name, item, `expected ${kind}, received ${typeof item}`));
        else entries.push([name, item as T]);
      }
      return make(entries);
    }),
  );
}
const labelSchema = ownRecord<string, Labels>("string", labelSet);
/** Grafana's values by refId, `{B: 87}`: a prototype-less object like the labels. */
const valuesSchema = ownRecord<number, Readonly<Record<string, number>>>("number", (entries) => {
  const values: Record<string, number> = Object.create(null);
  for (const [name, value] of entries) values[name] = value;
  return values;
});

function labelIssue(name: string, input: unknown, message: string) {
  return { code: "custom" as const, message, input, path: [name] };
}
const timestamp = z.iso.datetime({ offset: true, error: "expected an RFC 3339 timestamp" });
const url = z.string().check(z.maxLength(8192));
export const status = z.enum(["firing", "resolved"]);

const alertSchema = z.object({
  status,
  labels: labelSchema.check(
    z.refine((labels) => Object.keys(labels).length > 0, "an alert needs at least one label"),
  ),
  annotations: z.optional(labelSchema),
  startsAt: timestamp,
  endsAt: z.optional(z.union([timestamp, z.literal("")])),
  generatorURL: z.optional(url),
  fingerprint: z.optional(z.string().check(z.maxLength(128))),
  // Grafana only (templates.ExtendedAlert in grafana/alerting).
  silenceURL: z.optional(url),
  dashboardURL: z.optional(url),
  panelURL: z.optional(url),
  imageURL: z.optional(url),
  ruleUID: z.optional(z.string().check(z.maxLength(256))),
  /** The query values at evaluation, by refId; `null` when the rule had none (a test, say). */
  values: z.optional(z.nullable(valuesSchema)),
  valueString: z.optional(z.string().check(z.maxLength(65_536))),
});

export const alerts = z.array(alertSchema).check(z.minLength(1, "no alerts in the payload"));

/** Alertmanager webhook v4: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config */
const alertmanagerSchema = z.object({
  version: z.literal("4", { error: 'only Alertmanager webhook version "4" is supported' }),
  status,
  receiver: z.optional(z.string()),
  alerts,
});

type WireAlert = z.output<typeof alertSchema>;

/** Alertmanager's and Grafana's count of the group's alerts left out of a delivery. */
const truncationSchema = z.object({
  truncatedAlerts: z.optional(z.int().check(z.gte(0, "expected a count of alerts"))),
});

/**
 * How many alerts of the group the sender left out of this delivery (Alertmanager's
 * `max_alerts`, Grafana's own cap), 0 when it is whole; both name it `truncatedAlerts`.
 * Throws InvalidInputError when it is not a count.
 */
export function truncatedAlerts(body: unknown): number {
  const result = validate(truncationSchema, body);
  if (!result.success) {
    throw new InvalidInputError("truncatedAlerts", result.error.issues[0]!.message);
  }
  return result.data.truncatedAlerts ?? 0;
}

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
    annotations: wire.annotations ?? labelSet([]),
    startsAt: toIso(wire.startsAt),
    endsAt,
    generatorUrl: optionalUrl(wire.generatorURL),
    dashboardUrl: optionalUrl(wire.dashboardURL ?? wire.panelURL),
    silenceUrl: optionalUrl(wire.silenceURL),
    values: wire.values && Object.keys(wire.values).length > 0 ? wire.values : null,
    valueText: wire.valueString || null,
    imageUrl: optionalUrl(wire.imageURL),
    ruleId: wire.ruleUID || null,
  };
}

export function parseWith<T extends { alerts: WireAlert[] }>(
  schema: z.ZodMiniType<T>,
  source: AlertSource,
  body: unknown,
): Alert[] {
  const result = validate(schema, body);
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
