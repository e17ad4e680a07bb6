import type { Logger } from "@aws-lambda-powertools/logger";
import { systemClock } from "../adapters/clock.js";
import type { Telemetry } from "../app/telemetry.js";
import type { Clock } from "../core/clock.js";
import type { Attempted } from "../core/delivery-record.js";
import { backoffThrough, DEFAULT_RETRY_POLICY, type RetryPolicy } from "../core/delivery-retry.js";
import type { Notification } from "../core/notification.js";
import type { NotifierRegistry } from "./registry.js";
import { retryStage } from "./retry-stage.js";

export type { Attempted } from "../core/delivery-record.js";

/**
 * The delivery pipeline, as Alertmanager's notify package builds its own: every step has one
 * shape, a `Stage` wrapping the `Send` after it, and a notification goes through
 * [count and log, retry] down to one notifier attempt (`notify`).
 */

/** Delivers one notification (or a note: anything with an outcome) and says what became of it. */
export type Send<N = Notification> = (notification: N) => Promise<Attempted<N>>;

/** One step of the pipeline: it wraps the sending after it. */
export type Stage<N = Notification> = (next: Send<N>) => Send<N>;

/** `stages` in order, the first outermost, over `send`. */
export function pipeline<N>(stages: readonly Stage<N>[], send: Send<N>): Send<N> {
  return stages.reduceRight<Send<N>>((next, stage) => stage(next), send);
}

export interface DeliveryDeps {
  notifiers: NotifierRegistry;
  logger: Logger;
  telemetry?: Telemetry | undefined;
  retry?: RetryPolicy | undefined;
  /** The clock the pipeline runs on: the system's, a scaled one (local), or a test's. */
  clock?: Clock | undefined;
}

/**
 * The end of the pipeline: one attempt by the notifier of the channel's type (the retry
 * stage decides whether there is another). A type nobody delivers is `not_delivered`.
 */
export function notify(registry: NotifierRegistry, clock: Pick<Clock, "now">): Send {
  return async (notification) => {
    const notifier = registry[notification.channel.type];
    if (!notifier) {
      const detail = `not delivered: no ${notification.channel.type} notifier`;
      return {
        notification,
        outcome: { status: "not_delivered", reason: "no_notifier", detail },
        attempts: 0,
        at: clock.now(),
      };
    }
    const outcome = await notifier.send(notification);
    return { notification, outcome, attempts: 1, at: clock.now() };
  };
}

/** Counts every notification's outcome by channel type, and logs a failure once it is final. */
export function countAndLog(
  deps: Pick<DeliveryDeps, "logger" | "telemetry"> & { incidentId: string },
): Stage {
  return (next) => async (notification) => {
    const attempted = await next(notification);
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
  };
}

/**
 * An incident's notifications through the pipeline: [count and log, retry] over the
 * registry. `stillWanted` is asked before each retry (see retryStage).
 */
export function deliveryPipeline(
  deps: DeliveryDeps & { incidentId: string },
  stillWanted?: () => Promise<boolean>,
): Send {
  const clock = deps.clock ?? systemClock;
  // Our own backoff goes through the clock's `after` (the local time scale), Retry-After not.
  const policy = backoffThrough(deps.retry ?? DEFAULT_RETRY_POLICY, clock.after);
  return pipeline(
    [countAndLog(deps), retryStage({ policy, clock, stillWanted })],
    notify(deps.notifiers, clock),
  );
}

/**
 * Sends notifications, one per channel, all at once (Alertmanager's FanoutStage): one
 * channel failing or hanging never holds up another.
 */
export async function sendAll(
  deps: DeliveryDeps & { incidentId: string },
  notifications: readonly Notification[],
  stillWanted?: () => Promise<boolean>,
): Promise<Attempted[]> {
  const send = deliveryPipeline(deps, stillWanted);
  return Promise.all(notifications.map((notification) => send(notification)));
}
