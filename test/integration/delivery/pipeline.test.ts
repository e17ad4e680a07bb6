import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clock, scaledAfter } from "../../../functions/core/clock.js";
import { deliveryEvent } from "../../../functions/core/delivery-record.js";
import {
  DEFAULT_RETRY_POLICY,
  nextAttemptAt,
  retryDelayMs,
} from "../../../functions/core/delivery-retry.js";
import type {
  DeliveryOutcome,
  Notification,
  Notifier,
} from "../../../functions/core/notification.js";
import { deliveryPipeline, notify, pipeline } from "../../../functions/delivery/pipeline.js";
import type { NotifierRegistry } from "../../../functions/delivery/registry.js";
import { retryStage } from "../../../functions/delivery/retry-stage.js";
import { PagerDutyNotifier } from "../../../functions/integrations/pagerduty/notifier.js";
import { FakePagerDuty } from "../../support/fake-pagerduty.js";
import { notification } from "../../support/notifications.js";

const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });

/** The retry stage over one notifier attempt from the registry, on the default policy. */
function sendWithRetries(
  deps: { notifiers: NotifierRegistry; clock: Clock; logger?: unknown },
  notification: Notification,
  stillWanted?: () => Promise<boolean>,
) {
  const stage = retryStage<Notification>({
    policy: DEFAULT_RETRY_POLICY,
    clock: deps.clock,
    stillWanted,
  });
  return pipeline([stage], notify(deps.notifiers, deps.clock))(notification);
}
const T0 = Date.parse("2026-11-30T09:00:00.000Z");

/** A clock that only moves when the stage sleeps: every wait is recorded, none is real. */
function testClock(random = 0.5, scale = 1) {
  let now = T0;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => new Date(now),
    after: scaledAfter(scale),
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => random,
  };
  return { clock, sleeps, elapsed: () => now - T0 };
}

/** A notifier answering the outcomes given, one per attempt (the last one again after that). */
function scripted(...outcomes: DeliveryOutcome[]): Notifier & { calls: number } {
  return {
    kind: "pagerduty",
    calls: 0,
    async send() {
      this.calls += 1;
      return outcomes[Math.min(this.calls, outcomes.length) - 1]!;
    },
  };
}

const failed500: DeliveryOutcome = { status: "failed", retryable: true, detail: "answered 500" };
const limited = (seconds: number): DeliveryOutcome => ({
  status: "failed",
  retryable: true,
  retryAfterMs: seconds * 1000,
  detail: `answered 429 (Retry-After ${seconds} s)`,
});
const accepted: DeliveryOutcome = { status: "delivered", detail: "accepted" };

describe("retryDelayMs: backoff within one Task", () => {
  it.each([
    // made, elapsed, Retry-After, random → delay
    [1, 0, undefined, 0, 500],
    [1, 0, undefined, 0.999, 1000],
    [2, 600, undefined, 0, 1000],
    [3, 2000, undefined, 0.5, 3000],
    [3, 2000, 4000, 0, 4000],
    [1, 0, 5000, 0, 5000],
  ])(
    "after %i attempts, %i ms in, Retry-After %s, jitter %s: waits %i ms",
    (made, elapsed, retryAfter, random, delay) => {
      expect(retryDelayMs(DEFAULT_RETRY_POLICY, made, elapsed, retryAfter, random)).toBe(delay);
    },
  );

  it.each([
    ["the attempts are spent", 4, 0, undefined],
    ["Retry-After is longer than a Task waits", 1, 0, 5001],
    ["the wait would end past the total", 3, 8000, 3000],
  ])("stops when %s", (_why, made, elapsed, retryAfter) => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, made, elapsed, retryAfter, 0)).toBeNull();
  });
});

describe("nextAttemptAt: later attempts in later steps", () => {
  const claimed = new Date(T0).toISOString();
  const at = (ms: number) => new Date(T0 + ms);
  it.each([
    ["30 s after a first failure", 5_000, undefined, 35_000],
    ["as long again as it has been failing", 100_000, undefined, 200_000],
    ["at most 10 minutes apart", 3_600_000, undefined, 4_200_000],
    ["never sooner than Retry-After", 5_000, 120_000, 125_000],
    ["at the give-up time at the latest", 4 * 3_600_000 - 60_000, undefined, 4 * 3_600_000],
  ])("%s", (_what, failingFor, retryAfter, next) => {
    expect(nextAttemptAt(claimed, retryAfter, at(failingFor), scaledAfter(1))).toBe(
      new Date(T0 + next).toISOString(),
    );
  });

  it("gives up 4 hours after the claim, and the time scale divides our delays, not Retry-After", () => {
    expect(nextAttemptAt(claimed, undefined, at(4 * 3_600_000), scaledAfter(1))).toBeNull();
    expect(nextAttemptAt(claimed, undefined, at(200), scaledAfter(60))).toBe(at(700).toISOString());
    expect(nextAttemptAt(claimed, 6_000, at(1_000), scaledAfter(60))).toBe(at(7_000).toISOString());
    expect(nextAttemptAt(claimed, undefined, at(240_000), scaledAfter(60))).toBeNull();
  });
});

describe("sendWithRetries: the retry stage", () => {
  const deps = (notifier: Notifier, clock: Clock) => ({
    notifiers: { pagerduty: notifier },
    logger: silent,
    clock,
  });

  it("tries again after retryable failures, with backoff, until one attempt is delivered", async () => {
    const { clock, sleeps } = testClock(0);
    const notifier = scripted(failed500, failed500, accepted);

    const result = await sendWithRetries(deps(notifier, clock), notification("pagerduty"));

    expect(result).toMatchObject({ outcome: accepted, attempts: 3 });
    expect(sleeps).toEqual([500, 1000]);
    expect(result.at.getTime()).toBe(T0 + 1500);
  });

  it("in the pipeline, divides its own backoff by the clock's time scale, never a server's Retry-After", async () => {
    const backoff = testClock(0, 60);
    const limit = testClock(0, 60);
    const through = (notifier: Notifier, clock: Clock) =>
      deliveryPipeline({ ...deps(notifier, clock), incidentId: "i-1" })(notification("pagerduty"));

    await through(scripted(failed500, failed500, accepted), backoff.clock);
    await through(scripted(limited(3), accepted), limit.clock);

    // 500 ms and 1 s divided by 60, floored to the ms; Retry-After's 3 s as asked.
    expect(backoff.sleeps).toEqual([8, 16]);
    expect(limit.sleeps).toEqual([3000]);
  });

  it("waits what Retry-After asks, when the Task can", async () => {
    const { clock, sleeps } = testClock(0);

    const result = await sendWithRetries(
      deps(scripted(limited(3), accepted), clock),
      notification("pagerduty"),
    );

    expect(result).toMatchObject({ outcome: accepted, attempts: 2 });
    expect(sleeps).toEqual([3000]);
  });

  it("leaves a longer Retry-After to a later step at once: no sleep, the failure and its wish returned", async () => {
    const { clock, sleeps } = testClock();

    const result = await sendWithRetries(
      deps(scripted(limited(30)), clock),
      notification("pagerduty"),
    );

    expect(result).toMatchObject({ outcome: limited(30), attempts: 1 });
    expect(sleeps).toEqual([]);
  });

  it("stops at the policy's attempts, and never retries a final failure", async () => {
    const spent = testClock(0);
    const always = scripted(failed500);
    const result = await sendWithRetries(deps(always, spent.clock), notification("pagerduty"));
    expect(result.attempts).toBe(4);
    expect(always.calls).toBe(4);
    expect(spent.sleeps).toEqual([500, 1000, 2000]);

    const refused = scripted({ status: "failed", detail: "answered 400" });
    const once = await sendWithRetries(deps(refused, testClock().clock), notification("pagerduty"));
    expect(once.attempts).toBe(1);
  });

  it("asks before each retry whether the page is still wanted (an acknowledgement stops it)", async () => {
    const { clock } = testClock();
    const notifier = scripted(failed500, accepted);
    let asked = 0;

    const result = await sendWithRetries(
      deps(notifier, clock),
      notification("pagerduty"),
      async () => {
        asked += 1;
        return false;
      },
    );

    expect(result).toMatchObject({ outcome: failed500, attempts: 1 });
    expect(asked).toBe(1);
    expect(notifier.calls).toBe(1);
  });

  it("answers not_delivered without a notifier for the channel's type", async () => {
    const result = await sendWithRetries(
      { notifiers: {}, logger: silent, clock: testClock().clock },
      notification("pagerduty"),
    );
    expect(result).toMatchObject({
      outcome: {
        status: "not_delivered",
        reason: "no_notifier",
        detail: "not delivered: no pagerduty notifier",
      },
      attempts: 0,
    });
  });
});

describe("deliveryEvent: typed fields on the timeline", () => {
  it("records the outcome, the attempts, the Retry-After and the next attempt at the delivery's own time", () => {
    const at = new Date(T0 + 1234);
    const next = new Date(T0 + 60_000).toISOString();

    const event = deliveryEvent(
      { notification: notification("pagerduty"), outcome: limited(30), attempts: 2, at },
      next,
    );

    expect(event).toMatchObject({
      at: at.toISOString(),
      type: "notification_failed",
      channel: "pagerduty",
      outcome: "failed",
      attempts: 2,
      retryAfter: 30,
      nextAttemptAt: next,
    });
    expect(event.detail).toBe(
      `trigger: answered 429 (Retry-After 30 s) (2 attempts); next attempt at ${next}`,
    );
  });
});

describe("the retry stage with the real PagerDuty notifier", () => {
  let fake: FakePagerDuty;
  beforeAll(async () => {
    fake = await FakePagerDuty.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it("makes one request per attempt: 500, 429 with Retry-After, then accepted", async () => {
    fake.failNext({ status: 500 });
    fake.failNext({ status: 429, retryAfter: 2 });
    const { clock, sleeps } = testClock(0);
    const notifier = new PagerDutyNotifier({
      routingKey: "0123456789abcdef0123456789abcdef",
      server: fake.server,
      ca: fake.ca,
    });

    const result = await sendWithRetries(
      { notifiers: { pagerduty: notifier }, logger: silent, clock },
      notification("pagerduty"),
    );

    expect(result.outcome.status).toBe("delivered");
    expect(result.attempts).toBe(3);
    expect(fake.requests.map((r) => r.status)).toEqual([500, 429, 202]);
    expect(sleeps).toEqual([500, 2000]);
  });
});
