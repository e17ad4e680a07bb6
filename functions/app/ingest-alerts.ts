import pMap from "p-map";
import type { Alert } from "../core/alert.js";
import { describeCuts, type FittedAlert, fitAlert } from "../core/alert-size.js";
import type { Config } from "../core/config.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import { type IncidentWithTimeline, openIncident, type Runbook } from "../core/incident.js";
import type { IncidentStore } from "../core/incident-store.js";
import { decide, followUp } from "../core/lifecycle.js";
import { routeAlert } from "../core/route-tree.js";
import { carryOut, owedOnlyWithEngine } from "./effects.js";
import type { Telemetry } from "./telemetry.js";

export interface IngestDeps {
  store: IncidentStore;
  config: Config;
  /** A fresh, unique incident id. */
  newId: () => string;
  /** The runbook for an alert, if one serves it. */
  findRunbook?: (alert: Alert) => Runbook | null;
  /** Starts and stops escalations; without it incidents are only recorded. */
  escalation?: EscalationRunner;
  /** Counts deduplicated alerts and opened incidents. */
  telemetry?: Telemetry;
}

export interface IngestedIncident {
  id: string;
  status: string;
  deduplicated: boolean;
}

export interface IngestResult {
  accepted: number;
  incidents: IngestedIncident[];
  /** Incidents this delivery opened (exactly one delivery reports each). */
  opened: string[];
  /** Alerts cut to fit one incident: their fingerprint and the fields cut. */
  cut: Array<{ fingerprint: string; fields: string[] }>;
}

/** What a delivery says about itself, beyond its alerts, and how long it may take. */
export interface DeliveryFacts {
  /** Alerts of the group the sender left out (see Incident.truncatedAlerts). */
  truncatedAlerts?: number;
  /** Aborted when the answer must go (the function's deadline): no alert starts after it. */
  signal?: AbortSignal | undefined;
}

/**
 * How many alerts of one delivery are written at once. Each alert's writes (and its
 * escalation's start) follow one another, so a delivery's time is its alerts' latency
 * divided by this; the SDK clients keep a socket for each (AWS_CALL_POLICY.maxSockets).
 */
export const INGEST_CONCURRENCY = 64;

/**
 * Turns validated alerts into incidents: routes each, opens or deduplicates firing ones,
 * resolves resolved ones, INGEST_CONCURRENCY at a time. Any storage failure rejects the
 * whole call (and starts no more alerts) so the sender retries; so does `signal`. Every
 * write is repeatable, so the retry finishes what the failed call began, and an escalation
 * starts before its opening is committed: a start that failed is made by the retry.
 */
export async function ingestAlerts(
  deps: IngestDeps,
  alerts: readonly Alert[],
  now: string,
  delivery: DeliveryFacts = {},
): Promise<IngestResult> {
  // Every alert is checked to fit before any is written: a refusal writes nothing.
  const fitted = alerts.map((alert, index) => fitAlert(alert, `alerts.${index}`));
  // After a failure the delivery is answered 503: p-map starts none of what its retry will write.
  const results = await pMap(
    alerts,
    (alert, index) => ingestOne(deps, alert, fitted[index]!, now, delivery),
    {
      concurrency: INGEST_CONCURRENCY,
      stopOnError: true,
      ...(delivery.signal ? { signal: delivery.signal } : {}),
    },
  );
  return {
    accepted: alerts.length,
    incidents: results.flatMap((r) => (r.incident ? [r.incident] : [])),
    opened: results.flatMap((r) => (r.opened && r.incident ? [r.incident.id] : [])),
    cut: fitted.flatMap(({ alert, cuts }) =>
      cuts.length > 0 ? [{ fingerprint: alert.fingerprint, fields: cuts.map((c) => c.field) }] : [],
    ),
  };
}

/** The timeline's note on a delivery that did not carry its whole group. */
export const truncationNote = (truncated: number) =>
  `the delivery left out ${truncated} more alert${truncated === 1 ? "" : "s"} of its group (the sender's max_alerts): the group was bigger than what tocsin received`;

/** One alert: routed and matched to its runbook as sent, stored as `fit` cut it. */
async function ingestOne(
  deps: IngestDeps,
  alert: Alert,
  fit: FittedAlert,
  now: string,
  delivery: DeliveryFacts,
) {
  const routing = routeAlert(deps.config, alert.labels);
  const runbook = deps.findRunbook?.(alert) ?? null;
  const truncated = delivery.truncatedAlerts ?? 0;
  const candidate = {
    ...openIncident({ id: deps.newId(), alert: fit.alert, routing, runbook, now }),
    truncatedAlerts: truncated,
  };
  const notes = [
    ...(fit.cuts.length > 0 ? [describeCuts(fit.cuts)] : []),
    ...(truncated > 0 ? [truncationNote(truncated)] : []),
  ];
  if (notes.length > 0) {
    const [triggered] = candidate.timeline;
    triggered!.detail = [triggered!.detail, ...notes].join("; ");
  }
  const ctx = { config: deps.config, now };
  const runner = deps.escalation;
  if (alert.status === "firing") {
    const event = { type: "alert_fired" as const, candidate };
    const { incident, created, toConfirm, previous } = await deps.store.fire(candidate);
    if (toConfirm) {
      // Before the opening is confirmed, so that a failure here is retried with it.
      if (previous !== undefined) await finishResolve(deps, candidate, previous, now);
      // The escalation starts before the opening is confirmed: a start that failed (the
      // delivery is answered 503) is made by the sender's retry, which finds it unconfirmed.
      if (runner)
        await carryOut(runner, incident.id, followUp({ ...candidate, ...incident }, event, ctx));
      await deps.store.confirmOpening(candidate.fingerprint, incident.id);
    }
    if (created) deps.telemetry?.count("incidents_opened", 1, { severity: candidate.severity });
    else deps.telemetry?.count("alerts_deduplicated", 1);
    return {
      incident: { id: incident.id, status: incident.status, deduplicated: !created },
      opened: created,
    };
  }
  const event = { type: "alert_resolved" as const, candidate, endsAt: alert.endsAt };
  const decision = decide(null, event, ctx);
  if (decision.outcome !== "change" || decision.change.kind !== "resolve_fingerprint")
    throw new Error("a resolved alert resolves its fingerprint's incident");
  const resolved = await deps.store.resolveFingerprint(
    candidate,
    owedOnlyWithEngine(decision.change.update, runner),
  );
  // A retry of the delivery carries the effects out again (each is repeatable).
  if (resolved && runner) await carryOut(runner, resolved.id, followUp(resolved, event, ctx));
  // A resolve matches an existing incident: in that sense it is always a duplicate.
  return {
    incident: resolved ? { id: resolved.id, status: resolved.status, deduplicated: true } : null,
    opened: false,
  };
}

/**
 * The fingerprint's last incident, `previous`, resolved if its resolve was cut short (a crash
 * or a storage fault between detaching the episode and writing the incident, and the sender's
 * retries ran out): else the alert firing again would leave it triggered, and paging, beside
 * the new one. One conditional write, which changes nothing once `previous` is resolved.
 */
async function finishResolve(
  deps: IngestDeps,
  candidate: IncidentWithTimeline,
  previous: string,
  now: string,
) {
  const event = { type: "episode_followed" as const, candidate, previous };
  const decision = decide(null, event, { config: deps.config, now });
  if (decision.outcome !== "change" || decision.change.kind !== "update")
    throw new Error("a followed episode resolves its incident");
  const runner = deps.escalation;
  const { applied, incident } = await deps.store.apply(
    previous,
    owedOnlyWithEngine(decision.change.update, runner),
  );
  if (applied && runner)
    await carryOut(runner, previous, followUp(incident, event, { config: deps.config, now }));
}
