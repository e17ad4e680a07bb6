import { setTimeout as sleep } from "node:timers/promises";
import { type Clock, scaledAfter } from "../core/clock.js";

/**
 * The real clock with tocsin's own durations divided by `scale` (the local TOCSIN_TIME_SCALE):
 * `now` and `sleep` stay real, only `after` is scaled. Scale 1 is the system clock.
 */
export function scaledClock(scale: number): Clock {
  return {
    now: () => new Date(),
    after: scaledAfter(scale),
    sleep: async (ms) => {
      await sleep(ms);
    },
    random: Math.random,
  };
}

/** The clock on AWS and by default locally. */
export const systemClock: Clock = scaledClock(1);
