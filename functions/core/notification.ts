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

/** What one attempt to send a notification came to. */
export interface DeliveryOutcome {
  status: DeliveryStatus;
  /** For the timeline: what was done, why it failed, or "not delivered: no credentials". */
  detail: string;
  /**
   * `failed` only: whether another attempt may succeed (a 5xx, a 429, no answer), as
   * opposed to a refusal that repeating cannot cure (a 4xx, a bad configuration).
   */
  retryable?: boolean | undefined;
  /** `failed` only: how long the other side asked to wait (Retry-After), in ms. */
  retryAfterMs?: number | undefined;
  /**
   * `not_delivered` only: why nothing was sent. `no_credentials`: the channel has no token,
   * key or topic; `no_notifier`: nothing delivers the channel's type here.
   */
  reason?: "no_credentials" | "no_notifier" | undefined;
  /** Set by Slack when it posted a new message. */
  slackMessage?: SlackMessageRef | undefined;
}

/**
 * A channel adapter (PagerDuty, Slack, email). `send` makes one attempt and never throws:
 * it answers `delivered`, or `failed` saying whether the failure is retryable and how long
 * the other side asked to wait; without credentials it answers `not_delivered` and sends
 * nothing. Retrying is the delivery pipeline's job (delivery/retry-stage.ts), not the adapter's:
 * the clients are configured not to retry on their own.
 */
export interface Notifier {
  readonly kind: ChannelConfig["type"];
  send(notification: Notification): Promise<DeliveryOutcome>;
}

/**
 * A delivery of a claimed escalation step that is not recorded yet: in flight, left by a
 * crash, or failed and waiting for its next attempt. The claim writes one per delivery and
 * each recorded outcome clears its own, so a retried or resumed step sends exactly these.
 */
export interface OwedDelivery {
  /** Unique within the incident: the step and the delivery's place in it (`s2d0`). */
  key: string;
  step: number;
  channelId: string;
  kind: "trigger" | "escalate";
  level: number;
  /** The people the level named when it was claimed. */
  recipients: Recipient[];
  /** When the step was claimed: later attempts give up a set time after it. */
  claimedAt: string;
  /** Attempts made so far, over every round. */
  attempts: number;
  /** When to try again after a retryable failure; absent: due at once. */
  nextAttemptAt?: string | undefined;
}
