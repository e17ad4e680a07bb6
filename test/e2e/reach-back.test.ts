import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadServiceFiles } from "../../functions/adapters/config-file.js";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";
import { slackClick } from "../support/slack-click.js";

// One minute becomes 1 s: level 2 at 15 s, the rules' voice call at 10 s; each path acts
// within the first seconds, while every one of them is still pending.
const SCALE = 60;
const WEBHOOK = "e2e-webhook-token";
const API = "e2e-api-token";
const SIGNING_SECRET = "e2e-slack-signing-secret";
const WORKSPACE = "T024BE7LD";
/** A bound for failing on a loaded machine, never a wait. */
const PATIENCE_MS = 15_000;
const PHONES: Record<string, string> = { dmitri: "+14155552671", erin: "+14155552672" };
const SLACK_IDS: Record<string, string> = { dmitri: "U0DMITRI1", erin: "U0ERIN001" };

let fakes: LocalWithFakes;
let sequence = 0;
/** Where this test's texts, emails and calls start in the fake's records (it is not reset). */
let seen = { sms: 0, emails: 0, calls: 0 };

beforeAll(async () => {
  // The shipped config: critical alerts told to two Slack channels, and the ml-training
  // people with phones and rules (Slack DM, SMS and email at once, a voice call at 10 m).
  const { config } = loadServiceFiles("tocsin.yaml");
  const people = structuredClone(config);
  people.severities.critical!.channels = ["slack-incidents", "slack-alerts"];
  for (const [userId, phone] of Object.entries(PHONES)) {
    people.users[userId] = {
      ...people.users[userId]!,
      phone,
      rules: [
        { after: 0, notify: ["slack", "sms", "email"] },
        { after: 600, notify: ["voice"] },
      ],
    };
  }
  fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    timeScale: SCALE,
    slack: { signingSecret: SIGNING_SECRET, teamId: WORKSPACE },
    config: people,
  });
}, 60_000);

afterAll(async () => {
  await fakes?.close();
});

beforeEach(() => {
  fakes.slack.reset();
  fakes.pagerDuty.reset();
  const { aws } = fakes;
  seen = { sms: aws.sms.length, emails: aws.emails.length, calls: aws.calls.length };
});

/** This test's texts, emails and calls. */
const mine = () => ({
  sms: fakes.aws.sms.slice(seen.sms),
  emails: fakes.aws.emails.slice(seen.emails),
  calls: fakes.aws.calls.slice(seen.calls),
});

afterEach(async () => {
  await fakes.local.escalation.close();
});

async function incident(id: string): Promise<IncidentWithTimeline> {
  const response = await fetch(`${fakes.local.url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

/**
 * A critical ml-training incident whose level 1 has reached its person by Slack DM, SMS and
 * email (and the two channels and PagerDuty): answers the incident and who was paged.
 */
async function paged() {
  const { local, slack } = fakes;
  const posted = await postAlert(local.url, WEBHOOK, {
    labels: {
      alertname: "TrainingNaNLoss",
      job: `reach-back-${++sequence}`,
      severity: "critical",
      team: "ml-training",
    },
    summary: "loss is NaN",
  });
  expect(posted.status).toBe(202);
  const id = posted.incident!.id;
  const person = await waitUntilValue(async () => {
    const stored = await incident(id);
    const methods = new Set(
      stored.timeline.filter((e) => e.type === "notified" && e.person).map((e) => e.method),
    );
    const who = stored.timeline.find((e) => e.type === "notified" && e.person)?.person;
    const channels = Object.keys(stored.slackMessages);
    return methods.has("slack") &&
      methods.has("sms") &&
      methods.has("email") &&
      channels.length >= 3
      ? who
      : undefined;
  }, "level 1's person paged by Slack DM, SMS and email, both channels posted");
  const phone = PHONES[person]!;
  const sms = mine().sms.filter((m) => m.to === phone && m.status === 200);
  const emails = mine().emails.filter(
    (m) => m.to.includes(`${person}@example.com`) && m.status === 200,
  );
  expect(sms).toHaveLength(1);
  expect(emails).toHaveLength(1);
  expect(slack.dmsTo(SLACK_IDS[person]!)).toHaveLength(1);
  return { id, person, sms: sms[0]!, email: emails[0]! };
}

async function waitUntilValue<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  let value: T | undefined;
  await waitUntil(
    async () => {
      value = await probe();
      return value !== undefined;
    },
    what,
    PATIENCE_MS,
    25,
  );
  return value!;
}

/** The acknowledge link in a text: the first /a/ URL of this server. */
function ackLink(text: string): string {
  const links = [...text.matchAll(/http:\/\/127\.0\.0\.1:\d+\/a\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g)];
  expect(links.length, text).toBeGreaterThan(0);
  return links[0]![0];
}

/**
 * Once the acknowledgement acted: the escalation's execution ended and its mirror too, nothing
 * is owed, PagerDuty is acknowledged, every Slack message (both channels, the DM) shows it
 * with no Acknowledge button, and nobody is paged again (no voice call, no second DM or SMS,
 * even past the voice rule's time and level 2's).
 */
async function everythingStopped(id: string, person: string, via: string) {
  const { local, slack, pagerDuty } = fakes;
  await within(local.escalation.untilEnded(id), "the escalation to end", PATIENCE_MS);
  await within(local.escalation.untilEnded(`${id}-acknowledge`), "the mirror to end", PATIENCE_MS);
  const stored = await incident(id);
  expect(stored.status).toBe("acknowledged");
  expect(stored.acknowledgedBy).toMatch(new RegExp(`\\(${person}\\)|${SLACK_IDS[person]}`));
  expect(stored.timeline.find((e) => e.type === "acknowledged")).toMatchObject({ via });
  expect(stored.owedDeliveries).toBeUndefined();
  expect(stored.owedState).toBeUndefined();
  expect(pagerDuty.alertState(id)).toBe("acknowledged");
  const refs = Object.entries(stored.slackMessages);
  expect(refs.map(([key]) => key).sort()).toEqual([
    `@${person}`,
    "slack-alerts",
    "slack-incidents",
  ]);
  for (const [key, ref] of refs) {
    const message = slack.messages.get(`${ref.channel}/${ref.ts}`)!;
    expect(JSON.stringify(message.blocks), key).toContain("acknowledged");
    expect(JSON.stringify(message.blocks), key).not.toContain('"action_id":"acknowledge"');
  }
  // The Task that would have sent the voice call (10 m) and level 2 (15 m) is gone with the
  // execution: the person got one DM and one text, no call.
  expect(mine().calls.filter((c) => c.to === PHONES[person])).toEqual([]);
  expect(slack.dmsTo(SLACK_IDS[person]!)).toHaveLength(1);
  expect(mine().sms.filter((m) => m.to === PHONES[person])).toHaveLength(1);
}

describe("acknowledged from wherever the page reached the person", () => {
  it("a click on the DM's button stops every pending page, acknowledges PagerDuty and updates every Slack message", async () => {
    const { id, person } = await paged();
    const user = SLACK_IDS[person]!;
    const dm = fakes.slack.dmChannel(user)!;
    const click = slackClick({
      signingSecret: SIGNING_SECRET,
      actionId: "acknowledge",
      value: id,
      user: { id: user, username: person },
      teamId: WORKSPACE,
      channelId: dm,
      timestamp: new Date(),
      responseUrl: fakes.slack.responseUrl({ user, channel: dm }),
    });
    const answered = await fetch(`${fakes.local.url}/slack/interactions`, {
      method: "POST",
      headers: click.headers,
      body: click.body,
    });
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ ok: true, outcome: "done" });
    await everythingStopped(id, person, "slack");
  });

  it("the email's link: its GET changes nothing, its POST stops everything", async () => {
    const { id, person, email } = await paged();
    const link = ackLink(email.text);
    const page = await fetch(link, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Acknowledge as");
    const afterGet = await incident(id);
    expect(afterGet).toMatchObject({ status: "triggered", acknowledgedAt: null });
    expect(afterGet.timeline.some((e) => e.type === "acknowledged")).toBe(false);
    const acted = await fetch(link, { method: "POST", headers: { accept: "application/json" } });
    expect(acted.status).toBe(200);
    await everythingStopped(id, person, "link");
    // The same link again: acted once.
    const again = await fetch(link, { method: "POST" });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: "replayed" });
  });

  it("the SMS's link POST stops everything", async () => {
    const { id, person, sms } = await paged();
    const acted = await fetch(ackLink(sms.message), { method: "POST" });
    expect(acted.status).toBe(200);
    expect(await acted.json()).toMatchObject({
      ok: true,
      outcome: "done",
      incident: { status: "acknowledged" },
    });
    await everythingStopped(id, person, "link");
  });
});
