import type { ChannelConfig } from "./config.js";
import type { Incident } from "./incident.js";

/** A person to tell, as the config knows them. */
export interface Recipient {
  userId: string;
  name: string;
  email?: string | undefined;
  /** Slack user id, for mentions. */
  slack?: string | undefined;
}

/** What a notification carries of the incident's runbook. */
export interface RunbookDetails {
  name: string;
  url: string;
  summary: string;
  /** The numbered Diagnosis steps, in order. */
  diagnosis: string[];
  /** The whole runbook as Markdown (email carries it in full). */
  body: string;
}

/** Where an incident's Slack message lives, once posted. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/**
 * One thing to tell one channel. `trigger` is the first message about an incident,
 * `escalate` a later level, `acknowledge`/`resolve` mirror a state change.
 */
export interface Notification {
  kind: "trigger" | "escalate" | "acknowledge" | "resolve";
  incident: Incident;
  /** 0 for the route's channels told at once; 1..n for escalation levels. */
  level: number;
  channelId: string;
  channel: ChannelConfig;
  /** The people this level pages or mentions (empty for a plain channel post). */
  recipients: Recipient[];
  runbook: RunbookDetails | null;
  /** The incident's Slack message, for thread replies and updates. */
  slackMessage: SlackMessageRef | null;
  /** Who acknowledged or resolved, for `acknowledge`/`resolve`. */
  actor?: string | undefined;
}

export type DeliveryStatus = "delivered" | "failed" | "not_delivered";

export interface DeliveryOutcome {
  status: DeliveryStatus;
  /** For the timeline: why it failed, or "not delivered: no credentials". */
  detail: string;
  /** Set by Slack when it posted a new message. */
  slackMessage?: SlackMessageRef | undefined;
}

/**
 * A channel adapter (PagerDuty, Slack, email). `send` never throws: it retries what is
 * retryable (5xx, 429 with Retry-After, network) with bounded exponential backoff and
 * jitter, then answers `failed` with the reason; without credentials it answers
 * `not_delivered` and sends nothing.
 */
export interface Notifier {
  readonly kind: ChannelConfig["type"];
  send(notification: Notification): Promise<DeliveryOutcome>;
}
