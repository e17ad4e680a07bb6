import { afterAll, beforeAll, expect, it } from "vitest";
import type { IncidentWithTimeline, TimelineEvent } from "../../functions/core/incident.js";
import { type LocalWithFakes, startLocalWithFakes } from "../support/local-with-fakes.js";
import { peopleConfig } from "../support/people-config.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";

/*
 * People's notification rules, end to end on the local server (×600: 2 minutes are 0.2 s,
 * 15 minutes 1.5 s), Slack, SNS and End User Messaging faked on 127.0.0.1: the level-1
 * person's Slack DM and SMS go at once and their call at their rule's 2 minutes; level 2's
 * person gets the default rules' methods at 15 minutes; the manager, with no contact data,
 * is recorded unreachable at level 3 and listed in the report. Every delivery event names the
 * person, the method and the rule, and the history page shows them level by level.
 */

const SCALE = 600;
const RULE_DELAY_MS = (2 * 60 * 1000) / SCALE;
const LEVEL_GAP_MS = (15 * 60 * 1000) / SCALE;
const WEBHOOK = "rules-webhook-token";
const API = "rules-api-token";
/** A bound for failing on a loaded machine, never a wait. */
const PATIENCE_MS = 20_000;
const DMITRI_PHONE = "+12025550143";
const ERIN_PHONE = "+12025550187";

let fakes: LocalWithFakes;

beforeAll(async () => {
  // The shipped config, ml-training's rotations pinned to one person each.
  const people = peopleConfig({
    primary: "dmitri",
    secondary: "erin",
    users: {
      dmitri: {
        phone: DMITRI_PHONE,
        rules: [
          { after: 0, notify: ["slack", "sms"] },
          { after: 120, notify: ["voice"] },
        ],
      },
      // Erin sets no rules: the shipped notificationRules (Slack, SMS, email at once; voice at 2 and 5 min).
      erin: { phone: ERIN_PHONE },
      // The manager, level 3, with no way to reach her.
      grace: { email: undefined, slack: undefined },
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

async function read(path: string): Promise<Response> {
  return fetch(`${fakes.local.url}${path}`, { headers: { authorization: `Bearer ${API}` } });
}
const incident = async (id: string) =>
  (await (await read(`/incidents/${id}`)).json()) as IncidentWithTimeline;
const personal = (events: readonly TimelineEvent[], person: string) =>
  events.filter(
    (e) => e.person === person && (e.type === "notified" || e.type === "notification_failed"),
  );

it("reaches each level's person by their own methods at their rules' times; a person with none is unreachable", async () => {
  const { aws, slack, local } = fakes;
  const posted = await postAlert(local.url, WEBHOOK, {
    labels: {
      alertname: "TrainingNaNLoss",
      job: "rules",
      severity: "critical",
      team: "ml-training",
    },
    summary: "loss is NaN on run 7",
  });
  expect(posted.status).toBe(202);
  const id = posted.incident!.id;

  // Level 1: Dmitri's Slack DM and text at once, his call at 2 minutes.
  await within(
    aws.waitFor("voice", (c) => c.to === DMITRI_PHONE),
    "Dmitri's call",
    PATIENCE_MS,
  );
  expect(aws.sms.filter((s) => s.to === DMITRI_PHONE)).toHaveLength(1);
  expect(slack.callsTo("conversations.open").map((c) => c.args.users)).toContain("U0DMITRI1");
  // Level 3 recorded: Grace could not be reached.
  await waitUntil(
    async () => (await incident(id)).timeline.some((e) => e.type === "unreachable"),
    "level 3's unreachable manager",
    PATIENCE_MS,
  );
  const stored = await incident(id);
  const opened = Date.parse(stored.createdAt);

  const dmitri = personal(stored.timeline, "dmitri");
  // Slack and SMS go out together (in either order), the call after them.
  expect(
    dmitri.map((e) => [e.level, e.channel, e.method, e.rule, e.outcome].join(" ")).sort(),
  ).toEqual([
    "1 @dmitri:slack slack 0 delivered",
    "1 @dmitri:sms sms 0 delivered",
    "1 @dmitri:voice voice 1 delivered",
  ]);
  for (const e of dmitri) expect(e.target).toBe("Dmitri Volkov");
  // The provider's ids: the SNS message, the call, the DM's ts.
  expect(dmitri.every((e) => typeof e.providerId === "string" && e.providerId.length > 0)).toBe(
    true,
  );
  const at = (e: TimelineEvent) => Date.parse(e.at);
  const sms = dmitri.find((e) => e.method === "sms")!;
  const voice = dmitri.find((e) => e.method === "voice")!;
  // The call went at its rule's time after the level fired, not with the text.
  expect(at(voice) - opened).toBeGreaterThanOrEqual(RULE_DELAY_MS);
  expect(at(voice)).toBeGreaterThan(at(sms));

  // Level 2, at 15 minutes: Erin by the default rules (Slack DM, SMS, email at once; her
  // voice calls follow at 2 and 5 minutes).
  const erin = personal(stored.timeline, "erin").filter((e) => e.rule === 0);
  expect(erin.map((e) => e.method).sort()).toEqual(["email", "slack", "sms"]);
  for (const e of erin) {
    expect(e).toMatchObject({ level: 2, target: "Erin Walsh", outcome: "delivered" });
    expect(at(e) - opened).toBeGreaterThanOrEqual(LEVEL_GAP_MS);
  }
  expect(aws.sms.filter((s) => s.to === ERIN_PHONE)).toHaveLength(1);

  // Level 3: Grace, unreachable, named and counted; the report lists her.
  expect(stored.timeline.filter((e) => e.type === "unreachable")).toEqual([
    expect.objectContaining({
      level: 3,
      person: "grace",
      target: "Grace Okafor",
      detail: expect.stringMatching(
        /^no usable contact method: rules name .*; no Slack member id, no phone, no email$/,
      ),
    }),
  ]);
  const report = (await (await read("/reports/escalations")).json()) as {
    unreachable: Array<{ incidentId: string; level: number; userId: string }>;
  };
  expect(report.unreachable).toContainEqual(
    expect.objectContaining({ incidentId: id, level: 3, userId: "grace", team: "ml-training" }),
  );
  const metrics = local.metrics.render();
  expect(metrics).toContain('tocsin_people_unreachable_total{level="3",team="ml-training"} 1');

  // The history page: level by level, who was tried how, and who could not be reached.
  const page = await (await read(`/?incident=${encodeURIComponent(id)}`)).text();
  expect(page).toMatch(
    /<td>Dmitri Volkov<\/td><td>voice<\/td>\s*<td class="delivered">delivered<\/td>/,
  );
  expect(page).toMatch(/<tr class="unreachable">.*?<td>Grace Okafor<\/td>/s);

  // Resolved: every rule not yet due is dropped, the escalation ends.
  await postAlert(local.url, WEBHOOK, {
    labels: {
      alertname: "TrainingNaNLoss",
      job: "rules",
      severity: "critical",
      team: "ml-training",
    },
    status: "resolved",
  });
  await within(local.escalation.untilEnded(id), "the escalation to end", PATIENCE_MS);
  await waitUntil(
    async () => (await incident(id)).owedDeliveries === undefined,
    "nothing owed",
    PATIENCE_MS,
  );
});
