import { afterAll, beforeAll, expect, it } from "vitest";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import {
  type LocalWithFakes,
  PHONE_ORIGINATION,
  startLocalWithFakes,
} from "../support/local-with-fakes.js";
import { peopleConfig } from "../support/people-config.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";

/*
 * Paging people by phone, end to end on the local server, SNS and End User Messaging faked on
 * 127.0.0.1 (their wire protocols, SigV4 checked): the level-1 person's phone gets a text at
 * once and a call at their rule's delay, the level-2 person's phone a text when level 2
 * fires; the link in the text, opened, changes nothing, and posted, acknowledges as that
 * person: the escalation ends, nothing is owed, no phone rings again. Email to a person
 * (SES, faked) carries the links too.
 */

// 2 minutes become 0.2 s, 15 minutes 1.5 s.
const SCALE = 600;
const WEBHOOK = "e2e-webhook-token";
const API = "e2e-api-token";
/** A bound for failing on a loaded machine, never a wait. */
const PATIENCE_MS = 20_000;
const DMITRI_PHONE = "+447911123456";
const ERIN_PHONE = "+447911654321";

let fakes: LocalWithFakes;

beforeAll(async () => {
  // The shipped config, ml-training's rotations pinned to one person each, with phones and rules.
  const people = peopleConfig({
    primary: "dmitri",
    secondary: "erin",
    users: {
      dmitri: {
        phone: DMITRI_PHONE,
        rules: [
          { after: 0, notify: ["sms", "email"] },
          { after: 120, notify: ["voice"] },
        ],
      },
      erin: { phone: ERIN_PHONE, rules: [{ after: 0, notify: ["sms"] }] },
    },
  });
  fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    timeScale: SCALE,
    config: people,
  });
}, 60_000);

afterAll(async () => {
  await fakes?.close();
});

async function incident(
  id: string,
): Promise<IncidentWithTimeline & { owedDeliveries?: unknown[] }> {
  const response = await fetch(`${fakes.local.url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

it("texts and calls the level-1 person, texts the level-2 person; the text's link acknowledges as that person and stops everything", async () => {
  const { aws, local } = fakes;
  const posted = await postAlert(local.url, WEBHOOK, {
    labels: {
      alertname: "TrainingNaNLoss",
      job: "phones",
      severity: "critical",
      team: "ml-training",
    },
    summary: "loss is NaN on run 42",
  });
  expect(posted.status).toBe(202);
  const id = posted.incident!.id;

  // Level 1: Dmitri's text at once, then his call at his rule's 2 minutes.
  const text = await within(
    aws.waitFor("sns", (s) => s.to === DMITRI_PHONE),
    "Dmitri's text",
    PATIENCE_MS,
  );
  expect(text).toMatchObject({
    status: 200,
    attributes: {
      "AWS.SNS.SMS.SMSType": "Transactional",
      "AWS.MM.SMS.OriginationNumber": PHONE_ORIGINATION,
    },
  });
  expect(text.message).toMatch(
    /^tocsin CRIT loss is NaN on run 42 \(ml-training\) Ack: http:\/\/127\.0\.0\.1:\d+\/a\/\S+$/,
  );
  const call = await within(
    aws.waitFor("voice", (c) => c.to === DMITRI_PHONE),
    "Dmitri's call",
    PATIENCE_MS,
  );
  expect(call).toMatchObject({ status: 200, from: PHONE_ORIGINATION, bodyType: "SSML" });
  expect(call.body).toContain("Critical incident for team ml-training: loss is NaN on run 42.");
  expect(aws.sms.indexOf(text)).toBe(0);

  // Level 2 (15 minutes): Erin's text.
  await within(
    aws.waitFor("sns", (s) => s.to === ERIN_PHONE),
    "Erin's text",
    PATIENCE_MS,
  );
  expect(aws.calls.filter((c) => c.to === ERIN_PHONE)).toEqual([]);

  // The timeline names each person, method and SNS message id, the phone masked.
  const stored = await incident(id);
  const texted = stored.timeline.find(
    (e) => e.type === "notified" && e.person === "dmitri" && e.method === "sms",
  );
  expect(texted).toMatchObject({ level: 1, outcome: "delivered", providerId: text.messageId });
  expect(texted!.detail).toContain("+44••••••3456");
  expect(JSON.stringify(stored.timeline)).not.toContain(DMITRI_PHONE);
  // The call is his second rule's, sent no sooner than its 2 minutes (scaled) after level 1
  // fired (the incident opened before that), and after the text.
  const called = stored.timeline.find(
    (e) => e.type === "notified" && e.person === "dmitri" && e.method === "voice",
  );
  expect(called).toMatchObject({
    level: 1,
    rule: 1,
    outcome: "delivered",
    providerId: call.messageId,
  });
  expect(Date.parse(called!.at) - Date.parse(stored.createdAt)).toBeGreaterThanOrEqual(
    120_000 / SCALE,
  );
  expect(Date.parse(called!.at)).toBeGreaterThan(Date.parse(texted!.at));

  // Dmitri's email (SES, faked) comes from the verified sender and carries his links too.
  const email = await within(
    aws.waitFor("email", (e) => e.to.includes("dmitri@example.com")),
    "Dmitri's email",
    PATIENCE_MS,
  );
  expect(email.status).toBe(200);
  expect(email.text).toMatch(
    /Acknowledge: http:\/\/127\.0\.0\.1:\d+\/a\/\S+\nResolve: +http:\/\/127\.0\.0\.1:\d+\/a\/\S+/,
  );
  const link = text.message.slice(text.message.indexOf("Ack: ") + 5);

  // Opening the link (a phone's preview, a mail scanner) shows a page and changes nothing.
  const before = await incident(id);
  const page = await fetch(link, { headers: { accept: "text/html" } });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<form method="post"');
  expect((await incident(id)).timeline).toEqual(before.timeline);

  // Posting it acknowledges, as Dmitri, from the link.
  const acted = await fetch(link, { method: "POST" });
  expect(acted.status).toBe(200);
  await within(local.escalation.untilEnded(id), "the escalation to end", PATIENCE_MS);
  await local.escalation.idle();
  const acknowledged = await incident(id);
  expect(acknowledged).toMatchObject({
    status: "acknowledged",
    acknowledgedBy: "Dmitri Volkov (dmitri)",
  });
  expect(acknowledged.timeline.find((e) => e.type === "acknowledged")).toMatchObject({
    via: "link",
  });
  expect(acknowledged.owedDeliveries ?? []).toEqual([]);

  // Nobody's phone rings again: the texts and calls so far are all there are, once every
  // execution (the mirror included) has ended, and a second post is refused.
  const texts = aws.sms.length;
  const calls = aws.calls.length;
  expect((await fetch(link, { method: "POST" })).status).toBe(401);
  await waitUntil(
    () => !local.escalation.isRunning(`${id}-acknowledge`),
    "the mirror to end",
    PATIENCE_MS,
    25,
  );
  expect([aws.sms.length, aws.calls.length]).toEqual([texts, calls]);
});
