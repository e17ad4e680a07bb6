import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { scaledAfter } from "../../../functions/core/clock.js";
import { nextTryAfterFailure } from "../../../functions/core/delivery-retry.js";
import {
  escalationEndsAt,
  owedDeliveries,
  planEscalationStep,
  resumeAfterRestart,
  stepDueAt,
} from "../../../functions/core/escalation.js";
import { openIncident } from "../../../functions/core/incident.js";
import { routeAlert } from "../../../functions/core/route-tree.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { alert } from "../../support/incidents.js";

const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));
// Monday 30 November 2026, 09:30 UTC = 04:30 in New York: week 47 of ml-training's rotation
// has not handed off yet (10:00 local), so Dmitri is primary and Erin secondary.
const CREATED = new Date("2026-11-30T09:30:00Z");
const minutes = (n: number) => new Date(CREATED.getTime() + n * 60_000);

function incidentFor(severity: string) {
  const labels = { alertname: "TrainingNaNLoss", severity, team: "ml-training" };
  const opened = openIncident({
    id: `inc-${severity}`,
    alert: alert("fp", { labels }),
    routing: routeAlert(config, labels),
    runbook: null,
    now: CREATED.toISOString(),
  });
  // What the Task recorded of the first level: PagerDuty accepted its trigger.
  const reached = {
    at: CREATED.toISOString(),
    type: "notified" as const,
    level: 1,
    channel: "pagerduty",
    outcome: "delivered" as const,
  };
  return { ...opened, timeline: [...opened.timeline, reached] };
}

const summary = (plan: ReturnType<typeof planEscalationStep>) => ({
  level: plan.level,
  deliveries: plan.deliveries.map(
    (d) => `${d.channelId}:${d.kind}:${d.level}:${d.recipients.map((r) => r.userId).join("+")}`,
  ),
  events: plan.events.map((e) => `${e.type}:${e.level ?? ""}`),
  next: plan.next && { step: plan.next.step, waitSeconds: plan.next.waitSeconds },
});

describe("the default escalation, step by step", () => {
  const critical = incidentFor("critical");
  const plan = (step: number, at: Date, timeScale = 1) =>
    summary(planEscalationStep(critical, step, { config, now: at, after: scaledAfter(timeScale) }));

  it("critical: at once, Slack #incidents mentioning the primary, email oncall@, the PagerDuty service, the primary's Slack DM and email", () => {
    expect(plan(0, minutes(0))).toEqual({
      level: 1,
      deliveries: [
        "slack-incidents:trigger:0:dmitri",
        "email-oncall:trigger:0:",
        // Service mode: PagerDuty's escalation policy chooses who is paged, never tocsin's level.
        "pagerduty:trigger:1:",
        "@dmitri:slack:trigger:1:dmitri",
        "@dmitri:email:trigger:1:dmitri",
      ],
      events: [],
      next: { step: 2, waitSeconds: 900 },
    });
  });

  it("critical: at 15 minutes the secondary, in the Slack thread and by their own methods; nothing more to the PagerDuty service", () => {
    expect(plan(2, minutes(15))).toEqual({
      level: 2,
      deliveries: [
        "slack-incidents:escalate:2:erin",
        "@erin:slack:escalate:2:erin",
        "@erin:email:escalate:2:erin",
      ],
      events: ["escalated:2"],
      next: { step: 3, waitSeconds: 900 },
    });
  });

  it("a PagerDuty service whose alert never got through is alerted again at the next level; once it did, or while it is still tried, not", () => {
    const at = minutes(15);
    const withTimeline = (outcome: "delivered" | "failed" | "not_delivered") => ({
      ...critical,
      timeline: [
        critical.timeline[0]!,
        {
          at: minutes(0).toISOString(),
          type: "notified" as const,
          level: 1,
          channel: "pagerduty",
          outcome,
        },
      ],
    });
    const level2 = (incident: Parameters<typeof planEscalationStep>[0]) =>
      summary(planEscalationStep(incident, 2, { config, now: at, after: scaledAfter(1) }))
        .deliveries;
    expect(level2(withTimeline("failed"))).toContain("pagerduty:escalate:2:");
    expect(level2(withTimeline("not_delivered"))).toContain("pagerduty:escalate:2:");
    expect(level2(withTimeline("delivered"))).not.toContain("pagerduty:escalate:2:");
    const stillTried = {
      ...withTimeline("failed"),
      owedDeliveries: [
        {
          key: "s0d2",
          step: 0,
          channelId: "pagerduty",
          kind: "trigger" as const,
          level: 1,
          recipients: [],
          claimedAt: minutes(0).toISOString(),
          attempts: 1,
        },
      ],
    };
    expect(level2(stillTried)).not.toContain("pagerduty:escalate:2:");
  });

  it("critical: at 30 minutes the engineering manager, then the VP at 60, then nobody", () => {
    expect(plan(3, minutes(30))).toMatchObject({
      level: 3,
      deliveries: [
        "slack-incidents:escalate:3:grace",
        "@grace:slack:escalate:3:grace",
        "@grace:email:escalate:3:grace",
      ],
      next: { step: 4, waitSeconds: 1800 },
    });
    expect(plan(4, minutes(60))).toMatchObject({
      level: 4,
      deliveries: [
        "slack-incidents:escalate:4:vp",
        "@vp:slack:escalate:4:vp",
        "@vp:email:escalate:4:vp",
      ],
      events: ["escalated:4", "exhausted:4"],
      next: null,
    });
  });

  it("waits for what is left when a step runs late, never a negative time", () => {
    expect(plan(2, minutes(17)).next).toEqual({ step: 3, waitSeconds: 780 });
    expect(plan(2, minutes(45)).next).toEqual({ step: 3, waitSeconds: 0 });
  });

  it("says when the next level is due, so the wait does not depend on how long notifying took", () => {
    const step = planEscalationStep(critical, 2, {
      config,
      now: minutes(15.5),
      after: scaledAfter(1),
    });
    expect(step.next).toEqual({ step: 3, waitSeconds: 870, dueAt: minutes(30).toISOString() });
  });

  it("divides every wait by the time scale (local only)", () => {
    expect(plan(0, minutes(0), 60).next).toEqual({ step: 2, waitSeconds: 15 });
    expect(plan(3, new Date(CREATED.getTime() + 30_000), 60).next).toEqual({
      step: 4,
      waitSeconds: 30,
    });
  });

  it("high: Slack #alerts and email team@ at once, PagerDuty and the primary only after 15 minutes", () => {
    const high = incidentFor("high");
    expect(
      summary(planEscalationStep(high, 0, { config, now: minutes(0), after: scaledAfter(1) })),
    ).toEqual({
      level: 0,
      deliveries: ["slack-alerts:trigger:0:", "email-team:trigger:0:"],
      events: [],
      next: { step: 1, waitSeconds: 900 },
    });
    expect(
      summary(planEscalationStep(high, 1, { config, now: minutes(15), after: scaledAfter(1) })),
    ).toEqual({
      level: 1,
      deliveries: [
        "pagerduty:trigger:1:",
        "slack-alerts:escalate:1:dmitri",
        "@dmitri:slack:trigger:1:dmitri",
        "@dmitri:email:trigger:1:dmitri",
      ],
      events: [],
      next: { step: 2, waitSeconds: 900 },
    });
  });

  it("warning: Slack #alerts only, no escalation", () => {
    expect(
      summary(
        planEscalationStep(incidentFor("warning"), 0, {
          config,
          now: minutes(0),
          after: scaledAfter(1),
        }),
      ),
    ).toEqual({
      level: 0,
      deliveries: ["slack-alerts:trigger:0:"],
      events: [],
      next: null,
    });
  });

  it("info: nothing at all", () => {
    expect(
      summary(
        planEscalationStep(incidentFor("info"), 0, {
          config,
          now: minutes(0),
          after: scaledAfter(1),
        }),
      ),
    ).toEqual({
      level: 0,
      deliveries: [],
      events: [],
      next: null,
    });
  });

  it("asks the schedule at the time of the step: after the 10:00 New York handoff, Erin is primary", () => {
    const afterHandoff = new Date("2026-11-30T15:05:00Z");
    const late = { ...critical, createdAt: "2026-11-30T15:00:00.000Z" };
    expect(
      summary(planEscalationStep(late, 0, { config, now: afterHandoff, after: scaledAfter(1) }))
        .deliveries,
    ).toContain("@erin:slack:trigger:1:erin");
  });
});

describe("policies with repeats, channels and gaps", () => {
  const custom = parseConfig(`
users: { ann: { name: Ann }, ben: { name: Ben } }
teams: { t: { name: T, schedules: {} } }
channels:
  pd: { type: pagerduty }
  ops: { type: slack, channel: "#ops" }
escalationPolicies:
  twice: { page: [pd], repeat: 1, levels: [{ after: 0, targets: [{ user: ann }] }, { after: 10m, targets: [{ user: ben }, { channel: ops }] }] }
  broken: { page: [pd], levels: [{ after: 0, targets: [{ oncall: primary }, { role: manager }] }] }
severities:
  critical: { channels: [], escalation: twice }
  high: { channels: [], escalation: broken }
  warning: { channels: [] }
  info: { channels: [] }
defaults: { team: t }
`);
  const incident = (severity: string) =>
    openIncident({
      id: "i",
      alert: alert("fp", { labels: { alertname: "X", severity } }),
      routing: routeAlert(custom, { severity }),
      runbook: null,
      now: CREATED.toISOString(),
    });

  it("repeats the levels after one more gap, then stops", () => {
    // Level 1 reached PagerDuty (the Task recorded it), so its repeat does not alert it again.
    const paged = {
      ...incident("critical"),
      timeline: [
        ...incident("critical").timeline,
        {
          at: minutes(0).toISOString(),
          type: "notified" as const,
          level: 1,
          channel: "pd",
          outcome: "delivered" as const,
        },
      ],
    };
    const steps = [0, 2, 3, 4].map((step, i) =>
      summary(
        planEscalationStep(step === 0 ? incident("critical") : paged, step, {
          config: custom,
          now: minutes([0, 10, 20, 30][i]!),
          after: scaledAfter(1),
        }),
      ),
    );
    expect(steps.map((s) => [s.level, s.deliveries, s.next])).toEqual([
      [1, ["pd:trigger:1:"], { step: 2, waitSeconds: 600 }],
      [2, ["ops:escalate:2:ben"], { step: 3, waitSeconds: 600 }],
      [1, [], { step: 4, waitSeconds: 600 }],
      [2, ["ops:escalate:2:ben"], null],
    ]);
    // Ann and Ben have no contact data: each level says so.
    expect(steps.map((s) => s.events)).toEqual([
      ["unreachable:1"],
      ["escalated:2", "unreachable:2"],
      ["escalated:1", "unreachable:1"],
      ["escalated:2", "unreachable:2", "exhausted:2"],
    ]);
  });

  it("records what it cannot resolve (no schedule, no manager) as failures, and still pages the rest", () => {
    const plan = planEscalationStep(incident("high"), 0, {
      config: custom,
      now: minutes(0),
      after: scaledAfter(1),
    });
    expect(plan.deliveries).toEqual([
      { channelId: "pd", kind: "trigger", level: 1, recipients: [] },
    ]);
    expect(plan.events.map((e) => [e.type, e.detail])).toEqual([
      ["notification_failed", "team t has no primary on-call schedule"],
      ["notification_failed", "team t has no manager"],
      ["exhausted", "the policy's last level is reached: nobody else to escalate to"],
    ]);
  });
});

describe("when each step is due, and what a claim leaves owed", () => {
  const context = { config, after: scaledAfter(1) };
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

  it.each([
    ["critical", 0, 0],
    ["critical", 2, 15],
    ["critical", 3, 30],
    ["critical", 4, 60],
    ["high", 0, 0],
    ["high", 1, 15],
    ["high", 4, 75],
  ])("%s: step %i is due %i minutes after the incident opened", (severity, step, after) => {
    expect(iso(stepDueAt(incidentFor(severity), step, context))).toBe(minutes(after).toISOString());
  });

  it("has no step past the policy's last level, and none but step 0 without a policy", () => {
    expect(stepDueAt(incidentFor("critical"), 5, context)).toBeNull();
    expect(stepDueAt(incidentFor("warning"), 0, context)).toBe(CREATED.getTime());
    expect(stepDueAt(incidentFor("warning"), 1, context)).toBeNull();
  });

  it("counts from the base a snooze moved, divided by the time scale, in whole ms as a due time is written", () => {
    const moved = { ...incidentFor("critical"), escalationBaseAt: minutes(100).toISOString() };
    expect(iso(stepDueAt(moved, 2, context))).toBe(minutes(115).toISOString());
    const scaled = stepDueAt(incidentFor("critical"), 2, { config, after: scaledAfter(7) })!;
    expect(scaled).toBe(Math.floor(CREATED.getTime() + 900_000 / 7));
    const plan = planEscalationStep(incidentFor("critical"), 0, {
      config,
      now: CREATED,
      after: scaledAfter(7),
    });
    expect(Date.parse(plan.next!.dueAt)).toBe(scaled);
  });

  it("owes each delivery of a claimed step once, keyed by the step and its place in it", () => {
    const plan = planEscalationStep(incidentFor("critical"), 0, {
      config,
      now: CREATED,
      after: scaledAfter(1),
    });
    const owed = owedDeliveries(plan, CREATED.toISOString(), scaledAfter(1));
    expect(owed.map((o) => [o.key, o.channelId, o.kind, o.level, o.attempts])).toEqual([
      ["s0d0", "slack-incidents", "trigger", 0, 0],
      ["s0d1", "email-oncall", "trigger", 0, 0],
      ["s0d2", "pagerduty", "trigger", 1, 0],
      ["s0p0", "@dmitri:slack", "trigger", 1, 0],
      ["s0p1", "@dmitri:email", "trigger", 1, 0],
    ]);
    expect(owed[0]!.recipients.map((r) => r.userId)).toEqual(["dmitri"]);
    expect(owed[3]!.contact).toEqual({
      userId: "dmitri",
      name: "Dmitri Volkov",
      method: "slack",
      address: "U0DMITRI1",
      rule: 0,
    });
    expect(owed.every((o) => o.claimedAt === CREATED.toISOString() && !o.nextAttemptAt)).toBe(true);
  });
});

describe("resuming an escalation its engine lost (a local restart)", () => {
  const critical = incidentFor("critical");
  const now = minutes(20);

  it("walks a triggered incident's steps again from the first, due now", () => {
    expect(resumeAfterRestart({ ...critical, escalationStep: 2 }, now)).toEqual({
      step: 0,
      dueAt: now.toISOString(),
    });
  });

  it("resumes a snoozed one where and when its snooze would have: the level reached", () => {
    const snoozed = { ...critical, escalationStep: 2, snoozedUntil: minutes(50).toISOString() };
    expect(resumeAfterRestart(snoozed, now)).toEqual({
      step: 2,
      dueAt: minutes(50).toISOString(),
    });
    // The snooze ended while nothing ran: at once.
    expect(resumeAfterRestart(snoozed, minutes(60))).toEqual({
      step: 2,
      dueAt: minutes(60).toISOString(),
    });
    expect(resumeAfterRestart({ ...snoozed, escalationStep: 0 }, now)?.step).toBe(1);
  });

  it("leaves alone what has nothing left to do", () => {
    expect(resumeAfterRestart({ ...critical, status: "acknowledged" }, now)).toBeNull();
    expect(resumeAfterRestart({ ...critical, status: "resolved" }, now)).toBeNull();
    const info = incidentFor("info");
    expect(info.channels).toEqual([]);
    expect(info.escalationPolicy).toBeNull();
    expect(resumeAfterRestart(info, now)).toBeNull();
  });
});

describe("an escalation whose step keeps failing (its Task's retries spent)", () => {
  const context = { config, after: scaledAfter(1) };
  const HOURS_4 = 4 * 60;

  it.each([
    // The last level (VP) at 60 minutes, then its failed page's 4 hours.
    ["critical", {}, 60 + HOURS_4],
    // high waits 15 minutes before its first page.
    ["high", {}, 75 + HOURS_4],
    // No policy: the route's channels at once, and their 4 hours.
    ["warning", {}, HOURS_4],
    // Snoozed at 20 minutes until 80: resumed at level 2 (the one reached), the VP 45 minutes later.
    ["critical", { escalationStep: 2, snoozedUntil: minutes(80).toISOString() }, 125 + HOURS_4],
  ])("%s %j: ends at the policy's end, %i minutes after it opened", (severity, changes, end) => {
    expect(escalationEndsAt({ ...incidentFor(severity), ...changes }, context)).toEqual(
      minutes(end),
    );
  });

  it("is tried again with a growing wait, 30 s first and at most 10 minutes apart, never past the end", () => {
    const since = minutes(0);
    const after = scaledAfter(1);
    const end = minutes(300);
    const wait = (now: Date) =>
      (nextTryAfterFailure(since, now, after, end)!.getTime() - now.getTime()) / 1000;
    expect(wait(since)).toBe(30);
    expect(wait(new Date(since.getTime() + 30_000))).toBe(30);
    expect(wait(minutes(2))).toBe(120);
    expect(wait(minutes(9))).toBe(540);
    expect(wait(minutes(60))).toBe(600);
    // The last try is at the end, and after it none.
    expect(nextTryAfterFailure(since, minutes(295), after, end)).toEqual(end);
    expect(nextTryAfterFailure(since, end, after, end)).toBeNull();
    // Without a known end (the incident could not be read), it goes on.
    expect(nextTryAfterFailure(since, minutes(10_000), after, null)).toEqual(minutes(10_010));
    // Locally the time scale divides the waits like every other delay.
    expect(
      (nextTryAfterFailure(since, since, scaledAfter(60), null)!.getTime() - since.getTime()) /
        1000,
    ).toBe(0.5);
  });
});
