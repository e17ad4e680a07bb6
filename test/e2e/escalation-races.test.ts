import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import type { FakePagerDuty } from "../support/fake-pagerduty.js";
import type { FakeSlack } from "../support/fake-slack.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { pagerDutyPerLevel } from "../support/pagerduty-per-level.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";
import { slackClick } from "../support/slack-click.js";

/**
 * Races between a level falling due and an acknowledgement or a resolve, made deterministic
 * on the local engine (the synthesized definition): the fake PagerDuty holds a page until
 * the test has clicked, then lets it through. The rule (DESIGN.md): no page after an
 * acknowledgement is recorded, except one already in flight, which is followed by the
 * incident's state to the same channel, so that every channel ends in the incident's state.
 */

// 15 minutes become 1.5 s: level 2 at 1.5 s, level 3 at 3 s, level 4 at 6 s.
const SCALE = 600;
const WEBHOOK = "races-webhook-token";
const API = "races-api-token";
const SIGNING_SECRET = "races-slack-signing-secret";
const WORKSPACE = "T024BE7LD";
const DMITRI = { id: "U0DMITRI1", username: "dmitri.v" };

let fakes: LocalWithFakes;
let slack: FakeSlack;
let pagerDuty: FakePagerDuty;
let sequence = 0;

beforeAll(async () => {
  fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    timeScale: SCALE,
    slack: { signingSecret: SIGNING_SECRET, teamId: WORKSPACE },
    // A PagerDuty service per level: each level sends a trigger of its own, to hold.
    config: pagerDutyPerLevel(),
  });
  ({ slack, pagerDuty } = fakes);
}, 60_000);
afterAll(async () => {
  await fakes?.close();
});
beforeEach(() => {
  slack.reset();
  pagerDuty.reset();
});
afterEach(async () => {
  await fakes.local.escalation.close();
});

const until = (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) =>
  waitUntil(condition, what, timeoutMs, 20);
/** Once execution `name` has ended, and the Task it was running with it. */
const ended = (name: string) =>
  within(fakes.local.escalation.untilEnded(name), `execution ${name} to end`, 15_000);

const labelsFor = (job: string) => ({
  alertname: "TrainingNaNLoss",
  job,
  severity: "critical",
  team: "ml-training",
});

async function fireCritical() {
  const labels = labelsFor(`llama-race-${++sequence}`);
  const posted = await postAlert(fakes.local.url, WEBHOOK, { labels });
  expect(posted.status).toBe(202);
  return { id: posted.incident!.id, labels };
}

async function incident(id: string): Promise<IncidentWithTimeline> {
  const response = await fetch(`${fakes.local.url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

async function click(actionId: "acknowledge" | "resolve", id: string) {
  const request = slackClick({
    signingSecret: SIGNING_SECRET,
    actionId,
    value: id,
    user: DMITRI,
    teamId: WORKSPACE,
    channelId: slack.channelId("#incidents"),
    timestamp: new Date(),
  });
  const response = await fetch(`${fakes.local.url}/slack/interactions`, {
    method: "POST",
    headers: request.headers,
    body: request.body,
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ outcome: "done" });
}

const levelOf = (body: Record<string, unknown>) =>
  (body.payload as { custom_details?: { level?: number } } | undefined)?.custom_details?.level;
/** What PagerDuty processed for the incident, in the order it answered: `trigger:2`, `acknowledge`. */
const heard = (id: string) =>
  pagerDuty.processed
    .filter((event) => event.dedup_key === id)
    .map((event) =>
      event.event_action === "trigger" ? `trigger:${levelOf(event)}` : String(event.event_action),
    );
/** How many Slack deliveries tocsin has finished (its counter, as GET /metrics shows it). */
const slackDeliveries = () => {
  const counted = fakes.local.metrics
    .render()
    .split("\n")
    .find((line) =>
      line.startsWith('tocsin_notifications_total{channel="slack",outcome="delivered"}'),
    );
  return Number(counted?.split(" ").at(-1) ?? 0);
};
const page = (id: string, level: number) => (body: Record<string, unknown>) =>
  body.dedup_key === id && body.event_action === "trigger" && levelOf(body) === level;

/** The buttons the incident's #incidents message shows now, as Slack keeps it. */
function buttonsNow(): string[] {
  const message = [...slack.messages.values()].find(
    (m) => m.channel === slack.channelId("#incidents") && !m.thread_ts,
  );
  return (
    (message?.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id: string }> }>
  )
    .filter((block) => block.type === "actions")
    .flatMap((block) => block.elements ?? [])
    .map((element) => element.action_id)
    .filter((action) => ["acknowledge", "resolve", "snooze"].includes(action));
}

describe("a level falling due races an acknowledgement or a resolve (local engine, held requests)", () => {
  it("acknowledged while level 2's page is in flight: PagerDuty hears the acknowledge after that page", async () => {
    const { id } = await fireCritical();
    await until(() => heard(id).includes("trigger:1"), "level 1 paged");
    const held = pagerDuty.holdNext(page(id, 2));
    await held.arrived;

    // The level was claimed first; the acknowledgement is recorded while its page is held.
    await click("acknowledge", id);
    await until(() => heard(id).includes("acknowledge"), "the mirrored acknowledge");
    held.release();

    await until(
      () =>
        heard(id).includes("trigger:2") &&
        heard(id).lastIndexOf("acknowledge") > heard(id).indexOf("trigger:2"),
      "the acknowledge that follows the page",
    );
    // The mirror told both services that heard (level 1's, and level 2's page in flight),
    // and the page, released, was followed by the acknowledge.
    expect(heard(id)).toEqual([
      "trigger:1",
      "acknowledge",
      "acknowledge",
      "trigger:2",
      "acknowledge",
    ]);
    expect(pagerDuty.alertState(id)).toBe("acknowledged");
    await until(() => buttonsNow().join() === "resolve", "the Slack message acknowledged");
    const final = await incident(id);
    expect(final).toMatchObject({ status: "acknowledged", level: 2 });
    expect(final.owedDeliveries).toBeUndefined();
    // No page after the one in flight: the escalation has ended, its Task in flight too, and
    // so has the mirror (a step still running would have ended it at level 3's time).
    await ended(id);
    await ended(`${id}-acknowledge`);
    expect(heard(id).filter((e) => e.startsWith("trigger"))).toEqual(["trigger:1", "trigger:2"]);
  }, 30_000);

  it("resolved as level 3 falls due: the page in flight is followed by a resolve, PagerDuty ends resolved", async () => {
    const { id, labels } = await fireCritical();
    const held = pagerDuty.holdNext(page(id, 3));
    await held.arrived;

    const resolved = await postAlert(fakes.local.url, WEBHOOK, { labels, status: "resolved" });
    expect(resolved.status).toBe(202);
    // Every service that heard (levels 1 and 2, and 3's page in flight) is told.
    await until(
      () => heard(id).filter((e) => e === "resolve").length === 3,
      "the mirrored resolves",
    );
    // Held until after the resolve: at PagerDuty this trigger opens a new alert.
    held.release();

    await until(
      () => heard(id).at(-1) === "resolve" && heard(id).includes("trigger:3"),
      "the resolve that follows the page",
    );
    expect(heard(id).slice(-3)).toEqual(["resolve", "trigger:3", "resolve"]);
    expect(pagerDuty.alertState(id)).toBe("resolved");
    await until(() => buttonsNow().length === 0, "the Slack message resolved");
    expect((await incident(id)).status).toBe("resolved");
  }, 30_000);

  it("acknowledged and resolved at once: the mirrors end on resolved, whatever order they ran in", async () => {
    const { id } = await fireCritical();
    await until(() => heard(id).includes("trigger:1"), "level 1 paged");
    const ackHeld = pagerDuty.holdNext(
      (b) => b.dedup_key === id && b.event_action === "acknowledge",
    );

    await click("acknowledge", id);
    await ackHeld.arrived;
    await click("resolve", id);
    await until(() => heard(id).includes("resolve"), "the resolve mirrored");
    // The acknowledge mirror's request reaches PagerDuty last.
    ackHeld.release();

    await until(() => heard(id).length === 4, "the mirrors settled");
    expect(heard(id)).toEqual(["trigger:1", "resolve", "acknowledge", "resolve"]);
    expect(pagerDuty.alertState(id)).toBe("resolved");
    await until(() => buttonsNow().length === 0, "the Slack message resolved");
  }, 30_000);
});

describe("deliveries tried again in later steps, each recorded at its own time", () => {
  it("a 429 asking for longer than a Task waits is tried again when Retry-After ends", async () => {
    pagerDuty.failNext({ status: 429, retryAfter: 6 });
    const { id } = await fireCritical();

    await until(() => heard(id).includes("trigger:1"), "level 1 paged after Retry-After", 20_000);
    const firstPage = pagerDuty.requests.filter(
      (r) => levelOf(r.body as Record<string, unknown>) === 1,
    );
    expect(firstPage.map((r) => r.status)).toEqual([429, 202]);
    expect(firstPage[1]!.at - firstPage[0]!.at).toBeGreaterThanOrEqual(6_000);
    await until(
      async () =>
        (await incident(id)).timeline.some(
          (e) => e.type === "notified" && e.level === 1 && e.channel === "pagerduty-level-1",
        ),
      "the page recorded",
    );
    const level1 = (await incident(id)).timeline.filter(
      (e) => e.level === 1 && e.channel === "pagerduty-level-1",
    );
    expect(level1).toMatchObject([
      { type: "notification_failed", outcome: "failed", attempts: 1, retryAfter: 6 },
      { type: "notified", outcome: "delivered", attempts: 1 },
    ]);
    // Every attempt is on the timeline, and the next one was announced.
    expect(level1.reduce((sum, e) => sum + (e.attempts ?? 0), 0)).toBe(firstPage.length);
    expect(Date.parse(level1[0]!.nextAttemptAt!) - Date.parse(level1[0]!.at)).toBe(6_000);
    // Meanwhile the later levels went out on time.
    expect(heard(id).indexOf("trigger:3")).toBeLessThan(heard(id).indexOf("trigger:1"));
    expect(heard(id).indexOf("trigger:2")).toBe(0);
  }, 40_000);

  it("stamps each delivery when it ended, not when the slowest channel of its step did", async () => {
    const slackBefore = slackDeliveries();
    const { id } = await fireCritical();
    const held = pagerDuty.holdNext(page(id, 1));
    await held.arrived;
    // PagerDuty answers only once tocsin has finished the Slack delivery, and a millisecond
    // later at the least, so that the two cannot share a time.
    await until(() => slackDeliveries() > slackBefore, "the Slack delivery ended");
    const slackEndedBy = Date.now();
    await until(() => Date.now() > slackEndedBy, "the next millisecond");
    held.release();

    await until(
      async () =>
        (await incident(id)).timeline.some(
          (e) => e.type === "notified" && e.channel === "pagerduty-level-1",
        ),
      "level 1 recorded",
    );
    const timeline = (await incident(id)).timeline;
    const at = (channel: string) =>
      Date.parse(timeline.find((e) => e.type === "notified" && e.channel === channel)!.at);
    expect(at("slack-incidents")).toBeLessThanOrEqual(slackEndedBy);
    expect(at("pagerduty-level-1")).toBeGreaterThan(slackEndedBy);
  }, 30_000);
});
