import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import type { LocalServer } from "../../functions/local/server.js";
import type { FakePagerDuty } from "../support/fake-pagerduty.js";
import type { FakeSlack } from "../support/fake-slack.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";

const until = (condition: () => boolean | Promise<boolean>, what: string, timeoutMs: number) =>
  waitUntil(condition, what, timeoutMs, 50);

// 15 minutes become 1.5 s: the whole default escalation plays in about 6 s.
const SCALE = 600;
const LEVEL_GAP_MS = (15 * 60 * 1000) / SCALE;
const WEBHOOK = "e2e-webhook-token";
const API = "e2e-api-token";
/** How long an event may take on a loaded machine: a bound for failing, never a wait. */
const PATIENCE_MS = 15_000;

let slack: FakeSlack;
let pagerDuty: FakePagerDuty;
let local: LocalServer;
let fakes: LocalWithFakes;
let sequence = 0;

beforeAll(async () => {
  fakes = await startLocalWithFakes({ webhookToken: WEBHOOK, apiToken: API, timeScale: SCALE });
  ({ local, slack, pagerDuty } = fakes);
}, 60_000);

afterAll(async () => {
  await fakes?.close();
});

beforeEach(() => {
  slack.reset();
  pagerDuty.reset();
});

// Each test's escalations end with it, so none pages into the next test.
afterEach(async () => {
  await local.escalation.close();
});

async function fire(
  labels: Record<string, string>,
  status: "firing" | "resolved" = "firing",
  startsAt?: string,
) {
  const posted = await postAlert(local.url, WEBHOOK, {
    labels,
    status,
    ...(startsAt ? { startsAt } : {}),
  });
  expect(posted.status).toBe(202);
  return posted.incident!.id;
}

async function incident(id: string): Promise<IncidentWithTimeline> {
  const response = await fetch(`${local.url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

const labels = (severity: string, extra: Record<string, string> = {}) => ({
  alertname: "TrainingNaNLoss",
  job: `llama-${++sequence}`,
  severity,
  team: "ml-training",
  ...extra,
});

/** Once execution `name` has ended, and the Task it was running with it. */
const ended = (name: string) =>
  within(local.escalation.untilEnded(name), `execution ${name} to end`, PATIENCE_MS);

const eventsFor = (id: string) => pagerDuty.events.filter((event) => event.dedup_key === id);
/** The deliveries an incident's timeline records, as `level:channel:outcome`. */
const notified = (i: IncidentWithTimeline) =>
  i.timeline
    .filter((e) => e.type === "notified")
    .map((e) => `${e.level}:${e.channel}:${e.outcome}`);

describe("escalation on the local engine, with fake Slack and PagerDuty", () => {
  it("critical: pages at once, escalates through levels 1-4 on time, and stops at resolve", async () => {
    const alertLabels = labels("critical");
    const started = performance.now();
    const id = await fire(alertLabels);

    // At once: PagerDuty trigger for the primary, the Slack post with buttons mentioning them.
    await until(
      () => eventsFor(id).length >= 1 && slack.callsTo("chat.postMessage").length >= 1,
      "the first page and post",
      5_000,
    );
    const trigger = eventsFor(id)[0] as {
      event_action: string;
      payload: { severity: string; custom_details: Record<string, unknown> };
    };
    expect(trigger.event_action).toBe("trigger");
    expect(trigger.payload.severity).toBe("critical");
    const post = slack.callsTo("chat.postMessage")[0]!;
    expect(post.args.channel).toBe("#incidents");
    const actions = (
      post.args.blocks as Array<{
        type: string;
        elements?: Array<{ action_id: string; value: string }>;
      }>
    ).find((b) => b.type === "actions")!;
    // The contract's three buttons, each carrying the incident id (plus the longer snoozes).
    expect(actions.elements!.filter((e) => e.value).map((e) => [e.action_id, e.value])).toEqual([
      ["acknowledge", id],
      ["resolve", id],
      ["snooze", id],
    ]);
    expect(JSON.stringify(post.args.blocks)).toMatch(/<@U0[A-Z0-9]+>/);

    // Levels 2, 3 and 4 at 15, 30 and 60 (scaled) minutes, each a reply in the incident's
    // thread. The PagerDuty service heard the incident once: its own escalation policy pages
    // people from there, so later levels send it nothing (a repeat trigger would be folded
    // into its alert and page nobody new).
    // Level 4 claimed, and its deliveries recorded (they are written just after the claim).
    await until(
      async () => notified(await incident(id)).includes("4:slack-incidents:delivered"),
      "level 4 notified",
      15_000,
    );
    expect(eventsFor(id).map((e) => e.event_action)).toEqual(["trigger"]);
    const replies = slack.callsTo("chat.postMessage").filter((c) => c.args.thread_ts);
    expect(replies).toHaveLength(3);
    const arrival = [
      pagerDuty.requests.find((r) => r.body === trigger)!.at,
      ...replies.map((c) => c.at),
    ].map((at) => at - started);
    const expected = [0, 1, 2, 4].map((gaps) => gaps * LEVEL_GAP_MS);
    // Each level at or after its due time and, however loaded the machine, before the next
    // level falls due (the order of the policy, not the machine's speed, is what is checked).
    arrival.forEach((at, i) => {
      expect(at).toBeGreaterThanOrEqual(expected[i]! - 50);
      expect(at).toBeLessThan(expected[i + 1] ?? expected[i]! + LEVEL_GAP_MS);
    });

    const escalated = await incident(id);
    expect(escalated.timeline.filter((e) => e.type === "escalated").map((e) => e.level)).toEqual([
      2, 3, 4,
    ]);
    expect(escalated.timeline.some((e) => e.type === "exhausted")).toBe(true);
    expect(notified(escalated)).toEqual(
      expect.arrayContaining([
        "0:slack-incidents:delivered",
        "0:email-oncall:delivered",
        "1:pagerduty:delivered",
        "2:slack-incidents:delivered",
        "4:slack-incidents:delivered",
      ]),
    );
    expect(notified(escalated)).not.toContain("2:pagerduty:delivered");
    // The timeline names the service, never a person paged through it.
    expect(escalated.timeline.find((e) => e.channel === "pagerduty")).toMatchObject({
      target: "PagerDuty service (pagerduty)",
      detail: expect.stringContaining("PagerDuty's escalation policy chooses who is paged"),
    });
    expect(escalated.timeline.find((e) => e.channel === "pagerduty")).not.toHaveProperty("person");

    // Resolve: PagerDuty resolve with the same key, the Slack message updated.
    await fire(alertLabels, "resolved");
    await until(
      () => eventsFor(id).some((e) => e.event_action === "resolve"),
      "PagerDuty resolve",
      5_000,
    );
    await until(
      () =>
        slack
          .callsTo("chat.update")
          .some((c) => !JSON.stringify(c.args.blocks ?? "").includes('"action_id":"acknowledge"')),
      "Slack update",
      5_000,
    );
    expect((await incident(id)).status).toBe("resolved");
  }, 30_000);

  it("high: never pages when resolved within its 15-minute delay", async () => {
    const alertLabels = labels("high");
    const id = await fire(alertLabels);
    await until(() => slack.callsTo("chat.postMessage").length >= 1, "the #alerts post", 5_000);
    expect(slack.callsTo("chat.postMessage")[0]!.args.channel).toBe("#alerts");
    await fire(alertLabels, "resolved");
    // The escalation (a step still running would have ended it at the delay's end) and the
    // resolve's mirror have ended: nothing is left that could page.
    await ended(id);
    await ended(`${id}-resolve`);
    expect(eventsFor(id)).toEqual([]);
    const resolved = await incident(id);
    expect(resolved.status).toBe("resolved");
    expect(resolved.level).toBe(0);
  }, 20_000);

  it("high: pages the primary after the delay when nobody resolved it", async () => {
    const id = await fire(labels("high"));
    await until(() => eventsFor(id).length === 1, "the delayed page", 5_000);
    expect(eventsFor(id)[0]).toMatchObject({
      event_action: "trigger",
      payload: { severity: "error" },
    });
    expect((await incident(id)).level).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it("warning: only a Slack post in #alerts; info: nothing at all", async () => {
    const warning = await fire(labels("warning"));
    const info = await fire(labels("info"));
    await until(() => slack.callsTo("chat.postMessage").length >= 1, "the warning post", 5_000);
    // The warning's escalation, its one step told, has ended; the info alert started none
    // (an incident's execution starts before its webhook is answered).
    expect(await ended(warning)).toMatchObject({ status: "succeeded" });
    expect(local.escalation.hasStarted(info)).toBe(false);
    expect(slack.callsTo("chat.postMessage").map((c) => c.args.channel)).toEqual(["#alerts"]);
    expect(eventsFor(warning)).toEqual([]);
    expect(eventsFor(info)).toEqual([]);
    expect((await incident(info)).timeline.map((e) => e.type)).toEqual(["triggered"]);
  }, 20_000);

  it("honours Slack's Retry-After on a 429", async () => {
    slack.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    await fire(labels("warning"));
    await until(
      () => slack.callsTo("chat.postMessage").filter((c) => c.status === 200).length === 1,
      "the retried post",
      8_000,
    );
    const [limited, posted] = slack.callsTo("chat.postMessage");
    expect(limited!.status).toBe(429);
    expect(posted!.at - limited!.at).toBeGreaterThanOrEqual(990);
  }, 20_000);

  it("retries PagerDuty's 500s, then records the failure, while Slack still goes out", async () => {
    pagerDuty.failNext({ status: 500, times: Number.POSITIVE_INFINITY });
    const id = await fire(labels("critical"));
    await until(
      async () =>
        (await incident(id)).timeline.some(
          (e) => e.type === "notification_failed" && e.channel === "pagerduty",
        ),
      "the recorded failure",
      15_000,
    );
    expect(pagerDuty.requests.filter((r) => r.status === 500).length).toBeGreaterThan(1);
    expect(slack.callsTo("chat.postMessage").some((c) => c.args.channel === "#incidents")).toBe(
      true,
    );
    const failed = (await incident(id)).timeline.find((e) => e.type === "notification_failed")!;
    expect(failed.detail).toMatch(/500/);
  }, 30_000);
});
