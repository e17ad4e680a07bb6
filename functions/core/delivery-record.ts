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

/**
 * The timeline event of one delivery, at its own time: the outcome, the attempts it took,
 * the Retry-After asked for, and when it is tried again if it will be (`givenUp`: it would
 * have been, but its give-up time has come). Pure: what the pipeline's record step writes.
 */
export function deliveryEvent(
  attempted: Attempted,
  nextAttemptAt?: string | null,
  givenUp = false,
): TimelineEvent {
  const { notification, outcome, attempts } = attempted;
  const target = notification.recipients.map((r) => r.name).join(", ");
  const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
  const next = nextAttemptAt
    ? `; next attempt at ${nextAttemptAt}`
    : givenUp
      ? "; given up: no more attempts"
      : "";
  return {
    at: attempted.at.toISOString(),
    type: outcome.status === "failed" ? "notification_failed" : "notified",
    level: notification.level,
    channel: notification.channelId,
    ...(target ? { target } : {}),
    detail: `${notification.kind}: ${outcome.detail}${tries}${next}`,
    outcome: outcome.status,
    attempts,
    ...(outcome.retryAfterMs !== undefined ? { retryAfter: outcome.retryAfterMs / 1000 } : {}),
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
  };
}

/**
 * What an owed delivery's attempts come to: its timeline event and, after a retryable failure
 * before its give-up time, the delivery still owed with its next attempt's time and every
 * attempt so far counted (else null: delivered, refused for good, or given up).
 */
export function recordOwed(
  owed: OwedDelivery,
  attempted: Attempted,
  after: After,
): { event: TimelineEvent; stillOwed: OwedDelivery | null } {
  const { outcome } = attempted;
  const retryable = outcome.status === "failed" && outcome.retryable === true;
  const next = retryable
    ? nextAttemptAt(owed.claimedAt, outcome.retryAfterMs, attempted.at, after)
    : null;
  return {
    event: deliveryEvent(attempted, next, retryable && !next),
    stillOwed: next
      ? { ...owed, attempts: owed.attempts + attempted.attempts, nextAttemptAt: next }
      : null,
  };
}
