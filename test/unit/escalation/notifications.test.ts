import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { slackMessageKey, toNotification } from "../../../functions/escalation/notifications.js";
import { linkMaker, verifyLink } from "../../../functions/integrations/links/token.js";
import { candidate } from "../../support/incidents.js";

const config = parseConfig(
  readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8").replace(
    "alice: { name: Alice Martin, email: alice@example.com, slack: U0ALICE01 }",
    'alice: { name: Alice Martin, email: alice@example.com, slack: U0ALICE01, phone: "+14155552671" }',
  ),
);
const NOW = "2026-11-30T09:00:00.000Z";
const KEY = "link-key-for-tests";
const alice = { userId: "alice", name: "Alice Martin", phone: "+14155552671", slack: "U0ALICE01" };
const parts = {
  config,
  links: linkMaker({ keys: [KEY], publicUrl: "http://127.0.0.1:8080", ttlSeconds: 43_200 }),
  runbook: () => null,
  now: NOW,
};

describe("the notification of a delivery", () => {
  it("goes to a person's phone with their own signed links, good for the links' ttl", () => {
    const incident = candidate("fp-notification", NOW);
    const contact = {
      userId: "alice",
      name: "Alice Martin",
      method: "sms" as const,
      address: "+14155552671",
      rule: 0,
    };
    const n = toNotification(parts, incident, {
      channelId: "@alice:sms",
      kind: "trigger",
      level: 1,
      recipients: [alice],
      contact,
    })!;
    expect(n.channel).toEqual({ type: "sms", phone: "+14155552671" });
    expect(n.contact).toEqual(contact);
    const tokens = [n.links!.acknowledge, n.links!.resolve].map((url) => url.split("/a/")[1]!);
    const verdicts = tokens.map((t) => verifyLink([KEY], t, Date.parse(NOW) / 1000));
    expect(verdicts).toMatchObject([
      {
        ok: true,
        claims: {
          incidentId: incident.id,
          userId: "alice",
          action: "acknowledge",
          expiresAt: Date.parse(NOW) / 1000 + 43_200,
        },
      },
      { ok: true, claims: { action: "resolve" } },
    ]);
  });

  it("carries no links to a channel, nor without a link maker", () => {
    const incident = candidate("fp-notification-2", NOW);
    const channel = toNotification(parts, incident, {
      channelId: "slack-incidents",
      kind: "trigger",
      level: 0,
      recipients: [],
    })!;
    expect(channel.channel).toEqual({ type: "slack", channel: "#incidents" });
    expect(channel.links).toBeUndefined();
    // PagerDuty: the PagerDuty incident the channel opened (user mode reassigns it), or none yet.
    const page = { channelId: "pagerduty", kind: "escalate" as const, level: 2, recipients: [] };
    expect(toNotification(parts, incident, page)!.pagerDutyIncident).toBeNull();
    const opened = { ...incident, pagerDutyIncidents: { pagerduty: "Q1ABC23" } };
    expect(toNotification(parts, opened, page)!.pagerDutyIncident).toBe("Q1ABC23");
    const personal = toNotification({ ...parts, links: undefined }, incident, {
      channelId: "@alice:slack",
      kind: "trigger",
      level: 1,
      recipients: [alice],
    })!;
    // A state change names no contact: the config's data for the person is used.
    expect(personal.channel).toEqual({ type: "slack_dm", user: "U0ALICE01" });
    expect(personal.links).toBeUndefined();
  });

  it("finds a person's first DM under @<userId>, and nothing for a person or channel the config lost", () => {
    const incident = {
      ...candidate("fp-notification-3", NOW),
      slackMessages: { "@alice": { channel: "D0ALICE", ts: "1.000001" } },
    };
    expect(slackMessageKey("@alice:slack")).toBe("@alice");
    expect(slackMessageKey("@alice:sms")).toBe("@alice:sms");
    const dm = toNotification(parts, incident, {
      channelId: "@alice:slack",
      kind: "acknowledge",
      level: 1,
      recipients: [],
    })!;
    expect(dm.slackMessage).toEqual({ channel: "D0ALICE", ts: "1.000001" });
    for (const channelId of [
      "@nobody:sms",
      "@bob:sms",
      "no-such-channel",
      "toString",
      "@alice:fax",
    ])
      expect(
        toNotification(parts, incident, {
          channelId,
          kind: "acknowledge",
          level: 1,
          recipients: [],
        }),
        channelId,
      ).toBeNull();
  });
});
