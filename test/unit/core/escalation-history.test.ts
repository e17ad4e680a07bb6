import { describe, expect, it } from "vitest";
import { deliveryState, escalationByLevel } from "../../../functions/core/escalation-history.js";
import type { TimelineEvent } from "../../../functions/core/incident.js";

const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 9, minute)).toISOString();

describe("deliveryState", () => {
  it.each<[TimelineEvent, string | null]>([
    [{ at: at(0), type: "notified", detail: "trigger: delivered (202)" }, "delivered"],
    [
      { at: at(0), type: "notified", detail: "trigger: not delivered: no credentials" },
      "not_delivered",
    ],
    [{ at: at(0), type: "notification_failed", detail: "HTTPError: 500" }, "failed"],
    // Typed outcomes are read as they are, whatever the detail says.
    [
      { at: at(0), type: "notified", outcome: "not_delivered", detail: "trigger: skipped" },
      "not_delivered",
    ],
    [
      { at: at(0), type: "notified", outcome: "delivered", detail: "posted: not delivered to x" },
      "delivered",
    ],
    [{ at: at(0), type: "acknowledged", actor: "erin" }, null],
    [{ at: at(0), type: "escalated", level: 2 }, null],
  ])("of %j is %s", (event, expected) => {
    expect(deliveryState(event)).toBe(expected);
  });
});

describe("escalationByLevel", () => {
  it("groups notifications by level, in the order levels were reached, with who and outcome", () => {
    // Prepare: the default critical escalation, level 2 reached after 15 minutes; one Slack
    // post failed; then an acknowledgement (not a level's business).
    const timeline: TimelineEvent[] = [
      { at: at(0), type: "triggered", actor: "alertmanager" },
      {
        at: at(0),
        type: "notified",
        level: 0,
        channel: "slack-incidents",
        detail: "trigger: posted",
      },
      {
        at: at(0),
        type: "notified",
        level: 1,
        channel: "pagerduty",
        target: "Dmitri Volkov",
        detail: "trigger: accepted",
      },
      { at: at(15), type: "escalated", level: 2, detail: "to level 2: Erin Walsh" },
      {
        at: at(15),
        type: "notified",
        level: 2,
        channel: "pagerduty",
        target: "Erin Walsh",
        detail: "escalate: accepted",
      },
      {
        at: at(15),
        type: "notification_failed",
        level: 2,
        channel: "slack-incidents",
        detail: "escalate: slack 500",
      },
      { at: at(16), type: "notification_failed", detail: "escalation stopped: States.Timeout" },
      { at: at(20), type: "acknowledged", actor: "Erin Walsh" },
    ];

    // Act
    const levels = escalationByLevel(timeline);

    // Assess
    expect(levels.map((l) => [l.level, l.reachedAt, l.escalation])).toEqual([
      [0, at(0), null],
      [1, at(0), null],
      [2, at(15), "to level 2: Erin Walsh"],
    ]);
    expect(levels[2]!.deliveries).toEqual([
      {
        at: at(15),
        channel: "pagerduty",
        target: "Erin Walsh",
        state: "delivered",
        detail: "escalate: accepted",
        person: null,
        method: null,
        providerId: null,
      },
      {
        at: at(15),
        channel: "slack-incidents",
        target: null,
        state: "failed",
        detail: "escalate: slack 500",
        person: null,
        method: null,
        providerId: null,
      },
    ]);
  });

  it("puts a level's deliveries under it even when recorded out of order", () => {
    const levels = escalationByLevel([
      { at: at(31), type: "notified", level: 3, channel: "email-oncall", detail: "escalate: sent" },
      { at: at(30), type: "escalated", level: 3, detail: "to level 3: Grace Okafor" },
    ]);
    expect(levels).toEqual([
      {
        level: 3,
        reachedAt: at(30),
        escalation: "to level 3: Grace Okafor",
        deliveries: [
          {
            at: at(31),
            channel: "email-oncall",
            target: null,
            state: "delivered",
            detail: "escalate: sent",
            person: null,
            method: null,
            providerId: null,
          },
        ],
        unreachable: [],
      },
    ]);
  });

  it("says per level who was tried, how, with the provider's id, and who could not be reached", () => {
    const [level] = escalationByLevel([
      { at: at(15), type: "escalated", level: 2, detail: "to level 2: Bob Chen, Grace Okafor" },
      {
        at: at(15),
        type: "notified",
        level: 2,
        channel: "@bob:sms",
        target: "Bob Chen",
        person: "bob",
        method: "sms",
        rule: 0,
        outcome: "delivered",
        providerId: "7f0c",
        detail: "escalate: accepted by SNS",
      },
      {
        at: at(15),
        type: "unreachable",
        level: 2,
        person: "grace",
        target: "Grace Okafor",
        detail: "no usable contact method: rules name sms; no phone",
      },
    ]);
    expect(level!.deliveries).toEqual([
      {
        at: at(15),
        channel: "@bob:sms",
        target: "Bob Chen",
        state: "delivered",
        detail: "escalate: accepted by SNS",
        person: "bob",
        method: "sms",
        providerId: "7f0c",
      },
    ]);
    expect(level!.unreachable).toEqual([
      {
        at: at(15),
        person: "grace",
        target: "Grace Okafor",
        reason: "no usable contact method: rules name sms; no phone",
      },
    ]);
  });

  it("is empty for a timeline without notifications", () => {
    expect(escalationByLevel([{ at: at(0), type: "triggered" }])).toEqual([]);
  });
});
