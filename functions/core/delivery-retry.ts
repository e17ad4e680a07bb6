/**
 * When a failed delivery is tried again. Two horizons: the escalation Task's own attempts,
 * a few seconds apart (RetryPolicy, carried out by delivery/pipeline.ts), and later attempts in
 * later steps of the state machine, minutes apart, while the incident stays open
 * (nextAttemptAt). Pure: the clock and the randomness are given.
 */
import { type After, durationThrough } from "./clock.js";

/** How hard one Task tries a delivery before leaving it to a later step. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before the first retry; it doubles each time, times a random 1-2 (jitter). */
  minDelayMs: number;
  maxDelayMs: number;
  /** No retry starts later than this after the first attempt. */
  maxTotalMs: number;
  /** The longest Retry-After waited out in the Task; a longer one is left to a later step. */
  maxRetryAfterMs: number;
}

/** 4 attempts, backoff 0.5-1 s, 1-2 s, 2-4 s: under 10 s in all, well inside the Task's timeout. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  minDelayMs: 500,
  maxDelayMs: 4_000,
  maxTotalMs: 10_000,
  maxRetryAfterMs: 5_000,
};

/**
 * The policy with its backoff through `after` (locally the time scale divides it, as it
 * divides the levels'): a server's Retry-After, and the total and the longest Retry-After
 * a Task waits (real time, inside the Task's timeout), are not ours to scale.
 */
export function backoffThrough(policy: RetryPolicy, after: After): RetryPolicy {
  return {
    ...policy,
    minDelayMs: durationThrough(after, policy.minDelayMs),
    maxDelayMs: durationThrough(after, policy.maxDelayMs),
  };
}

/**
 * The wait before the next attempt in the same Task, or null to stop trying here:
 * the attempts are spent, the server asks for longer than the Task waits, or the wait
 * would end past the policy's total. `made`: attempts so far; `elapsedMs` since the first.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  made: number,
  elapsedMs: number,
  retryAfterMs: number | undefined,
  random: number,
): number | null {
  if (made >= policy.attempts) return null;
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return null;
  const backoff = Math.min(policy.minDelayMs * 2 ** (made - 1), policy.maxDelayMs) * (1 + random);
  const delay = Math.max(backoff, retryAfterMs ?? 0);
  return elapsedMs + delay > policy.maxTotalMs ? null : Math.round(delay);
}

/**
 * Later attempts of a page whose Task attempts all failed for a retryable reason: the
 * first 30 s later, then as long again as it has been failing (so the gaps double), at
 * most 10 minutes apart, never sooner than Retry-After asks; none starts more than
 * 4 hours after the step was claimed. Our own delays go through `after` (locally the time
 * scale divides them, as it divides the levels'); a server's Retry-After does not.
 */
export const LATER_ATTEMPTS = {
  firstDelayMs: 30_000,
  maxDelayMs: 600_000,
  giveUpAfterMs: 4 * 3_600_000,
} as const;

/** When to try a delivery claimed at `claimedAt` again, or null when it is time to give up. */
export function nextAttemptAt(
  claimedAt: string,
  retryAfterMs: number | undefined,
  now: Date,
  after: After,
): string | null {
  const at = now.getTime();
  const claimed = new Date(claimedAt);
  const giveUpAt = after(claimed, LATER_ATTEMPTS.giveUpAfterMs / 1000).getTime();
  if (at >= giveUpAt) return null;
  const failingFor = at - claimed.getTime();
  const backoff = Math.min(
    Math.max(failingFor, durationThrough(after, LATER_ATTEMPTS.firstDelayMs)),
    durationThrough(after, LATER_ATTEMPTS.maxDelayMs),
  );
  const next = Math.min(at + Math.max(backoff, retryAfterMs ?? 0), giveUpAt);
  return new Date(Math.ceil(next)).toISOString();
}

/**
 * When an escalation whose step keeps failing (its Task's own retries spent: DynamoDB down
 * for longer, a Task past its timeout) tries the step again: as a failed page is tried, 30 s
 * after the first failure, then as long again as it has been failing, at most 10 minutes
 * apart, and never past `endsAt` (the policy's end, when known); null from then on.
 */
export function nextTryAfterFailure(
  failingSince: Date,
  now: Date,
  after: After,
  endsAt: Date | null,
): Date | null {
  if (endsAt && now.getTime() >= endsAt.getTime()) return null;
  const failingFor = now.getTime() - failingSince.getTime();
  const wait = Math.min(
    Math.max(failingFor, durationThrough(after, LATER_ATTEMPTS.firstDelayMs)),
    durationThrough(after, LATER_ATTEMPTS.maxDelayMs),
  );
  const at = now.getTime() + wait;
  return new Date(endsAt ? Math.min(at, endsAt.getTime()) : at);
}
