/**
 * Remembers signed requests for as long as their signature is valid, so that a request sent
 * twice (a double delivery, or someone replaying a captured one within Slack's five-minute
 * window) is acted on once, however many instances of the function receive it.
 *
 * Errors: StoreUnavailableError is retryable (nothing was remembered, the request may be
 * retried); nothing else is expected.
 */
export interface ReplayGuard {
  /**
   * True for the first call with `key` until `until` (ISO-8601) has passed, false for every
   * other; concurrent calls with one key get one true between them. `now` (ISO-8601) says
   * whether an earlier record has expired.
   */
  firstSeen(key: string, window: { now: string; until: string }): Promise<boolean>;
  /**
   * Whether a call of firstSeen with `key` was true in a window not over at `now`: a request
   * that acted before, read without remembering anything.
   */
  seen(key: string, now: string): Promise<boolean>;
}
