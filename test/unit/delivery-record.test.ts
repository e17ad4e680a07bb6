import { describe, expect, it } from "vitest";
import { scaledAfter } from "../../functions/core/clock.js";
import { deliveryEvents, recordOwed } from "../../functions/core/delivery-record.js";
import type { DeliveryOutcome, OwedDelivery } from "../../functions/core/notification.js";
import { DMITRI, ERIN, notification } from "../support/notifications.js";

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

describe("deliveryEvents: who was reached, how, and what the provider said", () => {
  const at = new Date(T0 + 1_000);
  const attempted = (
    n: Parameters<typeof notification>[1],
    outcome: DeliveryOutcome,
    tries = 1,
  ) => ({
    notification: notification("pagerduty", n),
    outcome,
    attempts: tries,
    at,
  });

  it("a personal delivery names the person, the method, the rule and the provider's id", () => {
    const sms = attempted(
      {
        channelId: "@dmitri:sms",
        channel: { type: "sms", phone: "+14155552671" },
        contact: {
          userId: "dmitri",
          name: "Dmitri Volkov",
          method: "sms",
          address: "+14155552671",
          rule: 0,
        },
      },
      {
        status: "delivered",
        detail: "accepted by SNS for +1•••••2671 (message 7f0c); handset delivery not confirmed",
        providerId: "7f0c",
      },
    );
    expect(deliveryEvents(sms)).toEqual([
      {
        at: at.toISOString(),
        type: "notified",
        level: 1,
        channel: "@dmitri:sms",
        target: "Dmitri Volkov",
        person: "dmitri",
        method: "sms",
        rule: 0,
        detail:
          "trigger: accepted by SNS for +1•••••2671 (message 7f0c); handset delivery not confirmed",
        outcome: "delivered",
        attempts: 1,
        providerId: "7f0c",
      },
    ]);
  });

  it("a PagerDuty service is named as the service, never as the level's person", () => {
    const [event] = deliveryEvents(
      attempted(
        { recipients: [] },
        { status: "delivered", detail: "PagerDuty accepted the event" },
      ),
    );
    expect(event).toMatchObject({
      target: "PagerDuty service (pagerduty)",
      detail: "trigger: PagerDuty accepted the event",
    });
    expect(event).not.toHaveProperty("person");
    // Its mirror names nobody either.
    const [ack] = deliveryEvents(
      attempted(
        { kind: "acknowledge", recipients: [] },
        { status: "delivered", detail: "acknowledged" },
      ),
    );
    expect(ack).not.toHaveProperty("target");
  });

  it("PagerDuty user mode: one event per person assigned, each with the PagerDuty incident", () => {
    const bob = { userId: "bob", name: "Bob Chen", pagerduty: "PBOB123" };
    const events = deliveryEvents(
      attempted(
        {
          kind: "escalate",
          level: 2,
          channelId: "pd-people",
          channel: { type: "pagerduty", mode: "user", service: "PWIXJZS", from: "bot@example.com" },
          recipients: [DMITRI, bob],
        },
        {
          status: "delivered",
          detail: "PagerDuty incident Q1ABC23 assigned to Dmitri Volkov, Bob Chen",
          providerId: "Q1ABC23",
          pagerDutyIncident: "Q1ABC23",
          perPerson: [
            {
              userId: "dmitri",
              status: "delivered",
              detail: "PagerDuty incident Q1ABC23 assigned to Dmitri Volkov (PDMITRI)",
            },
            {
              userId: "bob",
              status: "failed",
              detail: "PagerDuty refused PBOB123: Assigned To User Not Found",
            },
          ],
        },
        2,
      ),
    );
    expect(
      events.map((e) => [e.type, e.person, e.target, e.method, e.outcome, e.providerId, e.detail]),
    ).toEqual([
      [
        "notified",
        "dmitri",
        "Dmitri Volkov",
        "pagerduty",
        "delivered",
        "Q1ABC23",
        "escalate: PagerDuty incident Q1ABC23 assigned to Dmitri Volkov (PDMITRI) (2 attempts)",
      ],
      [
        "notification_failed",
        "bob",
        "Bob Chen",
        "pagerduty",
        "failed",
        "Q1ABC23",
        "escalate: PagerDuty refused PBOB123: Assigned To User Not Found (2 attempts)",
      ],
    ]);
    expect(
      events.every((e) => e.level === 2 && e.channel === "pd-people" && e.attempts === 2),
    ).toBe(true);
  });

  it("recordOwed gives every event of a fanned-out delivery, and `event` is the first", () => {
    const record = recordOwed(
      owed,
      attempted(
        { recipients: [DMITRI, ERIN] },
        {
          status: "delivered",
          detail: "assigned",
          perPerson: [
            { userId: "dmitri", status: "delivered", detail: "assigned" },
            { userId: "erin", status: "delivered", detail: "assigned" },
          ],
        },
      ),
      scaledAfter(1),
    );
    expect(record.events.map((e) => e.person)).toEqual(["dmitri", "erin"]);
    expect(record.event).toBe(record.events[0]);
    expect(record.stillOwed).toBeNull();
  });
});
