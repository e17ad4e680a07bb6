import { describe, expect, it } from "vitest";
import { scaledClock, systemClock } from "../../functions/adapters/clock.js";
import { durationThrough, scaledAfter } from "../../functions/core/clock.js";
import { backoffThrough, DEFAULT_RETRY_POLICY } from "../../functions/core/delivery-retry.js";

const T0 = new Date("2026-12-02T09:00:00.000Z");
const plus = (ms: number) => new Date(T0.getTime() + ms).toISOString();

describe("after: tocsin's own durations, through the time scale", () => {
  it.each([
    // scale, seconds → ms added
    [1, 900, 900_000],
    [1, 1.001, 1001],
    [1, -900, -900_000],
    [60, 900, 15_000],
    [7, 900, 128_571],
    [7, -900, -128_572],
    [600, 1800, 3000],
  ])("at scale %i, %s s adds %i ms (floored to the ms)", (scale, seconds, ms) => {
    expect(scaledAfter(scale)(T0, seconds).toISOString()).toBe(plus(ms));
  });

  it("is exact for every whole number of ms at scale 1 (no float noise from seconds × 1000)", () => {
    const after = scaledAfter(1);
    const off: number[] = [];
    for (let ms = 0; ms < 20_000; ms += 1)
      if (after(T0, ms / 1000).getTime() - T0.getTime() !== ms) off.push(ms);
    expect(off).toEqual([]);
  });

  it("turns durations in ms through it, whatever time they start from", () => {
    expect(durationThrough(scaledAfter(1), 30_000)).toBe(30_000);
    expect(durationThrough(scaledAfter(60), 30_000)).toBe(500);
    expect(durationThrough(scaledAfter(60), 500)).toBe(8);
  });

  it("scales a retry policy's backoff only: the Task's total and its longest Retry-After stay real time", () => {
    expect(backoffThrough(DEFAULT_RETRY_POLICY, scaledAfter(1))).toEqual(DEFAULT_RETRY_POLICY);
    expect(backoffThrough(DEFAULT_RETRY_POLICY, scaledAfter(60))).toEqual({
      ...DEFAULT_RETRY_POLICY,
      minDelayMs: 8,
      maxDelayMs: 66,
    });
  });
});

describe("the clocks the adapters give", () => {
  it("scale only `after`: now is the real time", () => {
    const before = Date.now();
    const scaled = scaledClock(60);
    expect(scaled.now().getTime()).toBeGreaterThanOrEqual(before);
    expect(scaled.after(T0, 60).toISOString()).toBe(plus(1000));
    expect(systemClock.after(T0, 60).toISOString()).toBe(plus(60_000));
    const r = systemClock.random();
    expect(r >= 0 && r < 1).toBe(true);
  });
});
