import { performance } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import type { LocalServer } from "../../functions/local/server.js";
import type { FakePagerDuty } from "../support/fake-pagerduty.js";
import { type FakeSlack, RESPONSE_URL, type SlackCall } from "../support/fake-slack.js";
import {
  type LocalWithFakes,
  ROUTING_KEY,
  startLocalWithFakes,
} from "../support/local-with-fakes.js";
import { pagerDutyPerLevel } from "../support/pagerduty-per-level.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";
import { slackClick } from "../support/slack-click.js";

// 15 minutes become 1.5 s; a 30-minute snooze becomes 3 s.
const SCALE = 600;
const LEVEL_GAP_MS = (15 * 60 * 1000) / SCALE;
const SNOOZE_MS = (30 * 60 * 1000) / SCALE;
const WEBHOOK = "e2e-webhook-token";
const API = "e2e-api-token";
const SIGNING_SECRET = "e2e-slack-signing-secret";
const WORKSPACE = "T024BE7LD"; // the fixture's team: clicks come from there unless a test says otherwise
const DMITRI = { id: "U0DMITRI1", username: "dmitri.v" }; // tocsin.yaml: dmitri, ml-training
const ERIN = { id: "U0ERIN001", username: "erin" }; // tocsin.yaml: erin, ml-training
/** How long an event may take on a loaded machine: a bound for failing, never a wait. */
const PATIENCE_MS = 15_000;

const until = (condition: () => boolean | Promise<boolean>, what: string, timeoutMs: number) =>
  waitUntil(condition, what, timeoutMs, 25);

let slack: FakeSlack;
let pagerDuty: FakePagerDuty;
let local: LocalServer;
let fakes: LocalWithFakes;
let sequence = 0;

beforeAll(async () => {
  fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    timeScale: SCALE,
    slack: { signingSecret: SIGNING_SECRET, teamId: WORKSPACE },
    // A PagerDuty service per level: each level's page is a request to see, hold and count.
    config: pagerDutyPerLevel(),
  });
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

/** Fires a critical ml-training alert; answers its incident id. */
async function fireCritical() {
  const posted = await postAlert(local.url, WEBHOOK, {
    labels: {
      alertname: "TrainingNaNLoss",
      job: `llama-buttons-${++sequence}`,
      severity: "critical",
      team: "ml-training",
    },
    summary: "loss is NaN",
  });
  expect(posted.status).toBe(202);
  return { id: posted.incident!.id };
}

/** Once execution `name` has ended, and the Task it was running with it. */
const ended = (name: string) =>
  within(local.escalation.untilEnded(name), `execution ${name} to end`, PATIENCE_MS);

async function incident(id: string): Promise<IncidentWithTimeline> {
  const response = await fetch(`${local.url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

/** Clicks a button of the incident's message as Slack would: signed, form-encoded, now. */
async function clickButton(options: {
  actionId: string;
  value: string;
  user: { id: string; username: string };
  teamId?: string;
}) {
  const request = slackClick({
    signingSecret: SIGNING_SECRET,
    actionId: options.actionId,
    value: options.value,
    user: options.user,
    teamId: options.teamId ?? WORKSPACE,
    channelId: slack.channelId("#incidents"),
    timestamp: new Date(),
    responseUrl: slack.responseUrl({
      user: options.user.id,
      channel: slack.channelId("#incidents"),
    }),
  });
  const started = performance.now();
  const response = await fetch(`${local.url}/slack/interactions`, {
    method: "POST",
    headers: request.headers,
    body: request.body,
  });
  const body = (await response.json()) as { ok: boolean; outcome: string; message?: string };
  return { status: response.status, body, at: started };
}

/**
 * Holds Slack's answers (every call) and PagerDuty's answer to the next event for `incident`
 * until `release`; `answeredSince` lists what either answered since the hold began.
 */
function holdAnswers(incident: string) {
  const slackFrom = slack.calls.length;
  const pagerDutyFrom = pagerDuty.requests.length;
  let releaseSlack: () => void = () => undefined;
  slack.failNext("*", {
    until: new Promise<void>((resolve) => (releaseSlack = resolve)),
    times: Infinity,
  });
  const held = pagerDuty.holdNext((body) => body.dedup_key === incident);
  return {
    pagerDuty: held,
    answeredSince: () => ({
      slack: slack.calls.slice(slackFrom).filter((call) => call.status !== 0),
      pagerDuty: pagerDuty.requests.slice(pagerDutyFrom).filter((r) => r.status !== 0),
    }),
    releaseSlack,
    release: () => {
      releaseSlack();
      held.release();
    },
    /**
     * Once released, every Slack call made since the hold began has been answered to a client
     * still waiting for it (one that gave up meanwhile, its timeout spent, would leave a 0).
     */
    slackAnswered: () =>
      until(
        () => slack.calls.slice(slackFrom).every((call) => call.status !== 0),
        "Slack's held answers received",
        PATIENCE_MS,
      ),
    /** The Slack calls since the hold began that repeat an earlier one (a retry: none). */
    slackRepeats: () => {
      const seen = new Set<string>();
      return slack.calls.slice(slackFrom).filter((call) => {
        const key = JSON.stringify([call.method, call.args]);
        return seen.has(key) || !seen.add(key);
      });
    },
  };
}

/** The Escalate Tasks the incident's executions entered, in order. */
const tasksOf = (id: string) =>
  local.escalation.statesEntered().filter((e) => e.incidentId === id && e.state === "Escalate");

const eventsFor = (id: string) => pagerDuty.events.filter((event) => event.dedup_key === id);
const actionsOf = (id: string) => eventsFor(id).map((event) => event.event_action);
const pagesOf = (id: string) =>
  pagerDuty.requests.filter(
    (r) =>
      r.status === 202 &&
      (r.body as Record<string, unknown>).dedup_key === id &&
      (r.body as Record<string, unknown>).event_action === "trigger",
  );

/** The action_ids of the buttons an update of the message leaves. */
const buttonsIn = (call: SlackCall) =>
  ((call.args.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id: string }> }>)
    .filter((block) => block.type === "actions")
    .flatMap((block) => block.elements ?? [])
    .map((element) => element.action_id);

/** The incident's message in #incidents, once posted. */
async function postedMessage() {
  await until(
    () => slack.callsTo("chat.postMessage").some((c) => c.args.channel === "#incidents"),
    "the #incidents post",
    5_000,
  );
  const [ts] = [...slack.messages.values()]
    .filter((m) => m.channel === slack.channelId("#incidents") && !m.thread_ts)
    .map((m) => m.ts);
  return { channel: slack.channelId("#incidents"), ts: ts! };
}

const updatesOf = (message: { channel: string; ts: string }) =>
  slack
    .callsTo("chat.update")
    .filter((c) => c.args.channel === message.channel && c.args.ts === message.ts);
/** Every private note sent to `user`, whichever way (response_url posts or chat.postEphemeral). */
const notesTo = (user: string) => [
  ...slack.callsTo(RESPONSE_URL).filter((c) => c.interaction?.user === user),
  ...slack.callsTo("chat.postEphemeral").filter((c) => c.args.user === user),
];

describe("Slack buttons on the local server, with fake Slack and PagerDuty", () => {
  it("Acknowledge stops the escalation and is mirrored; a second click changes nothing; Resolve closes it", async () => {
    // Prepare: a critical alert pages level 1 at once and posts to #incidents.
    const { id } = await fireCritical();
    await until(() => pagesOf(id).length === 1, "the level-1 page", 5_000);
    const message = await postedMessage();
    // Level 1 recorded (its people's DM and email too): the acknowledge comes after, so the
    // mirror alone tells PagerDuty. One still in flight would be followed by the state from
    // its own Task as well (a second, harmless acknowledge), by design.
    await until(
      async () => (await incident(id)).owedDeliveries === undefined,
      "level 1's deliveries recorded",
      PATIENCE_MS,
    );

    // Act: Dmitri (primary rotation) acknowledges, while Slack and PagerDuty hold every answer.
    const held = holdAnswers(id);
    const ack = await within(
      clickButton({ actionId: "acknowledge", value: id, user: DMITRI }),
      "the click answered while Slack and PagerDuty hold their answers",
      PATIENCE_MS,
    );

    // Assess: answered once the change was stored, while nothing Slack or PagerDuty was asked
    // had been answered yet: the click waited for neither (Slack allows 3 s, PagerDuty may be slow).
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ ok: true, outcome: "done" });
    expect(held.answeredSince()).toEqual({ slack: [], pagerDuty: [] });
    expect((await incident(id)).status).toBe("acknowledged");
    held.release();
    // The mirror was still waiting on PagerDuty when it was released (not given up): answered now.
    const acknowledge = await within(held.pagerDuty.arrived, "PagerDuty acknowledge", PATIENCE_MS);
    await until(
      () => acknowledge.status === 202,
      "PagerDuty's answer to the acknowledge",
      PATIENCE_MS,
    );
    expect(actionsOf(id)).toContain("acknowledge");
    await held.slackAnswered();
    expect(held.slackRepeats()).toEqual([]);
    await until(() => updatesOf(message).length >= 1, "the message updated", 1_500);
    expect(updatesOf(message).map(buttonsIn)).toEqual([["resolve"]]);
    expect(eventsFor(id).find((e) => e.event_action === "acknowledge")).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "acknowledge",
      dedup_key: id,
    });
    const acknowledged = await incident(id);
    expect(acknowledged).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: "Dmitri Volkov (dmitri)",
      level: 1,
    });
    expect(acknowledged.timeline.filter((e) => e.type === "acknowledged")).toEqual([
      expect.objectContaining({ actor: "Dmitri Volkov (dmitri)" }),
    ]);
    await until(() => slack.notesTo(DMITRI.id).length === 1, "the private note", 1_500);
    expect(slack.notesTo(DMITRI.id).map((note) => note.text)).toEqual([ack.body.message]);

    // Assess: no level-2 page. The escalation has ended (a step still running would have
    // ended it at level 2's time, 15 min scaled), and so has the mirror: nothing is left
    // that could page.
    await ended(id);
    await ended(`${id}-acknowledge`);
    expect(pagesOf(id)).toHaveLength(1);
    const quiet = await incident(id);
    expect(quiet.level).toBe(1);
    expect(quiet.timeline.filter((e) => e.type === "escalated")).toEqual([]);

    // Act: Erin acknowledges too, late.
    const before = await incident(id);
    const eventsBefore = eventsFor(id).length;
    const updatesBefore = updatesOf(message).length;
    const second = await clickButton({ actionId: "acknowledge", value: id, user: ERIN });

    // Assess: a polite ephemeral naming who acknowledged; nothing else moves.
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ ok: false, outcome: "conflict" });
    expect(second.body.message).toMatch(/already acknowledged by Dmitri Volkov \(dmitri\) at/);
    await until(() => slack.notesTo(ERIN.id).length === 1, "the private note", 1_500);
    expect(slack.notesTo(ERIN.id)).toEqual([
      { response_type: "ephemeral", replace_original: false, text: second.body.message },
    ]);
    // The note is the last thing the click does, and any execution it started has ended.
    await within(local.escalation.idle(), "the engine idle", PATIENCE_MS);
    expect(await incident(id)).toEqual(before);
    expect(eventsFor(id)).toHaveLength(eventsBefore);
    expect(updatesOf(message)).toHaveLength(updatesBefore);

    // Act: Dmitri resolves.
    const resolve = await clickButton({ actionId: "resolve", value: id, user: DMITRI });

    // Assess: PagerDuty resolved, the message left without buttons.
    expect(resolve.status).toBe(200);
    expect(resolve.body).toMatchObject({ ok: true, outcome: "done" });
    await until(() => actionsOf(id).includes("resolve"), "PagerDuty resolve", 1_500);
    await until(() => updatesOf(message).length === updatesBefore + 1, "the last update", 1_500);
    expect(buttonsIn(updatesOf(message).at(-1)!)).toEqual([]);
    expect(actionsOf(id)).toEqual(["trigger", "acknowledge", "resolve"]);
    expect(await incident(id)).toMatchObject({
      status: "resolved",
      acknowledgedBy: "Dmitri Volkov (dmitri)",
      resolvedBy: "Dmitri Volkov (dmitri)",
    });
  }, 20_000);

  it("Snooze 30 min pages nobody during the snooze, then re-pages the level reached and escalates on", async () => {
    // Prepare: level 1 paged at once.
    const { id } = await fireCritical();
    await until(() => pagesOf(id).length === 1, "the level-1 page", 5_000);

    // Act: Dmitri snoozes while Slack and PagerDuty hold every answer (PagerDuty's hold
    // catches the next page: the re-page).
    const held = holdAnswers(id);
    const snooze = await within(
      clickButton({ actionId: "snooze", value: id, user: DMITRI }),
      "the click answered while Slack and PagerDuty hold their answers",
      PATIENCE_MS,
    );

    // Assess: answered once the snooze was stored, waiting for neither Slack nor PagerDuty.
    expect(snooze.status).toBe(200);
    expect(snooze.body).toMatchObject({ ok: true, outcome: "done" });
    expect(held.answeredSince()).toEqual({ slack: [], pagerDuty: [] });
    const snoozed = await incident(id);
    expect(snoozed.timeline.filter((e) => e.type === "snoozed")).toEqual([
      expect.objectContaining({ actor: "Dmitri Volkov (dmitri)" }),
    ]);
    held.releaseSlack();
    await held.slackAnswered();
    expect(held.slackRepeats()).toEqual([]);

    // Assess: no page for the 3 s (30 min scaled) of the snooze, though level 2 was due at 1.5 s.
    // The escalation resumes in a new execution, whose first Task begins when the snooze ends.
    const resumed = await within(
      local.escalation.untilEntered(
        (e) => e.execution === `${id}-snooze-1` && e.state === "Escalate",
      ),
      "the resumed escalation's first Task",
      PATIENCE_MS,
    );
    // Entered no sooner than it was due, and due no sooner than the snooze ends; nobody
    // was paged until then.
    const dueAt = Date.parse((resumed.input as { dueAt: string }).dueAt);
    expect(dueAt).toBeGreaterThanOrEqual(Date.parse(snoozed.snoozedUntil!));
    expect(resumed.at).toBeGreaterThanOrEqual(dueAt);
    expect(pagesOf(id)).toHaveLength(1);

    // Assess: at the snooze's end, level 1 (the level reached) is paged again, by the resumed
    // execution's first Task: it is the last Task entered while PagerDuty holds the page, so
    // no later level's Task came before it.
    const repage = await within(held.pagerDuty.arrived, "level 1 paged again", PATIENCE_MS);
    expect(repage.body).toMatchObject({ dedup_key: id, event_action: "trigger" });
    expect(repage.at - snooze.at).toBeGreaterThanOrEqual(SNOOZE_MS - 50);
    expect(tasksOf(id).at(-1)).toBe(resumed);
    // The next page (level 2) is held in turn, to see which Task sends it.
    const level2Held = pagerDuty.holdNext((body) => body.dedup_key === id);
    held.release();
    await until(() => pagesOf(id).length === 2, "PagerDuty's answer to the re-page", PATIENCE_MS);
    expect(pagesOf(id)[1]).toBe(repage);
    const repaged = await incident(id);
    expect(repaged.level).toBe(1);
    expect(repaged.snoozedUntil).toBeNull();

    // …then level 2 one gap later, paged by the resumed execution's next Task: entered no
    // sooner than it was due, itself a gap after the re-page's Task was entered.
    const level2 = await within(level2Held.arrived, "level 2 paged", PATIENCE_MS);
    const next = tasksOf(id).at(-1)!;
    expect(tasksOf(id).slice(tasksOf(id).indexOf(resumed))).toEqual([resumed, next]);
    expect(next.execution).toBe(`${id}-snooze-1`);
    const nextDueAt = Date.parse((next.input as { dueAt: string }).dueAt);
    expect(nextDueAt - resumed.at).toBeGreaterThanOrEqual(LEVEL_GAP_MS);
    expect(next.at).toBeGreaterThanOrEqual(nextDueAt);
    expect(level2.at - repage.at).toBeGreaterThanOrEqual(LEVEL_GAP_MS - 50);
    level2Held.release();
    await until(() => pagesOf(id).length === 3, "PagerDuty's answer to level 2", PATIENCE_MS);
    const escalated = await incident(id);
    expect(escalated.level).toBe(2);
    expect(escalated.timeline.filter((e) => e.type === "escalated").map((e) => e.level)).toEqual([
      2,
    ]);
  }, 20_000);

  it("refuses a click from another workspace with an ephemeral note, and changes nothing", async () => {
    // Prepare
    const { id } = await fireCritical();
    await until(() => pagesOf(id).length === 1, "the level-1 page", 5_000);
    const message = await postedMessage();
    const before = await incident(id);

    // Act
    const click = await clickButton({
      actionId: "acknowledge",
      value: id,
      user: DMITRI,
      teamId: "T0OTHER01",
    });

    // Assess: refused, told so, the incident untouched and still escalating.
    expect(click.status).toBe(200);
    expect(click.body).toEqual({ ok: false, outcome: "refused" });
    await until(() => slack.notesTo(DMITRI.id).length === 1, "the refusal", 1_500);
    expect(String(slack.notesTo(DMITRI.id)[0]!.text)).toMatch(/another Slack workspace/);
    const after = await incident(id);
    expect(after.status).toBe("triggered");
    expect(after.timeline.slice(0, before.timeline.length)).toEqual(before.timeline);
    expect(after.timeline.map((e) => e.type)).not.toContain("acknowledged");
    expect(actionsOf(id)).not.toContain("acknowledge");
    expect(updatesOf(message)).toEqual([]);
    await until(() => pagesOf(id).length === 2, "level 2, the escalation untouched", 3_000);
  }, 20_000);

  it("answers a click without waiting for Slack, and the private note arrives once", async () => {
    // Prepare: Slack (and PagerDuty) hold every answer until the click has been answered.
    const { id } = await fireCritical();
    await until(() => pagesOf(id).length === 1, "the level-1 page", 5_000);
    const held = holdAnswers(id);

    // Act
    const ack = await within(
      clickButton({ actionId: "acknowledge", value: id, user: DMITRI }),
      "the click answered while Slack holds its answers",
      PATIENCE_MS,
    );
    const notesWhenAnswered = notesTo(DMITRI.id).map((c) => c.status);
    held.release();
    // Answered to a note still waiting on Slack, not one that gave up: the click did not wait.
    await held.slackAnswered();

    // Assess: answered before Slack answered anything; the note, once Slack answers, is one.
    expect(ack.body).toMatchObject({ ok: true, outcome: "done" });
    expect(notesWhenAnswered.every((status) => status === 0)).toBe(true);
    await until(() => notesTo(DMITRI.id).some((c) => c.status === 200), "the note", 5_000);
    expect(notesTo(DMITRI.id).map((c) => [c.method, c.status])).toEqual([[RESPONSE_URL, 200]]);
    expect(slack.notesTo(DMITRI.id)).toEqual([
      { response_type: "ephemeral", replace_original: false, text: ack.body.message },
    ]);
  }, 20_000);
});
