import type { After } from "./clock.js";
import { nextAttemptAt } from "./delivery-retry.js";
import type { TimelineEvent } from "./incident.js";
import type { DeliveryOutcome, Notification, OwedDelivery } from "./notification.js";

/** What became of one notification (or of anything the pipeline delivers) after its attempts. */
export interface Attempted<N = Notification> {
  notification: N;
  outcome: DeliveryOutcome;
  /** Requests made (0 when there was nothing to send with). */
  attempts: number;
  /** When the last attempt ended: the delivery's own time on the timeline. */
  at: Date;
}

/** A delivery to a PagerDuty service (Events v2): PagerDuty, not tocsin, chooses whom it pages. */
const toPagerDutyService = (notification: Notification): boolean =>
  notification.channel.type === "pagerduty" && notification.channel.mode !== "user";

/** What the event says the delivery reached: the person, the PagerDuty service, the level's people. */
function reached(notification: Notification): Partial<TimelineEvent> {
  if (notification.contact) {
    const { userId, name, method, rule } = notification.contact;
    return { target: name, person: userId, method, rule };
  }
  if (toPagerDutyService(notification) && isPage(notification))
    return { target: `PagerDuty service (${notification.channelId})` };
  const target = notification.recipients.map((r) => r.name).join(", ");
  return target ? { target } : {};
}

const isPage = (n: Notification) => n.kind === "trigger" || n.kind === "escalate";

/**
 * The timeline events of one delivery, at its own time: the outcome, the attempts it took,
 * the Retry-After asked for, and when it is tried again if it will be (`givenUp`: it would
 * have been, but its give-up time has come). A personal delivery names the person, the
 * method and the rule; a PagerDuty service is named as such, never a person; a PagerDuty
 * user-mode delivery that says what became of each person it assigned gives one event per
 * person. Pure: what the pipeline's record step writes.
 */
export function deliveryEvents(
  attempted: Attempted,
  nextAttemptAt?: string | null,
  givenUp = false,
): TimelineEvent[] {
  const { notification, outcome, attempts } = attempted;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
  const next = nextAttemptAt
    ? `; next attempt at ${nextAttemptAt}`
    : givenUp
      ? "; given up: no more attempts"
      : "";
  const common = {
    at: attempted.at.toISOString(),
    level: notification.level,
    channel: notification.channelId,
  };
  const timing = {
    attempts,
    ...(outcome.retryAfterMs !== undefined ? { retryAfter: outcome.retryAfterMs / 1000 } : {}),
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
    ...(outcome.providerId ? { providerId: outcome.providerId } : {}),
  };
  if (outcome.perPerson && outcome.perPerson.length > 0) {
    const names = new Map(notification.recipients.map((r) => [r.userId, r.name]));
    return outcome.perPerson.map((person) => ({
      ...common,
      type: person.status === "failed" ? "notification_failed" : "notified",
      target: names.get(person.userId) ?? person.userId,
      person: person.userId,
      method: "pagerduty",
      detail: `${notification.kind}: ${person.detail}${tries}${person.status === "failed" ? next : ""}`,
      outcome: person.status,
      ...timing,
    }));
  }
  return [
    {
      ...common,
      type: outcome.status === "failed" ? "notification_failed" : "notified",
      ...reached(notification),
      detail: `${notification.kind}: ${outcome.detail}${tries}${next}`,
      outcome: outcome.status,
      ...timing,
    },
  ];
}

/** The timeline event of one delivery (see deliveryEvents): the first, for a single one. */
export function deliveryEvent(
  attempted: Attempted,
  nextAttemptAt?: string | null,
  givenUp = false,
): TimelineEvent {
  return deliveryEvents(attempted, nextAttemptAt, givenUp)[0]!;
}

/**
 * What an owed delivery's attempts come to: its timeline events (`event` the first) and, after a retryable failure
 * before its give-up time, the delivery still owed with its next attempt's time and every
 * attempt so far counted (else null: delivered, refused for good, or given up).
 */
export function recordOwed(
  owed: OwedDelivery,
  attempted: Attempted,
  after: After,
): { event: TimelineEvent; events: TimelineEvent[]; stillOwed: OwedDelivery | null } {
  const { outcome } = attempted;
  const retryable = outcome.status === "failed" && outcome.retryable === true;
  const next = retryable
    ? nextAttemptAt(owed.claimedAt, outcome.retryAfterMs, attempted.at, after)
    : null;
  const events = deliveryEvents(attempted, next, retryable && !next);
  return {
    event: events[0]!,
    events,
    stillOwed: next
      ? { ...owed, attempts: owed.attempts + attempted.attempts, nextAttemptAt: next }
      : null,
  };
}
