import { describe, expect, it } from "vitest";
import {
  destinationOf,
  mayHaveBeenSent,
  parsePersonalChannelId,
  personalChannelId,
  personalDeliveries,
  rulesOf,
} from "../../../functions/core/contacts.js";
import type { OwedDelivery, Recipient } from "../../../functions/core/notification.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { MINIMAL_CONFIG } from "../../support/config-text.js";

const config = parseConfig(`${MINIMAL_CONFIG}
users:
  alice:
    name: Alice Martin
    email: alice@example.com
    slack: U0ALICE01
    phone: "+14155552671"
    rules:
      - { after: 0, notify: [slack, sms] }
      - { after: 2m, notify: [voice] }
      - { after: 5m, notify: [voice, email] }
  bob: { name: Bob Chen, email: bob@example.com, slack: U0BOB0001 }
  grace: { name: Grace Okafor, rules: [{ after: 0, notify: [sms] }, { after: 1m, notify: [voice] }] }
  nobody: { name: No Body }
`);

const recipient = (userId: string): Recipient => {
  const { name, email, slack, phone, pagerduty } = config.users[userId]!;
  return { userId, name, email, slack, phone, pagerduty };
};

describe("rulesOf", () => {
  it("is the person's own rules, else the config's default", () => {
    expect(rulesOf(config, "alice")).toBe(config.users.alice!.rules);
    expect(rulesOf(config, "bob")).toBe(config.notificationRules);
    expect(rulesOf(config, "unknown")).toBe(config.notificationRules);
  });
});

describe("personal channel ids", () => {
  it("round-trip, and are never a config channel name", () => {
    expect(personalChannelId("alice", "sms")).toBe("@alice:sms");
    expect(parsePersonalChannelId("@alice:sms")).toEqual({ userId: "alice", method: "sms" });
    expect(parsePersonalChannelId("@a.b-c_d:voice")).toEqual({
      userId: "a.b-c_d",
      method: "voice",
    });
    for (const id of ["slack-incidents", "@alice", "@alice:fax", "alice:sms", "@:sms"])
      expect(parsePersonalChannelId(id)).toBeNull();
  });

  it("a method's destination is the person's own: a DM, a phone, a mailbox", () => {
    expect(destinationOf({ method: "slack", address: "U0ALICE01" })).toEqual({
      type: "slack_dm",
      user: "U0ALICE01",
    });
    expect(destinationOf({ method: "sms", address: "+14155552671" })).toEqual({
      type: "sms",
      phone: "+14155552671",
    });
    expect(destinationOf({ method: "voice", address: "+14155552671" })).toEqual({
      type: "voice",
      phone: "+14155552671",
    });
    expect(destinationOf({ method: "email", address: "a@example.com" })).toEqual({
      type: "email",
      address: "a@example.com",
    });
  });
});

describe("personalDeliveries: one per rule and usable method", () => {
  const rows = (userId: string) =>
    personalDeliveries(config, recipient(userId), 2).deliveries.map((d) => [
      d.channelId,
      d.contact.method,
      d.contact.address,
      d.contact.rule,
      d.after,
    ]);

  it("a complete person: every method of every rule, at the rule's delay", () => {
    expect(rows("alice")).toEqual([
      ["@alice:slack", "slack", "U0ALICE01", 0, 0],
      ["@alice:sms", "sms", "+14155552671", 0, 0],
      ["@alice:voice", "voice", "+14155552671", 1, 120],
      ["@alice:voice", "voice", "+14155552671", 2, 300],
      ["@alice:email", "email", "alice@example.com", 2, 300],
    ]);
    const { deliveries, unreachable } = personalDeliveries(config, recipient("alice"), 2);
    expect(unreachable).toBeNull();
    expect(deliveries[0]).toMatchObject({
      kind: "escalate",
      level: 2,
      recipients: [recipient("alice")],
      contact: { userId: "alice", name: "Alice Martin" },
    });
  });

  it("the default rules skip what the person has no data for (no phone: no SMS, no voice)", () => {
    expect(rows("bob")).toEqual([
      ["@bob:slack", "slack", "U0BOB0001", 0, 0],
      ["@bob:email", "email", "bob@example.com", 0, 0],
    ]);
  });

  it("the kind given is every delivery's (trigger at the first level)", () => {
    const { deliveries } = personalDeliveries(config, recipient("bob"), 1, "trigger");
    expect(deliveries.map((d) => d.kind)).toEqual(["trigger", "trigger"]);
  });

  it.each([
    ["grace", "no usable contact method: rules name sms, voice; no phone"],
    [
      "nobody",
      "no usable contact method: rules name slack, sms, email, voice; no Slack member id, no phone, no email",
    ],
  ])("%s, whom no rule can reach, is unreachable: %s", (userId, reason) => {
    expect(personalDeliveries(config, recipient(userId), 3)).toEqual({
      deliveries: [],
      unreachable: { reason },
    });
  });
});

describe("mayHaveBeenSent(owed, at): whether an acknowledge at `at` should tell it", () => {
  const owed = (o: Partial<OwedDelivery>): OwedDelivery => ({
    key: "s1p0",
    step: 1,
    channelId: "@alice:voice",
    kind: "trigger",
    level: 1,
    recipients: [],
    claimedAt: "2026-03-02T10:00:00.000Z",
    attempts: 0,
    ...o,
  });
  const ack = "2026-03-02T10:01:00.000Z";
  it.each([
    ["due at once, not attempted yet (may be in flight)", owed({}), true],
    ["attempted", owed({ attempts: 1, nextAttemptAt: "2026-03-02T10:05:00.000Z" }), true],
    [
      "its rule fell due before the acknowledge",
      owed({ nextAttemptAt: "2026-03-02T10:00:30.000Z" }),
      true,
    ],
    ["its rule fell due at the acknowledge", owed({ nextAttemptAt: ack }), true],
    [
      "its rule was not due yet: never sent",
      owed({ nextAttemptAt: "2026-03-02T10:02:00.000Z" }),
      false,
    ],
  ])("%s: %s", (_name, of, expected) => {
    expect(mayHaveBeenSent(of, ack)).toBe(expected);
  });
});
