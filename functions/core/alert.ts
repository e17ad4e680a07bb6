/** Where an alert came from. */
export type AlertSource = "alertmanager" | "grafana";

export const SEVERITIES = ["critical", "high", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export type Labels = Readonly<Record<string, string>>;

/**
 * A label set (labels or annotations) without a prototype, so that any name is an ordinary
 * key: `constructor`, `toString` or `__proto__` are labels like the others, never members
 * of Object.prototype, and assigning `__proto__` stores it instead of changing the prototype.
 */
export function labelSet(entries: Iterable<readonly [string, string]>): Labels {
  const labels: Record<string, string> = Object.create(null);
  for (const [name, value] of entries) labels[name] = value;
  return labels;
}

/** The value of label `name`, if the set has it: its own labels only, whatever the object. */
export function labelValue(labels: Labels, name: string): string | undefined {
  return Object.hasOwn(labels, name) ? labels[name] : undefined;
}

/** One alert, whatever sent it: the shape every later step works on. */
export interface Alert {
  source: AlertSource;
  status: "firing" | "resolved";
  fingerprint: string;
  labels: Labels;
  annotations: Labels;
  /** ISO-8601 UTC. */
  startsAt: string;
  /** ISO-8601 UTC, or null while the sender does not know when it ends. */
  endsAt: string | null;
  generatorUrl: string | null;
  dashboardUrl: string | null;
  silenceUrl: string | null;
  /**
   * What the sender measured when the alert fired, by query (Grafana's `values`, e.g.
   * `{B: 87, C: 1}`); null when it sent none (Alertmanager never does).
   */
  values: Readonly<Record<string, number>> | null;
  /** The same in the sender's words (Grafana's `valueString`), kept for senders without `values`. */
  valueText: string | null;
  /** A picture of the panel the alert came from (Grafana's `imageURL`), if the sender made one. */
  imageUrl: string | null;
  /** The sender's id of the alert rule (Grafana's `ruleUID`). */
  ruleId: string | null;
  /** A sender's test notification (Grafana's contact point Test button), not a real alert. */
  test?: boolean | undefined;
}

/**
 * The measured values in one line, `B=87, C=0.952381`, else the sender's own value text,
 * else null: what a notification shows the person woken.
 */
export function valuesText(alert: {
  values?: Alert["values"] | undefined;
  valueText?: string | null | undefined;
}): string | null {
  const entries = Object.entries(alert.values ?? {});
  if (entries.length === 0) return alert.valueText || null;
  return entries.map(([name, value]) => `${name}=${shortNumber(value)}`).join(", ");
}

/** Every digit before the point, at least six significant ones: 0.952381, 1234568, 87. */
function shortNumber(value: number): string {
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  const whole = Math.abs(value) >= 1 ? Math.floor(Math.log10(Math.abs(value))) + 1 : 0;
  return String(Number(value.toPrecision(Math.min(100, Math.max(6, whole)))));
}

/** A human title: the summary annotation, else the alert name, else the fingerprint; one line long at most. */
export function alertTitle(alert: Pick<Alert, "labels" | "annotations" | "fingerprint">): string {
  const title =
    alert.annotations.summary ||
    alert.annotations.title ||
    alert.labels.alertname ||
    `alert ${alert.fingerprint}`;
  return title.length <= TITLE_LIMIT ? title : `${codePointPrefix(title, TITLE_LIMIT - 1)}…`;
}

/** A title is a line, not a document (PagerDuty's summary stops at 1,024 characters). */
export const TITLE_LIMIT = 1024;

/** At most `units` UTF-16 code units of `text`, never half a surrogate pair. */
function codePointPrefix(text: string, units: number): string {
  const last = text.charCodeAt(units - 1);
  return text.slice(0, last >= 0xd800 && last < 0xdc00 ? units - 1 : units);
}
