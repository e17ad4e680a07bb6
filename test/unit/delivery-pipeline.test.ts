import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import type { Telemetry } from "../../functions/app/telemetry.js";
import { type Clock, scaledAfter } from "../../functions/core/clock.js";
import type { Attempted } from "../../functions/core/delivery-record.js";
import type { DeliveryOutcome, Notifier } from "../../functions/core/notification.js";
import {
  deliveryPipeline,
  pipeline,
  type Send,
  type Stage,
  sendAll,
} from "../../functions/delivery/pipeline.js";
import { notification } from "../support/notifications.js";

const T0 = Date.parse("2026-11-30T09:00:00.000Z");

/** A clock that moves only when the pipeline sleeps. */
function testClock(): Clock & { sleeps: number[] } {
  let now = T0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(now),
    after: scaledAfter(1),
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0,
  };
}

/** What the pipeline logs and counts. */
function observed() {
  const warnings: Record<string, unknown>[] = [];
  const counts: Array<[string, number, Record<string, string> | undefined]> = [];
  const logger = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });
  logger.warn = ((_message: string, fields: Record<string, unknown>) => {
    warnings.push(fields);
  }) as Logger["warn"];
  const telemetry: Telemetry = {
    count: (name, value, dimensions) => void counts.push([name, value, dimensions]),
    timing: () => undefined,
  };
  return { logger, telemetry, warnings, counts };
}

function scripted(kind: Notifier["kind"], ...outcomes: DeliveryOutcome[]) {
  let calls = 0;
  const notifier: Notifier = {
    kind,
    async send() {
      calls += 1;
      return outcomes[Math.min(calls, outcomes.length) - 1]!;
    },
  };
  return { notifier, calls: () => calls };
}

const failed500: DeliveryOutcome = { status: "failed", retryable: true, detail: "answered 500" };
const accepted: DeliveryOutcome = { status: "delivered", detail: "accepted" };

describe("pipeline: stages of one shape", () => {
  it("runs the stages in order, the first outermost, down to the send", async () => {
    const trace: string[] = [];
    const stage =
      (name: string): Stage =>
      (next) =>
      async (n) => {
        trace.push(`${name} in`);
        const attempted = await next(n);
        trace.push(`${name} out`);
        return attempted;
      };
    const send: Send = async (n) => {
      trace.push("send");
      return { notification: n, outcome: accepted, attempts: 1, at: new Date(T0) };
    };

    await pipeline([stage("a"), stage("b")], send)(notification("pagerduty"));

    expect(trace).toEqual(["a in", "b in", "send", "b out", "a out"]);
  });
});

describe("deliveryPipeline: count and log, then retry, over the registry", () => {
  it("counts a notification once, with its final outcome, however many attempts it took", async () => {
    const { logger, telemetry, counts, warnings } = observed();
    const clock = testClock();
    const pagerduty = scripted("pagerduty", failed500, failed500, accepted);
    const send = deliveryPipeline({
      notifiers: { pagerduty: pagerduty.notifier },
      logger,
      telemetry,
      clock,
      incidentId: "inc-1",
    });

    const attempted = await send(notification("pagerduty"));

    expect(attempted).toMatchObject({ outcome: accepted, attempts: 3 });
    expect(pagerduty.calls()).toBe(3);
    expect(clock.sleeps).toEqual([500, 1000]);
    expect(counts).toEqual([["notifications", 1, { channel: "pagerduty", outcome: "delivered" }]]);
    expect(warnings).toEqual([]);
  });

  it("logs a failure once, when it is final, with the attempts it took", async () => {
    const { logger, telemetry, counts, warnings } = observed();
    const pagerduty = scripted("pagerduty", failed500);
    const send = deliveryPipeline({
      notifiers: { pagerduty: pagerduty.notifier },
      logger,
      telemetry,
      clock: testClock(),
      incidentId: "inc-1",
    });

    await send(notification("pagerduty"));

    expect(pagerduty.calls()).toBe(4);
    expect(counts).toEqual([["notifications", 1, { channel: "pagerduty", outcome: "failed" }]]);
    expect(warnings).toEqual([
      {
        event: "notification_failed",
        incidentId: "inc-1",
        channel: "pagerduty",
        detail: "answered 500",
        attempts: 4,
        retryable: true,
      },
    ]);
  });

  it("answers not_delivered (no_notifier) for a channel type nobody delivers, sending nothing", async () => {
    const { logger, telemetry, counts } = observed();
    const send = deliveryPipeline({
      notifiers: {},
      logger,
      telemetry,
      clock: testClock(),
      incidentId: "inc-1",
    });

    const attempted = await send(notification("email-oncall"));

    expect(attempted).toMatchObject({
      attempts: 0,
      outcome: { status: "not_delivered", reason: "no_notifier" },
    });
    expect(counts).toEqual([["notifications", 1, { channel: "email", outcome: "not_delivered" }]]);
  });
});

describe("sendAll: one pipeline per channel, all at once", () => {
  it("does not hold one channel up while another is still trying", async () => {
    const { logger } = observed();
    let release!: (outcome: DeliveryOutcome) => void;
    const stuck: Notifier = {
      kind: "pagerduty",
      send: () => new Promise<DeliveryOutcome>((resolve) => (release = resolve)),
    };
    const slack = scripted("slack", accepted);
    const done = sendAll(
      {
        notifiers: { pagerduty: stuck, slack: slack.notifier },
        logger,
        clock: testClock(),
        incidentId: "inc-1",
      },
      [notification("pagerduty"), notification("slack-incidents")],
    );

    await expect.poll(() => slack.calls()).toBe(1);
    release(accepted);
    const attempted: Attempted[] = await done;

    expect(attempted.map((a) => [a.notification.channelId, a.outcome.status])).toEqual([
      ["pagerduty", "delivered"],
      ["slack-incidents", "delivered"],
    ]);
  });
});
