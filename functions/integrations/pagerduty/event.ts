import type {
  EventPayloadV2,
  Image,
  Link,
  Severity as PagerDutySeverity,
} from "@pagerduty/pdjs/build/src/events.js";
import { type Severity, valuesText } from "../../core/alert.js";
import type { Incident } from "../../core/incident.js";
import type { Notification } from "../../core/notification.js";

/**
 * An Events API v2 event as PagerDuty documents it
 * (https://developer.pagerduty.com/docs/send-alert-event): pdjs's type without the fields
 * it lacks (`client`, `client_url`) and with `payload` optional, as acknowledge and
 * resolve events carry none.
 */
export type PagerDutyEvent = Omit<EventPayloadV2, "payload"> & {
  payload?: EventPayloadV2["payload"];
  client?: string;
  client_url?: string;
};

export const PAGERDUTY_SEVERITY: Readonly<Record<Severity, PagerDutySeverity>> = {
  critical: "critical",
  high: "error",
  warning: "warning",
  info: "info",
};

/** How many runbook diagnosis steps travel with a page. */
const DIAGNOSIS_STEPS = 3;
const SUMMARY_LIMIT = 1024;

export interface PagerDutyEventOptions {
  /** Shown in PagerDuty as the event's client. */
  client?: string | undefined;
  /** A link back to the incident in tocsin (client_url). */
  incidentUrl?: ((incident: Incident) => string | undefined) | undefined;
}

/**
 * The event for a notification. `trigger` and `escalate` both send `trigger` with the
 * incident id as dedup key: PagerDuty folds a repeat into the open alert and creates one
 * when none is open. `acknowledge` and `resolve` need only the dedup key.
 */
export function pagerDutyEvent(
  notification: Notification,
  routingKey: string,
  options: PagerDutyEventOptions = {},
): PagerDutyEvent {
  const { incident } = notification;
  if (notification.kind === "acknowledge" || notification.kind === "resolve") {
    return { routing_key: routingKey, event_action: notification.kind, dedup_key: incident.id };
  }
  const clientUrl = options.incidentUrl?.(incident);
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: incident.id,
    payload: {
      summary: truncate(incident.title, SUMMARY_LIMIT),
      source: incident.labels.instance || incident.labels.job || "tocsin",
      severity: PAGERDUTY_SEVERITY[incident.severity],
      timestamp: incident.startedAt,
      ...(incident.labels.job ? { component: incident.labels.job } : {}),
      group: incident.team,
      ...(incident.labels.alertname ? { class: incident.labels.alertname } : {}),
      custom_details: customDetails(notification),
    },
    links: links(notification),
    ...imagesOf(incident),
    client: options.client ?? "tocsin",
    ...(clientUrl ? { client_url: clientUrl } : {}),
  };
}

function customDetails(notification: Notification): Record<string, unknown> {
  const { incident, runbook } = notification;
  return {
    incident_id: incident.id,
    team: incident.team,
    severity: incident.severity,
    level: notification.level,
    paged: notification.recipients.map((recipient) => recipient.name),
    labels: incident.labels,
    // The numbers as the sender measured them, else its own value text.
    ...(incident.values
      ? { values: incident.values }
      : incident.valueText
        ? { value_string: valuesText(incident) }
        : {}),
    ...(incident.annotations.description ? { description: incident.annotations.description } : {}),
    started_at: incident.startedAt,
    occurrences: incident.occurrences,
    ...(runbook
      ? {
          runbook: {
            name: runbook.name,
            url: runbook.url,
            summary: runbook.summary,
            first_steps: runbook.diagnosis.slice(0, DIAGNOSIS_STEPS),
          },
        }
      : incident.runbook
        ? { runbook: incident.runbook }
        : {}),
  };
}

function links(notification: Notification): Link[] {
  const { incident } = notification;
  const runbook = notification.runbook ?? incident.runbook;
  const candidates: Array<[string | null | undefined, string]> = [
    [runbook?.url, `Runbook: ${runbook?.name ?? ""}`],
    [incident.generatorUrl, "Alert source"],
    [incident.dashboardUrl, "Dashboard"],
    [incident.silenceUrl, "Silence"],
  ];
  return candidates
    .filter((entry): entry is [string, string] => typeof entry[0] === "string" && entry[0] !== "")
    .map(([href, text]) => ({ href, text }));
}

/**
 * The sender's panel image (Grafana's imageURL) as an Events v2 `images` entry, which
 * PagerDuty shows only when it is served over HTTPS; it links to the dashboard when known.
 */
function imagesOf(incident: Incident): { images?: Image[] } {
  const src = incident.imageUrl;
  if (!src || !/^https:\/\//i.test(src)) return {};
  const href = incident.dashboardUrl || src;
  return { images: [{ src, href, alt: truncate(`Panel image: ${incident.title}`, 256) }] };
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
