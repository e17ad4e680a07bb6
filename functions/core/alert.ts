/** Where an alert came from. */
export type AlertSource = "alertmanager" | "grafana";

export const SEVERITIES = ["critical", "high", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export type Labels = Readonly<Record<string, string>>;

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
}

/** A human title: the summary annotation, else the alert name, else the fingerprint. */
export function alertTitle(alert: Pick<Alert, "labels" | "annotations" | "fingerprint">): string {
  return (
    alert.annotations.summary ||
    alert.annotations.title ||
    alert.labels.alertname ||
    `alert ${alert.fingerprint}`
  );
}
