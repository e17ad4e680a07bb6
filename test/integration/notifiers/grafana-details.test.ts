/**
 * What Grafana adds to an alert (the query values, the value string, the panel image and
 * the rule uid) reaches the person woken: from the captured webhook body through the core's
 * incident to Slack, PagerDuty and email as each of them shows it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { valuesText } from "../../../functions/core/alert.js";
import { type Incident, openIncident } from "../../../functions/core/incident.js";
import { emailBody, emailSubject } from "../../../functions/integrations/email/message.js";
import { parseGrafanaPayload } from "../../../functions/integrations/grafana/payload.js";
import { PagerDutyNotifier } from "../../../functions/integrations/pagerduty/notifier.js";
import { type Block, incidentMessage } from "../../../functions/integrations/slack/message.js";
import { SlackNotifier } from "../../../functions/integrations/slack/notifier.js";
import { FakePagerDuty } from "../../support/fake-pagerduty.js";
import { FakeSlack } from "../../support/fake-slack.js";
import { fixture } from "../../support/fixtures.js";
import { notification } from "../../support/notifications.js";

const IMAGE = "https://grafana-images.example/alerting/2Ab9xR.png";
const KEY = "0123456789abcdef0123456789abcdef";
const TOKEN = "xoxb-test-token";

/** The incident a Grafana body's first alert opens (team platform, as tocsin.yaml's default). */
function incidentOf(body: unknown): Incident {
  const [alert] = parseGrafanaPayload(body);
  const { timeline: _timeline, ...incident } = openIncident({
    id: "inc-grafana-1",
    alert: alert!,
    routing: {
      team: "platform",
      severity: "warning",
      channels: ["slack-incidents"],
      escalation: null,
      delay: 0,
      matchedRoutes: [],
    },
    runbook: null,
    now: "2026-11-30T09:10:30.000Z",
  });
  return incident;
}

/** The captured Grafana body, its alert given the image and rule uid Grafana adds when it has them. */
function grafanaIncident(extra: Record<string, unknown> = { imageURL: IMAGE }): Incident {
  const body = fixture("grafana-webhook-firing.json") as { alerts: Record<string, unknown>[] };
  body.alerts[0] = { ...body.alerts[0], ruleUID: "ce1k2", ...extra };
  return incidentOf(body);
}

describe("valuesText", () => {
  it.each([
    [{ values: { B: 87, C: 1 } }, "B=87, C=1"],
    [{ values: { A: 0.9523809523809523, B: 1234567.891 } }, "A=0.952381, B=1234568"],
    [
      { values: null, valueText: "[ metric='foo' labels={instance=bar} value=10 ]" },
      "[ metric='foo' labels={instance=bar} value=10 ]",
    ],
    [{ values: {}, valueText: null }, null],
    [{}, null],
  ])("%j shows as %j", (alert, text) => {
    expect(valuesText(alert)).toBe(text);
  });
});

describe("a Grafana alert's details on the incident", () => {
  it("are kept from the webhook body", () => {
    expect(grafanaIncident()).toMatchObject({
      values: { B: 87, C: 1 },
      valueText:
        "[ var='B' labels={gpu=3, node=node-7} value=87 ], [ var='C' labels={gpu=3, node=node-7} value=1 ]",
      imageUrl: IMAGE,
      ruleId: "ce1k2",
    });
  });
});

describe("Slack", () => {
  const blocksOf = (incident: Incident) =>
    incidentMessage(notification("slack-incidents", { incident, level: 0, recipients: [] })).blocks;

  it("shows the values as a field and the panel image as an image block", () => {
    const blocks = blocksOf(grafanaIncident());
    const section = blocks.find((b) => b.type === "section" && b.fields);
    expect(section?.type === "section" && section.fields?.map((f) => f.text)).toContain(
      "*Values*\n`B=87, C=1`",
    );
    expect(blocks.filter((b) => b.type === "image")).toEqual([
      {
        type: "image",
        image_url: IMAGE,
        alt_text: "Panel image: GPU 3 on node-7 is at 87 °C",
      },
    ]);
  });

  it("links an image it cannot show (not https) instead of embedding it", () => {
    const blocks = blocksOf(grafanaIncident({ imageURL: "http://grafana.internal/img/a.png" }));
    expect(blocks.some((b) => b.type === "image")).toBe(false);
    const links = blocks.filter(
      (b): b is Extract<Block, { type: "context" }> => b.type === "context",
    );
    expect(links.flatMap((b) => b.elements.map((e) => e.text))).toContain(
      "<http://grafana.internal/img/a.png|Panel image>",
    );
  });

  describe("when Slack cannot download the image", () => {
    let slack: FakeSlack;
    beforeAll(async () => {
      slack = await FakeSlack.start({ token: TOKEN });
    });
    afterEach(() => slack.reset());
    afterAll(async () => {
      await slack.close();
    });

    it("posts the message again without the image block, its link kept", async () => {
      // What Slack answers when it cannot fetch an image_url ("downloading image failed").
      slack.failNext("chat.postMessage", { error: "invalid_blocks" });
      const outcome = await new SlackNotifier({ token: TOKEN, slackApiUrl: slack.apiUrl }).send(
        notification("slack-incidents", { incident: grafanaIncident(), level: 0, recipients: [] }),
      );
      expect(outcome).toMatchObject({
        status: "delivered",
        detail: expect.stringContaining("without its image"),
      });
      const posts = slack.callsTo("chat.postMessage");
      expect(posts).toHaveLength(2);
      const images = (call: (typeof posts)[number]) =>
        (call.args.blocks as Block[]).filter((b) => b.type === "image").length;
      expect(posts.map(images)).toEqual([1, 0]);
      expect(JSON.stringify(posts[1]!.args.blocks)).toContain(`<${IMAGE}|Panel image>`);
    });

    it("goes on to plain text if Slack refuses the message without its image too", async () => {
      slack.failNext("chat.postMessage", { error: "invalid_blocks", times: 2 });
      const outcome = await new SlackNotifier({ token: TOKEN, slackApiUrl: slack.apiUrl }).send(
        notification("slack-incidents", { incident: grafanaIncident(), level: 0, recipients: [] }),
      );
      expect(outcome.status).toBe("delivered");
      const posts = slack.callsTo("chat.postMessage");
      expect(posts.map((call) => Array.isArray(call.args.blocks))).toEqual([true, true, false]);
    });
  });
});

describe("PagerDuty", () => {
  let fake: FakePagerDuty;
  beforeAll(async () => {
    fake = await FakePagerDuty.start();
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await fake.close();
  });
  const details = (i = 0) =>
    (fake.events[i]!.payload as { custom_details: Record<string, unknown> }).custom_details;
  const send = (incident: Incident) =>
    new PagerDutyNotifier({ routingKey: KEY, server: fake.server, ca: fake.ca }).send(
      notification("pagerduty", { incident }),
    );

  it("carries the values and the panel image (Events v2 `images`, linked to the dashboard)", async () => {
    expect((await send(grafanaIncident())).status).toBe("delivered");
    const event = fake.events[0]!;
    expect(event.images).toEqual([
      {
        src: IMAGE,
        href: "http://grafana.example/d/gpu?orgId=1",
        alt: "Panel image: GPU 3 on node-7 is at 87 °C",
      },
    ]);
    expect(details()).toMatchObject({ values: { B: 87, C: 1 } });
  });

  it("sends no image PagerDuty would not show (it wants HTTPS)", async () => {
    await send(grafanaIncident({ imageURL: "http://grafana.internal/img/a.png" }));
    expect(fake.events[0]!.images).toBeUndefined();
  });

  it("sends the value string when the sender had no values", async () => {
    await send(grafanaIncident({ values: null, imageURL: undefined }));
    expect(details()).toMatchObject({
      value_string: expect.stringContaining("var='B'"),
    });
    expect(details()).not.toHaveProperty("values");
  });
});

describe("email", () => {
  it("lists the values with the facts and the image with the links", () => {
    const body = emailBody(notification("email-oncall", { incident: grafanaIncident() }));
    expect(body).toMatch(/^Values: +B=87, C=1$/m);
    expect(body).toMatch(new RegExp(`^ +Panel image: +${IMAGE.replace(/\./g, "\\.")}$`, "m"));
  });

  it("of a test notification says it is a test and that nobody is paged", () => {
    const incident = incidentOf(fixture("grafana-test-notification.json"));
    const told = notification("email-oncall", {
      incident,
      level: 0,
      recipients: [],
      runbook: null,
    });
    expect(emailSubject(told)).toBe("[TEST] Grafana test: Notification test (platform)");
    expect(emailBody(told)).toContain("This is a test notification from Grafana");
    expect(emailBody(told)).toMatch(
      /^Values: +\[ metric='foo' labels=\{instance=bar\} value=10 \]$/m,
    );
  });
});
