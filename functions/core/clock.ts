/**
 * Time as the core sees it: `now` is a parameter, and every duration of tocsin's own
 * (escalation levels, snoozes, later attempts, the retry stage's backoff) is added to a time
 * through `after`, never by hand. On AWS and by default `after` adds the duration as it is;
 * locally TOCSIN_TIME_SCALE divides it (60 turns minutes into seconds). A vendor's
 * Retry-After is the vendor's time, so it never goes through `after`.
 */
export type After = (from: Date, seconds: number) => Date;

/** The clock an adapter gives the code that runs the core (adapters/clock.ts). */
export interface Clock {
  now: () => Date;
  after: After;
  sleep: (ms: number) => Promise<void>;
  /** In [0, 1): the backoff's jitter. */
  random: () => number;
}

/**
 * `after` at time scale `scale`: the duration divided by it and floored to the ms (what an
 * ISO time keeps), so at scale 1 a whole number of seconds or ms is added exactly.
 */
export function scaledAfter(scale: number): After {
  return (from, seconds) => {
    // In whole µs first: seconds × 1000 carries float noise (1.001 s is 1000.9999… ms).
    const ms = Math.round(seconds * 1e6) / 1e3;
    return new Date(from.getTime() + Math.floor(ms / scale));
  };
}

/** A duration in ms through `after` (it does not depend on the time it starts from). */
export function durationThrough(after: After, ms: number): number {
  return after(EPOCH, ms / 1000).getTime();
}

const EPOCH = new Date(0);
