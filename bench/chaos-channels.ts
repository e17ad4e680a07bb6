import { setTimeout as sleep } from "node:timers/promises";
import type { FakePagerDuty, PagerDutyFailure } from "../test/support/fake-pagerduty.js";
import type { FakeSlack, SlackFailure } from "../test/support/fake-slack.js";
import type { PageRecord } from "./chaos-tally.js";

/** The misbehaviours Slack and PagerDuty take turns at: throttling, 5xx, hangs. */
export const CHANNEL_FAULTS: Array<
  { channel: "pagerduty"; failure: PagerDutyFailure } | { channel: "slack"; failure: SlackFailure }
> = [
  { channel: "pagerduty", failure: { status: 429, retryAfter: 1 } },
  { channel: "pagerduty", failure: { status: 500 } },
  { channel: "pagerduty", failure: { status: 503 } },
  { channel: "pagerduty", failure: { hang: true } },
  { channel: "slack", failure: { status: 429, retryAfter: 1 } },
  { channel: "slack", failure: { status: 500 } },
  { channel: "slack", failure: { hang: true } },
];

/**
 * Every `everyMs` until `until()`, tells Slack's or PagerDuty's fake to misbehave for its
 * next request, one of `CHANNEL_FAULTS` at random. A fake is given a new fault only once
 * it has received a request since the last one, so faults never queue up while the server
 * is down.
 * Returns how many of each it injected.
 */
export async function misbehaveChannels(options: {
  slack: FakeSlack;
  pagerDuty: FakePagerDuty;
  random: () => number;
  everyMs: number;
  until: () => boolean;
}): Promise<Record<string, number>> {
  const injected: Record<string, number> = {};
  /** How many requests the fake had received when it was last given a fault. */
  const seen: Record<"pagerduty" | "slack", number | null> = { pagerduty: null, slack: null };
  const received = {
    pagerduty: () => options.pagerDuty.requests.length,
    slack: () => options.slack.calls.length,
  };
  while (!options.until()) {
    const fault = CHANNEL_FAULTS[Math.floor(options.random() * CHANNEL_FAULTS.length)]!;
    const last = seen[fault.channel];
    if (last === null || received[fault.channel]() > last) {
      if (fault.channel === "pagerduty") options.pagerDuty.failNext(fault.failure);
      else options.slack.failNext("*", fault.failure);
      seen[fault.channel] = received[fault.channel]();
      const name = `${fault.channel} ${JSON.stringify(fault.failure)}`;
      injected[name] = (injected[name] ?? 0) + 1;
    }
    await sleep(options.everyMs);
  }
  return injected;
}

/** What PagerDuty's fake received, dated on the wall clock (it stamps performance.now()). */
export function pagesReceived(pagerDuty: FakePagerDuty): PageRecord[] {
  const wall = Date.now() - (performance.timeOrigin + performance.now());
  return pagerDuty.requests.map((request) => {
    const body = (request.body ?? {}) as {
      dedup_key?: string;
      event_action?: string;
      payload?: { custom_details?: { level?: number } };
    };
    return {
      at: performance.timeOrigin + request.at + wall,
      status: request.status,
      dedupKey: body.dedup_key,
      action: body.event_action,
      level: body.payload?.custom_details?.level,
    };
  });
}
