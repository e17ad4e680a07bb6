import { afterEach, describe, expect, it } from "vitest";
import { loadServiceFiles } from "../../functions/adapters/config-file.js";
import type { Config } from "../../functions/core/config.js";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { FAKE_ACCOUNT } from "../support/fake-pagerduty.js";
import {
  type LocalWithFakes,
  PAGERDUTY_WEBHOOK_SECRET,
  ROUTING_KEY,
  startLocalWithFakes,
} from "../support/local-with-fakes.js";
import { waitUntil, within } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";
import { slackClick } from "../support/slack-click.js";

/*
 * PagerDuty's two modes on the local server, against the fake's Events API, REST API and
 * webhooks. With the shipped policy (levels at 0, 15, 30 and 60 minutes: primary, secondary,
 * manager, VP) 15 minutes are 1.5 s here.
 */
const SCALE = 600;
const WEBHOOK = "e2e-webhook-token";
const SIGNING_SECRET = "e2e-slack-signing-secret";
const API = "e2e-api-token";
/** A bound for failing on a loaded machine, never a wait. */
const PATIENCE_MS = 20_000;
const SERVICE = "PWIXJZS";
const BOT = FAKE_ACCOUNT.users[0]!;
/** The PagerDuty user of each tocsin person a level of ml-training's policy names. */
const PAGERDUTY_IDS = { dmitri: "PDMITRI", erin: "PERIN01", grace: "PGRACE1", vp: "PVICTOR" };

/** The shipped config, paging the people's PagerDuty users (user mode) instead of a service. */
function userModeConfig(): Config {
  const config = structuredClone(loadServiceFiles("tocsin.yaml").config);
  for (const [userId, pagerduty] of Object.entries(PAGERDUTY_IDS)) {
    config.users[userId] = { ...config.users[userId]!, pagerduty };
  }
  config.channels["pagerduty-people"] = {
    type: "pagerduty",
    mode: "user",
    service: SERVICE,
    from: BOT.email,
  };
  for (const policy of Object.values(config.escalationPolicies)) {
    policy.page = policy.page.map((id) => (id === "pagerduty" ? "pagerduty-people" : id));
  }
  return config;
}

const account = {
  users: [
    BOT,
    ...Object.entries(PAGERDUTY_IDS).map(([userId, id]) => ({
      id,
      email: `${userId}@example.com`,
      name: userId,
    })),
  ],
  // Service mode's Events integration opens incidents on this service, paging Dmitri first.
  services: [
    {
      id: SERVICE,
      name: "ML training (tocsin)",
      integrationKeys: [ROUTING_KEY],
      onCall: ["PDMITRI"],
    },
  ],
};

let fakes: LocalWithFakes | undefined;
afterEach(async () => {
  await fakes?.close();
  fakes = undefined;
});

async function start(config?: Config): Promise<LocalWithFakes> {
  fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    timeScale: SCALE,
    pagerDutyAccount: account,
    slack: { signingSecret: SIGNING_SECRET },
    ...(config ? { config } : {}),
  });
  return fakes;
}

async function incident(url: string, id: string): Promise<IncidentWithTimeline> {
  const response = await fetch(`${url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

const critical = (job: string) => ({
  labels: { alertname: "TrainingNaNLoss", job, severity: "critical", team: "ml-training" },
  summary: "loss is NaN",
});

describe("PagerDuty user mode", () => {
  it("the fake sees the one PagerDuty incident assigned to each level's person in turn: primary, secondary, manager, VP", async () => {
    const { local, pagerDuty } = await start(userModeConfig());
    const posted = await postAlert(local.url, WEBHOOK, critical("user-mode-levels"));
    const id = posted.incident!.id;

    await waitUntil(
      () => (pagerDuty.incident(id)?.assignmentHistory.length ?? 0) >= 4,
      "the PagerDuty incident reassigned at level 4",
      PATIENCE_MS,
    );
    await within(local.escalation.untilEnded(id), "the escalation to end", PATIENCE_MS);

    const pd = pagerDuty.incident(id)!;
    const [primary, secondary, manager, vp] = pd.assignmentHistory;
    // ml-training's rotations put dmitri and erin on primary and secondary, one each.
    expect([primary, secondary].flat().sort()).toEqual(["PDMITRI", "PERIN01"]);
    expect(primary).toHaveLength(1);
    expect(manager).toEqual(["PGRACE1"]);
    expect(vp).toEqual(["PVICTOR"]);
    expect(pd.assignmentHistory).toHaveLength(4);
    // Each level's person was notified by PagerDuty once, in order, and no one else.
    expect(pagerDuty.restRequests.flatMap((r) => r.notified ?? [])).toEqual(
      pd.assignmentHistory.flat(),
    );
    expect(pagerDuty.rest.incidents.size).toBe(1);
    expect(pagerDuty.restRequests.every((r) => r.headers.from === BOT.email)).toBe(true);
    // One creation, then reassignments of the incident tocsin remembered: never a second
    // create refused as a duplicate and looked up (PagerDuty rate-limits creation heavily).
    expect(
      pagerDuty.restRequests.map((r) => `${r.method} ${r.path.split("?")[0]} ${r.status}`),
    ).toEqual([
      "POST /incidents 201",
      // Each reassignment reads the incident first: one acknowledged in PagerDuty is left alone.
      ...Array.from({ length: 3 }, () => [
        `GET /incidents/${pd.id} 200`,
        `PUT /incidents/${pd.id} 200`,
      ]).flat(),
    ]);
    expect((await incident(local.url, id)).pagerDutyIncidents).toEqual({
      "pagerduty-people": pd.id,
    });

    // tocsin's timeline says which PagerDuty incident each level's person was assigned.
    const stored = await incident(local.url, id);
    expect(pd.title).toBe(stored.title);
    const pagerDutyEvents = stored.timeline.filter(
      (e) => e.type === "notified" && e.channel === "pagerduty-people",
    );
    expect(pagerDutyEvents).toHaveLength(4);
    for (const event of pagerDutyEvents) {
      expect(event.detail).toContain(`PagerDuty incident ${pd.id}`);
    }
  });

  it("an acknowledgement in the PagerDuty app stops every pending notification and updates Slack; nothing bounces", async () => {
    const config = userModeConfig();
    const { local, pagerDuty, slack } = await start(config);
    const posted = await postAlert(local.url, WEBHOOK, critical("user-mode-ack"));
    const id = posted.incident!.id;
    await waitUntil(
      () => pagerDuty.incident(id) !== undefined && slack.callsTo("chat.postMessage").length > 0,
      "level 1 in PagerDuty and the Slack message",
      PATIENCE_MS,
    );
    const pd = pagerDuty.incident(id)!;
    const [person] = pd.assignees;

    // The level-1 person acknowledges in the PagerDuty app; PagerDuty sends the webhook.
    const sent = await pagerDuty.personActs(pd.id, person!, "acknowledged");

    expect(sent.status).toBe(200);
    expect(sent.answer).toEqual({ status: "acknowledged", incidentId: id });
    await within(local.escalation.untilEnded(id), "the escalation to end", PATIENCE_MS);
    await within(local.escalation.untilEnded(`${id}-acknowledge`), "the mirror", PATIENCE_MS);
    const stored = await incident(local.url, id);
    const userId = Object.entries(PAGERDUTY_IDS).find(([, pdId]) => pdId === person)![0];
    expect(stored.status).toBe("acknowledged");
    expect(stored.acknowledgedBy).toBe(`${config.users[userId]!.name} (${userId})`);
    expect(stored.owedDeliveries ?? []).toEqual([]);
    // No level after the first reached PagerDuty, however long the policy runs.
    expect(pd.assignmentHistory).toHaveLength(1);
    expect(pd.status).toBe("acknowledged");
    // The Slack message shows the acknowledgement, its buttons gone.
    const ref = Object.values(stored.slackMessages)[0]!;
    const message = slack.messages.get(`${ref.channel}/${ref.ts}`)!;
    expect(JSON.stringify(message.blocks)).toContain("Acknowledged");
    expect(JSON.stringify(message.blocks)).not.toContain('"action_id":"acknowledge"');
    // PagerDuty, where the person acted, is not told again (the mirror skips it): no status PUT.
    expect(
      pagerDuty.restRequests.filter(
        (r) => (r.body as { incident?: { status?: string } }).incident?.status !== undefined,
      ),
    ).toEqual([]);
    // The only webhook is the person's: tocsin's mirror caused none (no bounce).
    await pagerDuty.echoed();
    expect(pagerDuty.webhooks).toHaveLength(1);
    // Delivered again (PagerDuty's at-least-once): a duplicate, nothing changes.
    const again = await pagerDuty.sendWebhook(sent.url, sent.type, pd.id, {
      secrets: [PAGERDUTY_WEBHOOK_SECRET],
      agent: person!,
      eventId: sent.eventId,
    });
    expect(again).toMatchObject({ status: 200, answer: { duplicate: true } });
    const timeline = (await incident(local.url, id)).timeline.length;
    expect(timeline).toBe(stored.timeline.length);
  });
});

describe("PagerDuty service mode", () => {
  it("one Events v2 trigger for the whole escalation: PagerDuty's own policy pages people", async () => {
    const { local, pagerDuty } = await start();
    const posted = await postAlert(local.url, WEBHOOK, critical("service-mode"));
    const id = posted.incident!.id;

    await within(local.escalation.untilEnded(id), "the escalation to end", PATIENCE_MS);

    const stored = await incident(local.url, id);
    expect(stored.level).toBe(4);
    const triggers = pagerDuty.events.filter(
      (e) => e.dedup_key === id && e.event_action === "trigger",
    );
    expect(triggers).toHaveLength(1);
    expect(pagerDuty.restRequests).toEqual([]);
    const notified = stored.timeline.filter(
      (e) => e.type === "notified" && e.channel === "pagerduty",
    );
    expect(notified).toHaveLength(1);
    expect(notified[0]!.person).toBeUndefined();
  });

  /** The shipped config with Dmitri's PagerDuty user id, so the timeline can name him. */
  function serviceModeConfig(): Config {
    const config = structuredClone(loadServiceFiles("tocsin.yaml").config);
    config.users.dmitri = { ...config.users.dmitri!, pagerduty: PAGERDUTY_IDS.dmitri };
    return config;
  }

  it("an acknowledgement in the PagerDuty app of the service's incident acknowledges tocsin and stops its escalation", async () => {
    const { local, pagerDuty, slack } = await start(serviceModeConfig());
    const posted = await postAlert(local.url, WEBHOOK, critical("service-mode-ack"));
    const id = posted.incident!.id;
    await waitUntil(
      () => pagerDuty.incident(id) !== undefined && slack.callsTo("chat.postMessage").length > 0,
      "the Events trigger's incident and the Slack message",
      PATIENCE_MS,
    );
    const pd = pagerDuty.incident(id)!;
    expect(pd.serviceId).toBe(SERVICE);

    const sent = await pagerDuty.personActs(pd.id, "PDMITRI", "acknowledged");

    expect(sent).toMatchObject({ status: 200, answer: { status: "acknowledged", incidentId: id } });
    await within(local.escalation.untilEnded(id), "the escalation to end", PATIENCE_MS);
    await within(local.escalation.untilEnded(`${id}-acknowledge`), "the mirror", PATIENCE_MS);
    const stored = await incident(local.url, id);
    expect(stored.acknowledgedBy).toBe("Dmitri Volkov (dmitri)");
    const ref = Object.values(stored.slackMessages)[0]!;
    expect(JSON.stringify(slack.messages.get(`${ref.channel}/${ref.ts}`)!.blocks)).toContain(
      "Acknowledged",
    );
    await pagerDuty.echoed();
    expect(pagerDuty.webhooks).toHaveLength(1);
  });

  it("tocsin's own acknowledgement, sent to PagerDuty by Events v2, comes back as a webhook: 200 unchanged, nothing written", async () => {
    const { local, pagerDuty, slack } = await start(serviceModeConfig());
    const posted = await postAlert(local.url, WEBHOOK, critical("service-mode-echo"));
    const id = posted.incident!.id;
    await waitUntil(
      () => pagerDuty.incident(id) !== undefined && slack.callsTo("chat.postMessage").length > 0,
      "the Events trigger's incident and the Slack message",
      PATIENCE_MS,
    );
    const channel = slack.channelId("#incidents");
    const click = slackClick({
      signingSecret: SIGNING_SECRET,
      actionId: "acknowledge",
      value: id,
      user: { id: "U0DMITRI1", username: "dmitri.v" },
      teamId: "T024BE7LD",
      channelId: channel,
      timestamp: new Date(),
      responseUrl: slack.responseUrl({ user: "U0DMITRI1", channel }),
    });
    const answered = await fetch(`${local.url}/slack/interactions`, {
      method: "POST",
      headers: click.headers,
      body: click.body,
    });
    expect(answered.status).toBe(200);
    await within(local.escalation.untilEnded(`${id}-acknowledge`), "the mirror", PATIENCE_MS);
    await waitUntil(() => pagerDuty.webhooks.length > 0, "PagerDuty's webhook", PATIENCE_MS);
    await pagerDuty.echoed();

    expect(pagerDuty.incident(id)!.status).toBe("acknowledged");
    expect(pagerDuty.webhooks).toHaveLength(1);
    expect(pagerDuty.webhooks[0]).toMatchObject({
      type: "incident.acknowledged",
      status: 200,
      answer: { status: "unchanged" },
    });
    const stored = await incident(local.url, id);
    expect(stored.timeline.filter((e) => e.type === "acknowledged")).toHaveLength(1);
    expect(stored.acknowledgedBy).toMatch(/\(dmitri\)$/);
    // One acknowledge event reached PagerDuty: nothing bounced back and forth.
    expect(
      pagerDuty.events.filter((e) => e.dedup_key === id && e.event_action === "acknowledge"),
    ).toHaveLength(1);
  });
});
