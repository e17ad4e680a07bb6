import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import pRetry from "p-retry";

/** How hard a notifier tries before it reports `failed`. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before the first retry; it doubles each time, times a random 1-2 (jitter). */
  minDelayMs: number;
  maxDelayMs: number;
  /** No retry starts after this long since the first attempt. */
  maxTotalMs: number;
  /** The longest Retry-After obeyed; a server asking for more than the time left is given up on. */
  maxRetryAfterMs: number;
}

/** 4 attempts, backoff 0.5-1 s, 1-2 s, 2-4 s: under 10 s in all, inside a Lambda's budget. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  minDelayMs: 500,
  maxDelayMs: 4_000,
  maxTotalMs: 10_000,
  maxRetryAfterMs: 5_000,
};

/** A failed attempt worth repeating (5xx, 429, no answer); `retryAfterMs` is the server's wish. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number | undefined,
  ) {
    super(message);
    this.name = "RetryableError";
  }
}

export type RetryResult<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: Error; attempts: number };

/**
 * Runs `attempt` until it succeeds, throws something other than a RetryableError, or the
 * policy is spent; never throws. Backoff is exponential with jitter (p-retry), and a
 * Retry-After is honoured: the extra wait tops the backoff up to what the server asked.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
): Promise<RetryResult<T>> {
  const start = performance.now();
  let attempts = 0;
  try {
    const value = await pRetry(
      () => {
        attempts += 1;
        return attempt();
      },
      {
        retries: Math.max(0, policy.attempts - 1),
        factor: 2,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        maxRetryTime: policy.maxTotalMs,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof RetryableError,
        onFailedAttempt: async ({ error, retriesLeft, retriesConsumed }) => {
          if (!(error instanceof RetryableError) || error.retryAfterMs === undefined) return;
          if (retriesLeft === 0) return;
          const wanted = Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
          const remaining = policy.maxTotalMs - (performance.now() - start);
          if (wanted > remaining) throw error;
          // p-retry's own delay that follows is at least this floor (jitter only adds).
          const floor = Math.min(policy.minDelayMs * 2 ** retriesConsumed, policy.maxDelayMs);
          if (wanted > floor) await sleep(wanted - floor);
        },
      },
    );
    return { ok: true, value, attempts };
  } catch (error) {
    return {
      ok: false,
      error: error instanceof Error ? error : new Error(String(error)),
      attempts,
    };
  }
}
