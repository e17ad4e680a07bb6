import type { Alert } from "../../functions/core/alert.js";
import { type IncidentWithTimeline, openIncident } from "../../functions/core/incident.js";
import type { IncidentUpdate } from "../../functions/core/incident-update.js";
import type { Routing } from "../../functions/core/route-tree.js";

let ids = 0;

export const ROUTING: Routing = {
  team: "ml-training",
  severity: "critical",
  channels: ["slack-incidents"],
  escalation: "standard",
  delay: 0,
  matchedRoutes: ["0"],
};

export function alert(fingerprint: string, overrides: Partial<Alert> = {}): Alert {
  return {
    source: "alertmanager",
    status: "firing",
    fingerprint,
    labels: {
      alertname: "TrainingNaNLoss",
      job: fingerprint,
      severity: "critical",
      team: "ml-training",
    },
    annotations: { summary: `loss is NaN on ${fingerprint}` },
    startsAt: "2026-11-30T09:00:00.000Z",
    endsAt: null,
    generatorUrl: "http://prometheus.example/graph",
    dashboardUrl: null,
    silenceUrl: null,
    values: null,
    valueText: null,
    imageUrl: null,
    ruleId: null,
    ...overrides,
  };
}

/**
 * A candidate incident for an alert of `fingerprint`, as ingest builds it. The alert
 * started at `startsAt`, by default `now` (a new episode each time).
 */
export function candidate(
  fingerprint: string,
  now: string,
  routing: Partial<Routing> = {},
  startsAt = now,
): IncidentWithTimeline {
  return openIncident({
    id: `inc-${process.pid}-${++ids}`,
    alert: alert(fingerprint, { startsAt }),
    routing: { ...ROUTING, ...routing },
    runbook: null,
    now,
  });
}

/** The change of a resolved alert from Alertmanager, as the lifecycle decides it (without its detail). */
export const resolveAt = (now: string): IncidentUpdate => ({
  guard: { status: ["triggered", "acknowledged"] },
  set: { status: "resolved", resolvedAt: now, resolvedBy: "alertmanager" },
  append: [{ at: now, type: "resolved", actor: "alertmanager" }],
});

/** A minute after 09:00 on the test day, as ISO. */
export const at = (minute: number, second = 0) =>
  new Date(Date.UTC(2026, 10, 30, 9, minute, second)).toISOString();
