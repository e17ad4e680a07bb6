import type { Alert, AlertSource, Labels, Severity } from "./alert.js";
import { alertTitle } from "./alert.js";
import type { ContactMethod } from "./contacts.js";
import type { Via } from "./lifecycle-types.js";
import type { OwedDelivery, SlackMessageRef } from "./notification.js";
import type { Routing } from "./route-tree.js";

export const INCIDENT_STATUSES = ["triggered", "acknowledged", "resolved"] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export type TimelineEventType =
  | "triggered"
  | "notified"
  | "notification_failed"
  | "escalated"
  | "exhausted"
  | "acknowledged"
  | "snoozed"
  | "resolved"
  | "reopened"
  /** A person a level names whom none of their contact methods can reach. */
  | "unreachable";

/** One step in an incident's history. Times are ISO-8601 UTC. */
export interface TimelineEvent {
  at: string;
  type: TimelineEventType;
  level?: number;
  channel?: string;
  target?: string;
  actor?: string;
  detail?: string;
  /** Deliveries (notified, notification_failed): what the attempts came to. */
  outcome?: "delivered" | "failed" | "not_delivered";
  /** Deliveries: how many attempts this record covers (each request sent counts). */
  attempts?: number;
  /** Deliveries: how long the other side asked to wait (Retry-After), in seconds. */
  retryAfter?: number;
  /** A failed delivery that will be tried again: when. */
  nextAttemptAt?: string;
  /** Personal deliveries and unreachable: the config user id of the person. */
  person?: string;
  /** Personal deliveries: how the person was reached (pagerduty: assigned in user mode). */
  method?: ContactMethod | "pagerduty";
  /** Personal deliveries: the index of the person's notification rule. */
  rule?: number;
  /** Deliveries: the provider's id (SNS message id, PagerDuty incident id, Slack ts). */
  providerId?: string;
  /** Acknowledged, resolved: where the actor acted from. */
  via?: Via;
}

export interface Runbook {
  name: string;
  url: string;
}

export interface Incident {
  id: string;
  fingerprint: string;
  status: IncidentStatus;
  severity: Severity;
  team: string;
  title: string;
  labels: Labels;
  annotations: Labels;
  source: AlertSource;
  runbook: Runbook | null;
  /** Escalation level reached; 0 until the first level is notified. */
  level: number;
  occurrences: number;
  /** When the alert started firing, by the sender's clock (its startsAt). */
  startedAt: string;
  createdAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  /** Where the route tree sent it: channel ids, escalation policy id, initial delay (s). */
  channels: string[];
  escalationPolicy: string | null;
  delay: number;
  generatorUrl: string | null;
  dashboardUrl: string | null;
  silenceUrl: string | null;
  /**
   * What the sender measured and showed when the alert opened the incident (see Alert).
   * Optional: incidents stored before these existed lack them, and list pages, which read
   * an index's summary fields, leave them out; only the incident itself carries them.
   */
  values?: Alert["values"] | undefined;
  valueText?: string | null | undefined;
  imageUrl?: string | null | undefined;
  ruleId?: string | null | undefined;
  /** Opened by a sender's test notification: told as a test, never paged, resolved by itself. */
  test?: boolean | undefined;
  /** The incident's Slack messages by channel id, once posted. */
  slackMessages: Record<string, SlackMessageRef>;
  /**
   * PagerDuty user mode: the PagerDuty incident opened for it, by channel id; kept once set.
   * Absent on incidents stored before it existed and where none was opened.
   */
  pagerDutyIncidents?: Record<string, string> | undefined;
  /** While snoozed: when the escalation resumes at the level it had reached. */
  snoozedUntil: string | null;
  /** What escalation delays count from: createdAt, moved on by a snooze. */
  escalationBaseAt: string | null;
  /** How many levels have fired, repeats counted (0 before the first): where a snooze resumes. */
  escalationStep: number;
  /**
   * How many alerts of its group the sender left out of the last delivery that carried this
   * alert (Alertmanager's `max_alerts`, Grafana's cap): the group was bigger than what came.
   * 0, or absent on incidents stored before it existed, when the delivery was whole.
   */
  truncatedAlerts?: number | undefined;
}

export interface IncidentWithTimeline extends Incident {
  timeline: TimelineEvent[];
  /** Deliveries of claimed escalation steps not recorded yet (in flight or to be retried); absent when none. */
  owedDeliveries?: OwedDelivery[];
  /**
   * A state the channels that heard of the incident are owed (see IncidentUpdate.owedState): set
   * by the acknowledge or resolve itself, cleared once every one of them is told; absent when none.
   */
  owedState?: OwedState;
}

/** The states a mirror tells the channels (PagerDuty, Slack). */
export type OwedState = Extract<IncidentStatus, "acknowledged" | "resolved">;

/** A test incident's title says so first, wherever it is shown (see test-notification.ts). */
const TEST_TITLE_PREFIX = "Grafana test: ";
const testTitle = (title: string) => `${TEST_TITLE_PREFIX}${title}`;

/**
 * Whether an incident of this title may be a test incident: every test incident's title
 * starts so, but a real alert's title may too, so only the incident's `test` says. Lets a
 * store that reads summaries without `test` (an index projected before it existed) look up
 * the few that may be, and no others.
 */
export const mayBeTestIncident = (incident: Pick<Incident, "title">): boolean =>
  incident.title.startsWith(TEST_TITLE_PREFIX);
const TEST_TRIGGERED_DETAIL =
  "test notification from Grafana (the contact point's Test button): the route's Slack and " +
  "email channels are told it is a test, nobody is paged, and it resolves by itself";

/** A new incident for a firing alert, with its first timeline event. Pure: id and now are given. */
export function openIncident(input: {
  id: string;
  alert: Alert;
  routing: Routing;
  runbook: Runbook | null;
  now: string;
}): IncidentWithTimeline {
  const { id, alert, routing, runbook, now } = input;
  return {
    id,
    fingerprint: alert.fingerprint,
    status: "triggered",
    severity: routing.severity,
    team: routing.team,
    title: alert.test ? testTitle(alertTitle(alert)) : alertTitle(alert),
    labels: alert.labels,
    annotations: alert.annotations,
    source: alert.source,
    runbook,
    level: 0,
    occurrences: 1,
    startedAt: alert.startsAt,
    createdAt: now,
    lastSeenAt: now,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    channels: routing.channels,
    escalationPolicy: routing.escalation,
    delay: routing.delay,
    generatorUrl: alert.generatorUrl,
    dashboardUrl: alert.dashboardUrl,
    silenceUrl: alert.silenceUrl,
    values: alert.values,
    valueText: alert.valueText,
    imageUrl: alert.imageUrl,
    ruleId: alert.ruleId,
    ...(alert.test ? { test: true } : {}),
    slackMessages: {},
    snoozedUntil: null,
    escalationBaseAt: null,
    escalationStep: 0,
    timeline: [
      {
        at: now,
        type: "triggered",
        actor: alert.source,
        detail: alert.test
          ? TEST_TRIGGERED_DETAIL
          : `${routing.severity} alert for team ${routing.team} (fired at ${alert.startsAt})`,
      },
    ],
  };
}

/** Whether the incident tells anyone: a route channel or an escalation policy (info alerts do not). */
export const tellsAnyone = (incident: Pick<Incident, "channels" | "escalationPolicy">): boolean =>
  incident.channels.length > 0 || Boolean(incident.escalationPolicy);

/** Whether the incident has an escalation to run: it tells someone, or it is a test (which resolves itself). */
export const escalates = (
  incident: Pick<Incident, "channels" | "escalationPolicy" | "test">,
): boolean => incident.test === true || tellsAnyone(incident);

/** Whether a snooze of the incident is still running at `at` (ISO-8601). */
export function isSnoozed(incident: Pick<Incident, "snoozedUntil">, at: string): boolean {
  return incident.snoozedUntil !== null && incident.snoozedUntil > at;
}

/** Snooze lengths offered on the message; a plain Snooze button means the first. */
export const SNOOZE_CHOICES = ["30m", "1h", "4h"] as const;
