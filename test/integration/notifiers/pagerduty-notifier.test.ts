import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Severity } from "../../../functions/core/alert.js";
import {
  PagerDutyNotifier,
  type PagerDutyNotifierOptions,
} from "../../../functions/integrations/pagerduty/notifier.js";
import { FakePagerDuty } from "../../support/fake-pagerduty.js";
import { freePort } from "../../support/free-port.js";
import { frozenTimers } from "../../support/frozen-timers.js";
import {
  DMITRI,
  ERIN,
  incident,
  notification,
  runbookDetails,
} from "../../support/notifications.js";

const KEY = "0123456789abcdef0123456789abcdef";

let fake: FakePagerDuty;
beforeAll(async () => {
  fake = await FakePagerDuty.start();
});
afterEach(() => fake.reset());
afterAll(async () => {
  await fake.close();
});

function notifier(options: PagerDutyNotifierOptions = {}): PagerDutyNotifier {
  return new PagerDutyNotifier({
    routingKey: KEY,
    server: fake.server,
    ca: fake.ca,
    ...options,
  });
}

describe("PagerDutyNotifier: the events", () => {
  it("triggers with the incident id as dedup key, the runbook and the links", async () => {
    const outcome = await notifier({
      incidentUrl: (i) => `https://tocsin.example/incidents/${i.id}`,
    }).send(notification("pagerduty", { recipients: [DMITRI, ERIN] }));

    expect(outcome).toEqual({
      status: "delivered",
      detail:
        "PagerDuty accepted trigger (dedup key inc-20261130-0001); PagerDuty's escalation policy chooses who is paged",
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.headers["content-type"]).toMatch(/^application\/json/);
    const runbook = runbookDetails();
    expect(fake.events[0]).toEqual({
      routing_key: KEY,
      event_action: "trigger",
      dedup_key: "inc-20261130-0001",
      payload: {
        summary: "GPU 3 memory above 95% on trainer-7",
        source: "trainer-7:9400",
        severity: "critical",
        timestamp: "2026-11-30T09:00:00.000Z",
        component: "llm-pretrain",
        group: "ml-training",
        class: "GPUMemoryPressure",
        custom_details: {
          incident_id: "inc-20261130-0001",
          team: "ml-training",
          severity: "critical",
          level: 1,
          paged: ["Dmitri Volkov", "Erin Walsh"],
          labels: incident().labels,
          description: "Memory used 97.4% for 10m",
          started_at: "2026-11-30T09:00:00.000Z",
          occurrences: 1,
          runbook: {
            name: "GPU Memory Pressure",
            url: runbook.url,
            summary: runbook.summary,
            first_steps: runbook.diagnosis.slice(0, 3),
          },
        },
      },
      links: [
        { href: runbook.url, text: "Runbook: GPU Memory Pressure" },
        { href: incident().generatorUrl, text: "Alert source" },
        { href: incident().dashboardUrl, text: "Dashboard" },
        { href: incident().silenceUrl, text: "Silence" },
      ],
      client: "tocsin",
      client_url: "https://tocsin.example/incidents/inc-20261130-0001",
    });
    const steps = (
      fake.events[0]!.payload as { custom_details: { runbook: { first_steps: string[] } } }
    ).custom_details.runbook.first_steps;
    expect(steps[0]).toMatch(/^See whether usage is steady or growing/);
  });

  it.each([
    ["critical", "critical"],
    ["high", "error"],
    ["warning", "warning"],
    ["info", "info"],
  ] as const)("maps severity %s to PagerDuty's %s", async (severity: Severity, expected) => {
    await notifier().send(notification("pagerduty", { incident: incident({ severity }) }));
    expect((fake.events[0]!.payload as { severity: string }).severity).toBe(expected);
  });

  it("falls back to the job, then to tocsin, as the source, and cuts the summary to 1024 characters", async () => {
    const bare = incident({
      labels: { alertname: "Quiet", job: "exporter" },
      title: "x".repeat(2000),
      runbook: null,
      generatorUrl: null,
      dashboardUrl: null,
      silenceUrl: null,
    });
    await notifier().send(notification("pagerduty", { incident: bare, runbook: null }));
    await notifier().send(
      notification("pagerduty", { incident: { ...bare, labels: {} }, runbook: null }),
    );

    const [first, second] = fake.events as Array<{ payload: { source: string; summary: string } }>;
    expect(first!.payload.source).toBe("exporter");
    expect(second!.payload.source).toBe("tocsin");
    expect(first!.payload.summary).toHaveLength(1024);
    expect(first!.payload.summary.endsWith("…")).toBe(true);
    expect(fake.events[0]!.links).toEqual([]);
  });

  it("escalates with another trigger for the same dedup key, naming the new level", async () => {
    const outcome = await notifier().send(
      notification("pagerduty", { kind: "escalate", level: 2, recipients: [ERIN] }),
    );

    expect(outcome.status).toBe("delivered");
    const event = fake.events[0] as {
      event_action: string;
      dedup_key: string;
      payload: { custom_details: { level: number; paged: string[] } };
    };
    expect(event.event_action).toBe("trigger");
    expect(event.dedup_key).toBe("inc-20261130-0001");
    expect(event.payload.custom_details.level).toBe(2);
    expect(event.payload.custom_details.paged).toEqual(["Erin Walsh"]);
  });

  it.each(["acknowledge", "resolve"] as const)("sends %s with the same dedup key", async (kind) => {
    const outcome = await notifier().send(notification("pagerduty", { kind, actor: "U0DMITRI1" }));

    expect(outcome).toEqual({
      status: "delivered",
      detail: `PagerDuty accepted ${kind} (dedup key inc-20261130-0001)`,
    });
    expect(fake.events).toEqual([
      { routing_key: KEY, event_action: kind, dedup_key: "inc-20261130-0001" },
    ]);
  });
});

describe("PagerDutyNotifier: routing keys", () => {
  it("sends nothing and says so without a key", async () => {
    for (const routingKey of [undefined, "", "   ", () => undefined]) {
      const outcome = await notifier({ routingKey }).send(notification("pagerduty"));
      expect(outcome).toEqual({
        status: "not_delivered",
        reason: "no_credentials",
        detail: "not delivered: no credentials",
      });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("asks the resolver for the key of the channel and team", async () => {
    const asked: unknown[] = [];
    const teamKey = "ffffffffffffffffffffffffffffffff";
    const send = notifier({
      routingKey: (target) => {
        asked.push(target);
        return target.team === "ml-training" ? teamKey : undefined;
      },
    });

    const delivered = await send.send(notification("pagerduty"));
    const skipped = await send.send(
      notification("pagerduty", { incident: incident({ team: "platform" }) }),
    );

    expect(delivered.status).toBe("delivered");
    expect(skipped.status).toBe("not_delivered");
    expect(fake.events.map((e) => e.routing_key)).toEqual([teamKey]);
    expect(asked[0]).toEqual({
      channelId: "pagerduty",
      channel: { type: "pagerduty" },
      team: "ml-training",
    });
  });
});

describe("PagerDutyNotifier: failures, one request each", () => {
  it("answers a 500 as retryable, without trying again itself", async () => {
    fake.failNext({ status: 500, times: 2 });

    const outcome = await notifier().send(notification("pagerduty"));

    expect(outcome).toEqual({
      status: "failed",
      retryable: true,
      detail: "PagerDuty answered 500",
    });
    expect(fake.requests.map((r) => r.status)).toEqual([500]);
  });

  it("answers a 429 as retryable with its Retry-After, one request: pdjs's own 429 retry is cut off", async () => {
    fake.failNext({ status: 429, retryAfter: 30 });

    // With the clock stopped, the answer still comes: nothing waits on a timer, neither the
    // Retry-After nor pdjs's own sleep before its retry (either hangs the test).
    const outcome = await frozenTimers(() => notifier().send(notification("pagerduty")));

    expect(outcome).toEqual({
      status: "failed",
      retryable: true,
      retryAfterMs: 30_000,
      detail: "PagerDuty answered 429 (rate limited, Retry-After 30 s)",
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("answers a 400 as final, with PagerDuty's reason and without the key", async () => {
    const badKey = "not-a-routing-key";

    const outcome = await notifier({ routingKey: badKey }).send(notification("pagerduty"));

    expect(outcome).toEqual({
      status: "failed",
      detail: "PagerDuty answered 400: Event object is invalid (Invalid routing key)",
    });
    expect(fake.requests).toHaveLength(1);
    expect(JSON.stringify(outcome)).not.toContain(badKey);
  });

  it("answers a dropped connection and an unreachable server as retryable", async () => {
    fake.failNext({ drop: true });
    const dropped = await notifier().send(notification("pagerduty"));
    const port = await freePort();
    const refused = await notifier({ server: `127.0.0.1:${port}` }).send(notification("pagerduty"));

    expect(dropped).toMatchObject({ status: "failed", retryable: true });
    expect(dropped.detail).toMatch(/^PagerDuty unreachable: /);
    expect(refused).toMatchObject({ status: "failed", retryable: true });
    expect(refused.detail).toMatch(/^PagerDuty unreachable: .*ECONNREFUSED/);
    expect(refused.detail).not.toContain(KEY);
    expect(fake.requests.map((r) => r.status)).toEqual([0]);
  });

  it("keeps verifying certificates: the fake is refused unless its CA is given", async () => {
    const outcome = await notifier({ ca: undefined }).send(notification("pagerduty"));

    expect(outcome.status).toBe("failed");
    expect(outcome.detail).toMatch(/self-signed certificate/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("PagerDutyNotifier: configuration mistakes", () => {
  it("does not retry what retrying cannot cure, such as a malformed server", async () => {
    const outcome = await notifier({ server: "127.0.0.1:99999" }).send(notification("pagerduty"));

    expect(outcome).toEqual({
      status: "failed",
      detail: "PagerDuty event not sent: TypeError: Invalid URL",
    });
  });
});
