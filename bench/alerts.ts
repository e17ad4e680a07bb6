import { labelsFingerprint } from "../functions/core/fingerprint.js";

export type AlertStatus = "firing" | "resolved";

/** When the bench's alerts started firing: every delivery of one episode repeats its startsAt. */
export const FIRST_EPISODE = new Date(Date.now() - 3_600_000);
/** A later episode of the same alert (after a resolve), as Alertmanager would date it. */
export const SECOND_EPISODE = new Date(FIRST_EPISODE.getTime() + 600_000);

/**
 * One Alertmanager webhook v4 delivery with a single alert, shaped like what Alertmanager
 * sends: it always includes the fingerprint, and repeats the alert's startsAt in every
 * notification of one episode (tocsin tells episodes apart by it). `key` makes the label
 * set, so the fingerprint.
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
export function alertmanagerDelivery(
  key: string,
  status: AlertStatus,
  episode: Date = FIRST_EPISODE,
  now = new Date(),
) {
  const labels = {
    alertname: "BenchTrainingStalled",
    severity: "critical",
    team: "ml-training",
    job: "bench",
    instance: `bench-${key}`,
  };
  const startsAt = episode.toISOString();
  return {
    version: "4",
    groupKey: `{}:{alertname="BenchTrainingStalled"}`,
    truncatedAlerts: 0,
    status,
    receiver: "tocsin",
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: { summary: `Training stalled on ${labels.instance}` },
    externalURL: "http://alertmanager.bench:9093",
    alerts: [
      {
        status,
        labels,
        annotations: {
          summary: `Training stalled on ${labels.instance}`,
          description: "No optimizer step in the last 10 minutes.",
        },
        startsAt,
        endsAt: status === "resolved" ? now.toISOString() : "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.bench:9090/graph?g0.expr=up",
        fingerprint: labelsFingerprint(labels),
      },
    ],
  };
}
