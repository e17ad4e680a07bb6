import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Telemetry } from "../app/telemetry.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retryDelayMs } from "../core/delivery-retry.js";
import type { TimelineEvent } from "../core/incident.js";
import type { DeliveryOutcome, Notification, Notifier } from "../core/notification.js";

/** The clock and sleep the retry stage runs on: the system's, or a test's. */
export interface DeliveryClock {
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** In [0, 1): the backoff's jitter. */
  random: () => number;
}

export const SYSTEM_CLOCK: DeliveryClock = {
  now: () => new Date(),
  sleep: async (ms) => {
    await sleep(ms);
  },
  random: Math.random,
};

export interface DeliveryDeps {
  notifiers: Partial<Record<Notifier["kind"], Notifier>>;
  logger: Logger;
  telemetry?: Telemetry | undefined;
  retry?: RetryPolicy | undefined;
  clock?: DeliveryClock | undefined;
}

/** What became of one notification after the Task's attempts. */
export interface Attempted {
  notification: Notification;
  outcome: DeliveryOutcome;
  /** Requests made (0 when there was nothing to send with). */
  attempts: number;
  /** When the last attempt ended: the delivery's own time on the timeline. */
  at: Date;
}

/**
 * The retry stage: one notifier attempt after another until one is not a retryable
 * failure, the policy is spent (a Retry-After longer than the Task waits is left to a later
 * step), or `stillWanted` says no more (asked before each retry: the incident was
 * acknowledged meanwhile, so a new page would be a page after the acknowledgement).
 */
export async function sendWithRetries(
  deps: DeliveryDeps,
  notification: Notification,
  stillWanted: () => Promise<boolean> = async () => true,
): Promise<Attempted> {
  const clock = deps.clock ?? SYSTEM_CLOCK;
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;
  const notifier = deps.notifiers[notification.channel.type];
  if (!notifier) {
    const detail = `not delivered: no ${notification.channel.type} notifier`;
    return {
      notification,
      outcome: { status: "not_delivered", detail },
      attempts: 0,
      at: clock.now(),
    };
  }
  const started = clock.now().getTime();
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const outcome = await notifier.send(notification);
    const at = clock.now();
    if (outcome.status !== "failed" || !outcome.retryable)
      return { notification, outcome, attempts, at };
    const delay = retryDelayMs(
      policy,
      attempts,
      at.getTime() - started,
      outcome.retryAfterMs,
      clock.random(),
    );
    if (delay === null) return { notification, outcome, attempts, at };
    await clock.sleep(delay);
    if (!(await stillWanted())) return { notification, outcome, attempts, at };
  }
}

/**
 * Sends notifications, one per channel, all at once: one channel failing or hanging never
 * holds up another. Counts and logs each outcome.
 */
export async function sendAll(
  deps: DeliveryDeps & { incidentId: string },
  notifications: readonly Notification[],
  stillWanted?: () => Promise<boolean>,
): Promise<Attempted[]> {
  return Promise.all(
    notifications.map(async (notification) => {
      const attempted = await sendWithRetries(deps, notification, stillWanted);
      const { outcome } = attempted;
      deps.telemetry?.count("notifications", 1, {
        channel: notification.channel.type,
        outcome: outcome.status,
      });
      if (outcome.status === "failed") {
        deps.logger.warn("notification failed", {
          event: "notification_failed",
          incidentId: deps.incidentId,
          channel: notification.channelId,
          detail: outcome.detail,
          attempts: attempted.attempts,
          retryable: outcome.retryable === true,
        });
      }
      return attempted;
    }),
  );
}

/**
 * The timeline event of one delivery, at its own time: the outcome, the attempts it took,
 * the Retry-After asked for, and when it is tried again if it will be (`givenUp`: it would
 * have been, but its give-up time has come).
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
