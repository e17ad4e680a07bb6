import type { Clock } from "../core/clock.js";
import type { Attempted } from "../core/delivery-record.js";
import { type RetryPolicy, retryDelayMs } from "../core/delivery-retry.js";
import type { Stage } from "./pipeline.js";

export interface RetryStageOptions {
  policy: RetryPolicy;
  clock: Pick<Clock, "now" | "sleep" | "random">;
  /**
   * Asked before each retry: false stops at once (an incident acknowledged meanwhile, so
   * another page would be a page after the acknowledgement). Alertmanager's ctx.Done().
   */
  stillWanted?: (() => Promise<boolean>) | undefined;
}

/**
 * The one place that retries (Alertmanager's RetryStage): attempt after attempt until one is
 * not a retryable failure, the policy is spent (a Retry-After longer than it waits is left to
 * whoever comes later: a later escalation step), or `stillWanted` says no more. The clock's
 * sleep and jitter are injected, so tests run the backoff in no time. Answers the last
 * attempt's outcome and time with the attempts of every round added up.
 */
export function retryStage<N>(options: RetryStageOptions): Stage<N> {
  const { policy, clock } = options;
  const stillWanted = options.stillWanted ?? (async () => true);
  return (next) => async (notification) => {
    const started = clock.now().getTime();
    let attempts = 0;
    for (;;) {
      const attempted: Attempted<N> = await next(notification);
      attempts += attempted.attempts;
      const result = { ...attempted, attempts };
      const { outcome } = attempted;
      if (outcome.status !== "failed" || !outcome.retryable) return result;
      const delay = retryDelayMs(
        policy,
        attempts,
        attempted.at.getTime() - started,
        outcome.retryAfterMs,
        clock.random(),
      );
      if (delay === null) return result;
      await clock.sleep(delay);
      if (!(await stillWanted())) return result;
    }
  };
}
