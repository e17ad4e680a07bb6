import type { ChannelConfig } from "./config.js";
import type { ContactTarget } from "./contacts.js";
import type { Incident } from "./incident.js";

/** A person to tell, as the config knows them. */
export interface Recipient {
  userId: string;
  name: string;
  email?: string | undefined;
  /** Slack user id, for mentions and direct messages. */
  slack?: string | undefined;
  /** E.164, for SMS and voice calls. */
  phone?: string | undefined;
  /** PagerDuty user id, for PagerDuty channels in user mode. */
  pagerduty?: string | undefined;
}

/**
 * Where one notification goes: a configured channel, or one person's own contact method
 * (a person's email has the email channel's shape, `{ type: "email", address }`).
 */
export type Destination =
  | ChannelConfig
  | { type: "slack_dm"; user: string }
  | { type: "sms"; phone: string }
  | { type: "voice"; phone: string };

/**
 * Makes a signed acknowledgement link (integrations/links): the full URL, or undefined when
 * the deployment has no link key or no public URL.
 */
export type LinkMaker = (
  claims: { incidentId: string; userId: string; action: "acknowledge" | "resolve" },
  now: string,
) => string | undefined;

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
  /** A config channel's id, or a person's (`@alice:sms`, contacts.ts personalChannelId). */
  channelId: string;
  channel: Destination;
  /** A personal delivery: the person and method it reaches, under which rule. */
  contact?: ContactTarget | undefined;
  /** Signed links that acknowledge or resolve as the person (personal deliveries). */
  links?: { acknowledge: string; resolve: string } | undefined;
  /** PagerDuty user mode: the PagerDuty incident already opened for this channel, if any. */
  pagerDutyIncident?: string | null | undefined;
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
  /** The provider's id for what it accepted: SNS message id, PagerDuty incident id, Slack ts. */
  providerId?: string | undefined;
  /** PagerDuty user mode: the PagerDuty incident opened (to be kept on the incident). */
  pagerDutyIncident?: string | undefined;
  /** PagerDuty user mode: what the delivery came to for each person it assigned. */
  perPerson?: Array<{ userId: string; status: DeliveryStatus; detail: string }> | undefined;
}

/**
 * A channel adapter (PagerDuty, Slack, email). `send` makes one attempt and never throws:
 * it answers `delivered`, or `failed` saying whether the failure is retryable and how long
 * the other side asked to wait; without credentials it answers `not_delivered` and sends
 * nothing. Retrying is the delivery pipeline's job (delivery/retry-stage.ts), not the adapter's:
 * the clients are configured not to retry on their own.
 */
export interface Notifier {
  readonly kind: Destination["type"];
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
  /** A personal delivery: the person and method (absent on channel deliveries and old items). */
  contact?: ContactTarget | undefined;
  /** When the step was claimed: later attempts give up a set time after it. */
  claimedAt: string;
  /** Attempts made so far, over every round. */
  attempts: number;
  /** When to try again after a retryable failure; absent: due at once. */
  nextAttemptAt?: string | undefined;
}
