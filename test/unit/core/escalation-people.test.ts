import { describe, expect, it } from "vitest";
import { scaledAfter } from "../../../functions/core/clock.js";
import { owedDeliveries, planEscalationStep } from "../../../functions/core/escalation.js";
import { openIncident } from "../../../functions/core/incident.js";
import { routeAlert } from "../../../functions/core/route-tree.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { alert } from "../../support/incidents.js";

/** A policy whose levels name people with every kind of contact data, and PagerDuty both ways. */
const text = (page: string) => `
notificationRules:
  - { after: 0, notify: [slack, sms, email] }
  - { after: 2m, notify: [voice] }
users:
  alice:
    name: Alice Martin
    email: alice@example.com
    slack: U0ALICE01
    phone: "+14155552671"
    pagerduty: PALICE1
    rules:
      - { after: 0, notify: [slack, sms] }
      - { after: 2m, notify: [voice] }
      - { after: 5m, notify: [voice] }
  bob: { name: Bob Chen, email: bob@example.com, phone: "+14155552672", pagerduty: PBOB123 }
  grace: { name: Grace Okafor, rules: [{ after: 0, notify: [sms] }, { after: 1m, notify: [voice] }] }
  vp: { name: Victoria Park, slack: U0VICTORI }
teams: { t: { name: T, manager: grace } }
channels:
  pd: { type: pagerduty }
  pd-people: { type: pagerduty, mode: user, service: PWIXJZS, from: tocsin-bot@example.com }
  incidents: { type: slack, channel: "#incidents" }
escalationPolicies:
  standard:
    page: [${page}]
    levels:
      - { after: 0, targets: [{ user: alice }] }
      - { after: 15m, targets: [{ user: bob }] }
      - { after: 30m, targets: [{ role: manager }] }
      - { after: 60m, targets: [{ user: vp }, { user: alice }] }
severities:
  critical: { channels: [incidents], escalation: standard }
  high: { channels: [incidents], escalation: standard, delay: 15m }
  warning: { channels: [] }
  info: { channels: [] }
defaults: { team: t }
`;
const CREATED = new Date("2026-11-30T09:30:00Z");
const minutes = (n: number) => new Date(CREATED.getTime() + n * 60_000);
const incidentOf = (config: ReturnType<typeof parseConfig>, severity = "critical") =>
  openIncident({
    id: "11111111-2222-4333-8444-555555555555",
    alert: alert("fp", { labels: { alertname: "X", severity } }),
    routing: routeAlert(config, { severity }),
    runbook: null,
    now: CREATED.toISOString(),
  });

describe("each level reaches its people by their own methods and rules", () => {
  const config = parseConfig(text("pd"));
  const incident = incidentOf(config);
  const step = (k: number, at: Date, scale = 1) =>
    planEscalationStep(incident, k, { config, now: at, after: scaledAfter(scale) });
  const personal = (plan: ReturnType<typeof step>) =>
    plan.deliveries
      .filter((d) => d.contact)
      .map((d) => [d.channelId, d.kind, d.level, d.contact!.address, d.contact!.rule, d.after]);

  it("level 1 (folded into the first step): the person's rules, method by method", () => {
    expect(personal(step(0, minutes(0)))).toEqual([
      ["@alice:slack", "trigger", 1, "U0ALICE01", 0, 0],
      ["@alice:sms", "trigger", 1, "+14155552671", 0, 0],
      ["@alice:voice", "trigger", 1, "+14155552671", 1, 120],
      ["@alice:voice", "trigger", 1, "+14155552671", 2, 300],
    ]);
  });

  it("a later level: the default rules, skipping what the person has no data for", () => {
    expect(personal(step(2, minutes(15)))).toEqual([
      ["@bob:sms", "escalate", 2, "+14155552672", 0, 0],
      ["@bob:email", "escalate", 2, "bob@example.com", 0, 0],
      ["@bob:voice", "escalate", 2, "+14155552672", 1, 120],
    ]);
  });

  it("a level of two people reaches both; a person no method can reach is recorded unreachable", () => {
    const level3 = step(3, minutes(30));
    expect(personal(level3)).toEqual([]);
    expect(level3.events).toEqual([
      {
        at: minutes(30).toISOString(),
        type: "escalated",
        level: 3,
        detail: "to level 3: Grace Okafor",
      },
      {
        at: minutes(30).toISOString(),
        type: "unreachable",
        level: 3,
        person: "grace",
        target: "Grace Okafor",
        detail: "no usable contact method: rules name sms, voice; no phone",
      },
    ]);
    expect(personal(step(4, minutes(60))).map((d) => d[0])).toEqual([
      "@vp:slack",
      "@alice:slack",
      "@alice:sms",
      "@alice:voice",
      "@alice:voice",
    ]);
  });

  it("the owed entries: one per person and method, keyed s<step>p<i>, a rule's delay as its first attempt's time", () => {
    for (const scale of [1, 60]) {
      const plan = step(0, minutes(0), scale);
      const owed = owedDeliveries(plan, minutes(0).toISOString(), scaledAfter(scale));
      expect(owed.map((o) => [o.key, o.channelId, o.nextAttemptAt ?? null])).toEqual([
        ["s0d0", "incidents", null],
        ["s0d1", "pd", null],
        ["s0p0", "@alice:slack", null],
        ["s0p1", "@alice:sms", null],
        ["s0p2", "@alice:voice", new Date(CREATED.getTime() + 120_000 / scale).toISOString()],
        ["s0p3", "@alice:voice", new Date(CREATED.getTime() + 300_000 / scale).toISOString()],
      ]);
      expect(owed[4]!.contact).toEqual({
        userId: "alice",
        name: "Alice Martin",
        method: "voice",
        address: "+14155552671",
        rule: 1,
      });
    }
  });

  it("a delayed first level (high): the people when it fires, not before", () => {
    const high = incidentOf(config, "high");
    const at = (k: number, when: Date) =>
      planEscalationStep(high, k, { config, now: when, after: scaledAfter(1) });
    expect(at(0, minutes(0)).deliveries.filter((d) => d.contact)).toEqual([]);
    expect(
      at(1, minutes(15))
        .deliveries.filter((d) => d.contact)
        .map((d) => d.channelId),
    ).toEqual(["@alice:slack", "@alice:sms", "@alice:voice", "@alice:voice"]);
  });
});

describe("PagerDuty service mode: one alert per incident, PagerDuty's policy chooses who is paged", () => {
  const config = parseConfig(text("pd"));
  const opened = incidentOf(config);
  // What the Task recorded of level 1: PagerDuty accepted its trigger.
  const incident = {
    ...opened,
    timeline: [
      ...opened.timeline,
      {
        at: minutes(0).toISOString(),
        type: "notified" as const,
        level: 1,
        channel: "pd",
        outcome: "delivered" as const,
      },
    ],
  };
  const toPd = (k: number, at: Date, of = incident) =>
    planEscalationStep(of, k, { config, now: at, after: scaledAfter(1) }).deliveries.filter(
      (d) => d.channelId === "pd",
    );

  it("the first level triggers it, naming nobody; later levels send it nothing", () => {
    expect(toPd(0, minutes(0), opened)).toEqual([
      { channelId: "pd", kind: "trigger", level: 1, recipients: [] },
    ]);
    expect(toPd(2, minutes(15))).toEqual([]);
    expect(toPd(3, minutes(30))).toEqual([]);
    expect(toPd(4, minutes(60))).toEqual([]);
  });

  it("a service named as a later level's target is alerted then, once", () => {
    const targeted = parseConfig(
      text("").replace(
        "- { after: 30m, targets: [{ role: manager }] }",
        "- { after: 30m, targets: [{ role: manager }, { channel: pd }] }",
      ),
    );
    const at = (k: number, when: Date) =>
      planEscalationStep(incidentOf(targeted), k, {
        config: targeted,
        now: when,
        after: scaledAfter(1),
      }).deliveries.filter((d) => d.channelId === "pd");
    expect(at(0, minutes(0))).toEqual([]);
    expect(at(3, minutes(30))).toEqual([
      { channelId: "pd", kind: "escalate", level: 3, recipients: [] },
    ]);
    expect(at(4, minutes(60))).toEqual([]);
  });
});

describe("PagerDuty user mode: the level's people are assigned by their PagerDuty user ids", () => {
  const config = parseConfig(text("pd-people"));
  const incident = incidentOf(config);
  const plan = (k: number, at: Date) =>
    planEscalationStep(incident, k, { config, now: at, after: scaledAfter(1) });
  const toPd = (p: ReturnType<typeof plan>) =>
    p.deliveries
      .filter((d) => d.channelId === "pd-people")
      .map((d) => [d.kind, d.level, d.recipients.map((r) => r.pagerduty)]);

  it("every level: the incident opened for, then reassigned to, that level's people", () => {
    expect(toPd(plan(0, minutes(0)))).toEqual([["trigger", 1, ["PALICE1"]]]);
    expect(toPd(plan(2, minutes(15)))).toEqual([["escalate", 2, ["PBOB123"]]]);
    expect(toPd(plan(4, minutes(60)))).toEqual([["escalate", 4, ["PALICE1"]]]);
  });

  it("a person without a PagerDuty user id is recorded not delivered, never sent", () => {
    const level3 = plan(3, minutes(30));
    expect(toPd(level3)).toEqual([]);
    expect(level3.events.filter((e) => e.channel === "pd-people")).toEqual([
      {
        at: minutes(30).toISOString(),
        type: "notified",
        level: 3,
        channel: "pd-people",
        target: "Grace Okafor",
        person: "grace",
        method: "pagerduty",
        detail: "escalate: not delivered: no PagerDuty user id (users.grace.pagerduty)",
        outcome: "not_delivered",
        attempts: 0,
      },
    ]);
    // Level 4: Victoria has none, Alice has one: Alice is assigned, Victoria recorded.
    const level4 = plan(4, minutes(60));
    expect(toPd(level4)).toEqual([["escalate", 4, ["PALICE1"]]]);
    expect(level4.events.filter((e) => e.method === "pagerduty").map((e) => e.person)).toEqual([
      "vp",
    ]);
  });
});
