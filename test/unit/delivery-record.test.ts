import { describe, expect, it } from "vitest";
import { scaledAfter } from "../../functions/core/clock.js";
import { recordOwed } from "../../functions/core/delivery-record.js";
import type { DeliveryOutcome, OwedDelivery } from "../../functions/core/notification.js";
import { DMITRI, notification } from "../support/notifications.js";

const T0 = Date.parse("2026-11-30T09:00:00.000Z");
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const HOUR = 3_600_000;

const owed: OwedDelivery = {
  key: "s1d0",
  step: 1,
  channelId: "pagerduty",
  kind: "trigger",
  level: 1,
  recipients: [DMITRI],
  claimedAt: iso(0),
  attempts: 4,
};

const failed = (retryable: boolean, retryAfterMs?: number): DeliveryOutcome => ({
  status: "failed",
  retryable,
  detail: "PagerDuty answered 503",
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

describe("recordOwed: the record step of an owed delivery", () => {
  it.each([
    [
      "delivered: recorded, owed no more",
      { status: "delivered", detail: "PagerDuty accepted trigger" } as DeliveryOutcome,
      5_000,
      {
        type: "notified",
        outcome: "delivered",
        detail: "trigger: PagerDuty accepted trigger (3 attempts)",
      },
      null,
    ],
    [
      "refused for good: recorded, owed no more",
      failed(false),
      5_000,
      {
        type: "notification_failed",
        outcome: "failed",
        detail: "trigger: PagerDuty answered 503 (3 attempts)",
      },
      null,
    ],
    [
      "retryable: owed again 30 s later, every attempt counted",
      failed(true),
      5_000,
      {
        type: "notification_failed",
        outcome: "failed",
        nextAttemptAt: iso(35_000),
        detail: `trigger: PagerDuty answered 503 (3 attempts); next attempt at ${iso(35_000)}`,
      },
      { ...owed, attempts: 7, nextAttemptAt: iso(35_000) },
    ],
    [
      "retryable with a longer Retry-After: owed again when it asks",
      failed(true, 120_000),
      5_000,
      { outcome: "failed", retryAfter: 120, nextAttemptAt: iso(125_000) },
      { ...owed, attempts: 7, nextAttemptAt: iso(125_000) },
    ],
    [
      "retryable, but 4 hours after the claim: given up",
      failed(true),
      4 * HOUR,
      {
        outcome: "failed",
        detail: "trigger: PagerDuty answered 503 (3 attempts); given up: no more attempts",
      },
      null,
    ],
  ])("%s", (_what, outcome, atMs, event, stillOwed) => {
    const attempted = {
      notification: notification("pagerduty"),
      outcome,
      attempts: 3,
      at: new Date(T0 + atMs),
    };

    const record = recordOwed(owed, attempted, scaledAfter(1));

    expect(record.event).toMatchObject({
      at: iso(atMs),
      channel: "pagerduty",
      level: 1,
      attempts: 3,
      ...event,
    });
    expect(record.stillOwed).toEqual(stillOwed);
  });
});
