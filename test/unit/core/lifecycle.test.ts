import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scaledAfter } from "../../../functions/core/clock.js";
import {
  escalates,
  type IncidentWithTimeline,
  type TimelineEvent,
  tellsAnyone,
} from "../../../functions/core/incident.js";
import { applyUpdate, type IncidentUpdate } from "../../../functions/core/incident-update.js";
import { decide, escalationRun, followUp } from "../../../functions/core/lifecycle.js";
import { nextRun } from "../../../functions/core/lifecycle-engine.js";
import type {
  Actor,
  CommandEvent,
  Decision,
  Effect,
  LifecycleContext,
  LifecycleEvent,
} from "../../../functions/core/lifecycle-types.js";
import type { OwedDelivery } from "../../../functions/core/notification.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { at, candidate } from "../../support/incidents.js";

/**
 * The lifecycle's table: every event in every state (PLAN-12 §3), the change as the store
 * gets it and the effects in the order the app carries them out. The states, at 09:20 on
 * an incident opened at 09:00 by a critical alert (policy `standard`: levels at 0, 15, 30
 * and 60 minutes, the first folded into step 0):
 * T triggered, its step 0 claimed; Tz snoozed until 09:50; Tz' a snooze over at 09:15, not
 * resumed yet; A acknowledged with a page to PagerDuty in flight; R resolved with a Slack
 * post in flight; ∅ none.
 */

const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));
const NOW = at(20);
const ctx: LifecycleContext = { config, now: NOW, after: scaledAfter(1) };
const dmitri: Actor = { display: "Dmitri Volkov (dmitri)", via: "slack", userId: "U0DMITRI1" };
const erin = "Erin Park (erin)";

const owed = (key: string, channelId: string, extra: Partial<OwedDelivery> = {}): OwedDelivery => ({
  key,
  step: Number(/^s(\d+)/.exec(key)![1]),
  channelId,
  kind: "trigger",
  level: 1,
  recipients: [],
  claimedAt: at(0),
  attempts: 0,
  ...extra,
});

const opened = candidate("fp-lifecycle", at(0));
const told: TimelineEvent[] = [
  { at: at(0), type: "notified", channel: "slack-incidents", level: 0 },
  { at: at(0), type: "notified", channel: "pagerduty", level: 1 },
  { at: at(0), type: "notified", channel: "email-oncall", level: 0 },
];
const T: IncidentWithTimeline = {
  ...opened,
  id: "inc-1",
  escalationStep: 1,
  level: 1,
  slackMessages: { "slack-incidents": { channel: "C0INCIDENTS", ts: "1.2" } },
  timeline: [...opened.timeline, ...told],
};
const snoozed = (at: string, until: string): TimelineEvent => ({
  at,
  type: "snoozed",
  actor: erin,
  detail: `escalation paused until ${until}`,
});
const STATES: Record<string, IncidentWithTimeline | null> = {
  T,
  Tz: { ...T, snoozedUntil: at(50), timeline: [...T.timeline, snoozed(at(10), at(50))] },
  "Tz'": { ...T, snoozedUntil: at(15), timeline: [...T.timeline, snoozed(at(5), at(15))] },
  A: {
    ...T,
    status: "acknowledged",
    acknowledgedAt: at(10),
    acknowledgedBy: "Alice Martin (alice)",
    timeline: [...T.timeline, { at: at(10), type: "acknowledged", actor: "Alice Martin (alice)" }],
    owedDeliveries: [owed("s1d0", "pagerduty")],
  },
  R: {
    ...T,
    status: "resolved",
    resolvedAt: at(12),
    resolvedBy: "alertmanager",
    slackMessages: {},
    timeline: [...T.timeline, { at: at(12), type: "resolved", actor: "alertmanager" }],
    owedDeliveries: [owed("s1d1", "slack-alerts")],
  },
  "∅": null,
};
const NAMES = Object.keys(STATES);

/** A guard, a change or an effect as one short line, so that a table row reads at a glance. */
function guardLine(update: IncidentUpdate): string {
  const g = update.guard;
  return [
    g.exists ? "exists" : "",
    g.status ? `[${g.status.map((s) => s[0]!.toUpperCase()).join(",")}]` : "",
    g.noSnoozeAt ? `noSnooze@${g.noSnoozeAt.slice(11, 16)}` : "",
    g.snoozeOverAt ? `snoozeOver@${g.snoozeOverAt.slice(11, 16)}` : "",
    g.stepUnclaimed !== undefined ? `unclaimed:${g.stepUnclaimed}` : "",
  ]
    .filter(Boolean)
    .join(" ");
}
const hhmm = (iso: string | null | undefined) => (iso ? iso.slice(11, 16) : String(iso));
function updateLine(update: IncidentUpdate): string {
  const set = Object.entries(update.set ?? {}).map(
    ([k, v]) => `${k}=${typeof v === "string" && v.includes("T") ? hhmm(v) : v}`,
  );
  return [
    guardLine(update),
    update.claimStep !== undefined ? `claim ${update.claimStep}` : "",
    set.join(" "),
    (update.append ?? []).map((e) => `+${e.type}`).join(" "),
    update.owe?.length ? `owe ${update.owe.map((o) => o.key).join(",")}` : "",
    update.settle?.length ? `settle ${update.settle.join(",")}` : "",
    update.releaseFingerprint ? "release" : "",
    update.owedState !== undefined ? `owed ${update.owedState}` : "",
    update.otherwise ? `otherwise{${updateLine(update.otherwise)}}` : "",
  ]
    .filter(Boolean)
    .join(" | ");
}
function effectLine(effect: Effect): string {
  switch (effect.type) {
    case "start_escalation":
      return `start@${hhmm(effect.dueAt)}`;
    case "stop_escalation":
      return `stop(${effect.runs})`;
    case "resume_escalation":
      return `resume(${effect.run}, step ${effect.step})@${hhmm(effect.dueAt)}`;
    case "mirror":
      return `mirror(${effect.kind}${effect.except ? ` except ${effect.except.join(",")}` : ""})`;
    case "deliver":
      return `deliver(${effect.owed.map((o) => `${o.key}:${o.channelId}`).join(",")} @level ${effect.level})`;
    case "tell_state":
      return `tell(${effect.channels.join(",")} | ${effect.owed.map((o) => o.key).join(",")}${effect.settlesState ? " | settles state" : ""})`;
    case "wait":
      return `wait(${effect.step})@${hhmm(effect.dueAt)}`;
    default:
      return effect.type;
  }
}
function line(decision: Decision): string {
  switch (decision.outcome) {
    case "refused":
      return `refused ${decision.refusal.reason}`;
    case "conflict": {
      const c = decision.conflict;
      return `conflict ${c.reason} by ${c.by} ${"until" in c ? `until ${hhmm(c.until)}` : `at ${hhmm(c.at)}`}`;
    }
    case "none":
      return `none → ${decision.effects.map(effectLine).join(", ")}`;
    case "change": {
      const { change } = decision;
      const what =
        change.kind === "fire" ? `fire ${change.candidate.id}` : updateLine(change.update);
      const otherwise = decision.otherwise
        ? ` / otherwise → ${decision.otherwise.map(effectLine).join(", ")}`
        : "";
      return `${change.kind}{${what}} → ${decision.effects.map(effectLine).join(", ")}${otherwise}`;
    }
  }
}

/** One row: an event and what it does in each state, T, Tz, Tz', A, R, ∅. */
function row(event: LifecycleEvent, context: LifecycleContext = ctx) {
  return Object.fromEntries(
    NAMES.map((name) => [name, line(decide(STATES[name]!, event, context))]),
  );
}

const ACK =
  "[T] | status=acknowledged acknowledgedAt=09:20 acknowledgedBy=Dmitri Volkov (dmitri) | +acknowledged | owed acknowledged";
const RESOLVE =
  "[T,A] | status=resolved resolvedAt=09:20 resolvedBy=Dmitri Volkov (dmitri) | +resolved | release | owed resolved";
const SNOOZE = "[T] noSnooze@09:20 | snoozedUntil=09:50 | +snoozed";
const CLAIM_2 =
  "[T] noSnooze@09:20 unclaimed:2 | claim 2 | escalationStep=2 level=2 | +escalated | owe s2d0,s2p0,s2p1";
const RECORD =
  "exists [T] | +notified | owe s2d0 | settle s2d0,s2d1 | otherwise{exists | +notified}";

/** Actors who acted elsewhere than Slack: in PagerDuty, by a signed link, by an SMS reply. */
const ELSEWHERE: Record<"pagerduty" | "link" | "sms", Actor> = {
  pagerduty: { display: "Dmitri Volkov (dmitri)", via: "pagerduty", userId: "dmitri" },
  link: { display: "Dmitri Volkov (dmitri)", via: "link", userId: "dmitri" },
  sms: { display: "Dmitri Volkov (dmitri)", via: "sms", userId: "dmitri" },
};

describe("decide: commands from PagerDuty, a link, an SMS reply", () => {
  it.each([
    ["pagerduty", " except pagerduty"],
    ["link", ""],
    ["sms", ""],
  ] as const)(
    "acknowledge via %s: as a click, its mirror not sent back where it came from",
    (via, except) => {
      expect(row({ type: "acknowledge", actor: ELSEWHERE[via] })).toEqual({
        T: `update{${ACK}} → stop(0), mirror(acknowledge${except})`,
        Tz: `update{${ACK}} → stop(1), mirror(acknowledge${except})`,
        "Tz'": `update{${ACK}} → stop(1), mirror(acknowledge${except})`,
        A: "conflict acknowledged by Alice Martin (alice) at 09:10",
        R: "conflict resolved by alertmanager at 09:12",
        "∅": "refused not_found",
      });
      const d = decide(T, { type: "acknowledge", actor: ELSEWHERE[via] }, ctx);
      expect(
        d.outcome === "change" && d.change.kind === "update" && d.change.update.append,
      ).toEqual([{ at: NOW, type: "acknowledged", actor: "Dmitri Volkov (dmitri)", via }]);
    },
  );

  it.each([
    ["pagerduty", " except pagerduty"],
    ["link", ""],
    ["sms", ""],
  ] as const)("resolve via %s: from triggered or acknowledged", (via, except) => {
    expect(row({ type: "resolve", actor: ELSEWHERE[via] })).toEqual({
      T: `update{${RESOLVE}} → stop(0), mirror(resolve${except})`,
      Tz: `update{${RESOLVE}} → stop(1), mirror(resolve${except})`,
      "Tz'": `update{${RESOLVE}} → stop(1), mirror(resolve${except})`,
      A: `update{${RESOLVE}} → stop(0), mirror(resolve${except})`,
      R: "conflict resolved by alertmanager at 09:12",
      "∅": "refused not_found",
    });
  });

  it("mirror_due after an acknowledge in PagerDuty: every channel that heard but PagerDuty", () => {
    const inPagerDuty = (state: IncidentWithTimeline, type: "acknowledged" | "resolved") => ({
      ...state,
      timeline: [
        ...state.timeline.filter((e) => e.type !== type),
        { at: at(10), type, actor: "Dmitri Volkov (dmitri)", via: "pagerduty" as const },
      ],
    });
    expect(
      line(
        decide(
          inPagerDuty(STATES.A!, "acknowledged"),
          { type: "mirror_due", kind: "acknowledge" },
          ctx,
        ),
      ),
    ).toBe("none → tell(slack-incidents | s1d0 | settles state)");
    expect(
      line(
        decide(inPagerDuty(STATES.R!, "resolved"), { type: "mirror_due", kind: "resolve" }, ctx),
      ),
    ).toBe("none → tell(slack-incidents | s1d1 | settles state)");
    // Acknowledged in PagerDuty, then resolved in Slack: PagerDuty is told the resolve.
    const thenSlack = {
      ...inPagerDuty(STATES.A!, "acknowledged"),
      status: "resolved" as const,
      resolvedAt: at(15),
      resolvedBy: "Erin Park (erin)",
    };
    thenSlack.timeline = [
      ...thenSlack.timeline,
      { at: at(15), type: "resolved", actor: "Erin Park (erin)", via: "slack" },
    ];
    expect(line(decide(thenSlack, { type: "mirror_due", kind: "resolve" }, ctx))).toBe(
      "none → tell(slack-incidents,pagerduty | s1d0 | settles state)",
    );
  });
});

describe("decide: mirror_due after a Task told a channel the state", () => {
  it("a channel told the current state since it was set is not told it again", () => {
    const toldAlready = {
      ...STATES.A!,
      timeline: [
        ...STATES.A!.timeline,
        {
          at: at(11),
          type: "notified" as const,
          channel: "pagerduty",
          level: 1,
          outcome: "delivered" as const,
          detail: "acknowledge: PagerDuty accepted acknowledge",
        },
      ],
    };
    expect(line(decide(toldAlready, { type: "mirror_due", kind: "acknowledge" }, ctx))).toBe(
      "none → tell(slack-incidents | s1d0 | settles state)",
    );
    // Resolved since: the acknowledge it heard is not the state now; it is told the resolve.
    const resolvedSince = {
      ...toldAlready,
      status: "resolved" as const,
      resolvedAt: at(12),
      resolvedBy: "Erin Park (erin)",
      timeline: [
        ...toldAlready.timeline,
        { at: at(12), type: "resolved" as const, actor: "Erin Park (erin)", via: "slack" as const },
      ],
    };
    expect(line(decide(resolvedSince, { type: "mirror_due", kind: "resolve" }, ctx))).toBe(
      "none → tell(slack-incidents,pagerduty | s1d0 | settles state)",
    );
  });
});

describe("decide: a person's deliveries around an acknowledge", () => {
  const DM = { "@dmitri": { channel: "D0DMITRI", ts: "5.6" } };
  const acked = (owedDeliveries: OwedDelivery[], slackMessages = {}): IncidentWithTimeline => ({
    ...STATES.A!,
    slackMessages: { ...STATES.A!.slackMessages, ...slackMessages },
    owedDeliveries,
  });
  const voiceLater = owed("s1p2", "@dmitri:voice", { nextAttemptAt: at(12) });
  const dmSent = owed("s1p0", "@dmitri:slack", { attempts: 1, nextAttemptAt: at(11) });
  const dmLater = owed("s2p0", "@dmitri:slack", { nextAttemptAt: at(25) });

  it("level_due after the acknowledge: every owed entry settled, only what may have been sent told", () => {
    const state = acked([voiceLater, dmSent, dmLater], DM);
    expect(line(decide(state, { type: "level_due", step: 2, dueAt: at(15) }, ctx))).toBe(
      "none → tell(@dmitri:slack | s1p2,s1p0,s2p0), end",
    );
    // The DM not posted yet (no message to edit): nothing to tell, all settled.
    expect(line(decide(acked([dmSent]), { type: "level_due", step: 2, dueAt: at(15) }, ctx))).toBe(
      "none → tell( | s1p0), end",
    );
  });

  it("mirror_due: a rule's delivery not due by the acknowledge was never sent and is not told", () => {
    expect(
      line(decide(acked([dmLater], DM), { type: "mirror_due", kind: "acknowledge" }, ctx)),
    ).toBe("none → tell(slack-incidents,pagerduty | s2p0 | settles state)");
    expect(
      line(decide(acked([dmSent], DM), { type: "mirror_due", kind: "acknowledge" }, ctx)),
    ).toBe("none → tell(slack-incidents,pagerduty,@dmitri:slack | s1p0 | settles state)");
  });

  it("a claimed rule's later delivery waits: the Task wakes for it before the next level", () => {
    const triggered = { ...T, escalationStep: 1, owedDeliveries: [] };
    const d = decide(triggered, { type: "level_due", step: 2, dueAt: at(15) }, ctx);
    expect(line(d)).toBe(
      `update{${CLAIM_2}} → deliver(s2d0:slack-incidents,s2p0:@erin:slack,s2p1:@erin:email @level 2), wait(3)@09:30 / otherwise → wait(3)@09:30`,
    );
    const voiced = parseConfig(
      readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8").replace(
        "erin: { name: Erin Walsh, email: erin@example.com, slack: U0ERIN001 }",
        'erin: { name: Erin Walsh, slack: U0ERIN001, phone: "+14155552671", rules: [{ after: 0, notify: [slack] }, { after: 2m, notify: [voice] }] }',
      ),
    );
    const withVoice = decide(
      triggered,
      { type: "level_due", step: 2, dueAt: at(15) },
      {
        ...ctx,
        config: voiced,
      },
    );
    expect(line(withVoice)).toBe(
      "update{[T] noSnooze@09:20 unclaimed:2 | claim 2 | escalationStep=2 level=2 | +escalated | owe s2d0,s2p0,s2p1} → deliver(s2d0:slack-incidents,s2p0:@erin:slack @level 2), wait(3)@09:22 / otherwise → wait(3)@09:30",
    );
  });
});

describe("decide: commands by id (a Slack click)", () => {
  it("acknowledge: from triggered (snoozed or not), stopping every run and mirroring", () => {
    expect(row({ type: "acknowledge", actor: dmitri })).toEqual({
      T: `update{${ACK}} → stop(0), mirror(acknowledge)`,
      Tz: `update{${ACK}} → stop(1), mirror(acknowledge)`,
      "Tz'": `update{${ACK}} → stop(1), mirror(acknowledge)`,
      A: "conflict acknowledged by Alice Martin (alice) at 09:10",
      R: "conflict resolved by alertmanager at 09:12",
      "∅": "refused not_found",
    });
  });

  it("resolve: from triggered or acknowledged, freeing the fingerprint", () => {
    expect(row({ type: "resolve", actor: dmitri })).toEqual({
      T: `update{${RESOLVE}} → stop(0), mirror(resolve)`,
      Tz: `update{${RESOLVE}} → stop(1), mirror(resolve)`,
      "Tz'": `update{${RESOLVE}} → stop(1), mirror(resolve)`,
      A: `update{${RESOLVE}} → stop(0), mirror(resolve)`,
      R: "conflict resolved by alertmanager at 09:12",
      "∅": "refused not_found",
    });
  });

  it("snooze: one at a time; the escalation resumes as run n+1 at the level reached", () => {
    expect(row({ type: "snooze", actor: dmitri, seconds: 1800 })).toEqual({
      T: `update{${SNOOZE}} → stop(0), resume(1, step 1)@09:50`,
      Tz: `conflict snoozed by ${erin} until 09:50`,
      "Tz'": `update{${SNOOZE}} → stop(1), resume(2, step 1)@09:50`,
      A: "conflict acknowledged by Alice Martin (alice) at 09:10",
      R: "conflict resolved by alertmanager at 09:12",
      "∅": "refused not_found",
    });
  });

  it("snooze: an incident without a policy has nothing to snooze, whatever its state", () => {
    const info = (s: IncidentWithTimeline | null) => s && { ...s, escalationPolicy: null };
    const event: CommandEvent = { type: "snooze", actor: dmitri, seconds: 1800 };
    expect(NAMES.map((name) => line(decide(info(STATES[name]!), event, ctx)))).toEqual([
      ...Array(5).fill("refused not_escalating"),
      "refused not_found",
    ]);
  });

  it("snooze: the length is scaled like every delay (local only), to whole seconds", () => {
    const decision = decide(
      T,
      { type: "snooze", actor: dmitri, seconds: 1800 },
      { ...ctx, after: scaledAfter(600) },
    );
    expect(
      decision.outcome === "change" &&
        decision.change.kind === "update" &&
        decision.change.update.set,
    ).toEqual({ snoozedUntil: "2026-11-30T09:20:03.000Z" });
    expect(decision.outcome === "change" && decision.effects).toEqual([
      { type: "stop_escalation", runs: 0 },
      { type: "resume_escalation", run: "1", step: 1, dueAt: "2026-11-30T09:20:03.000Z" },
    ]);
  });

  it("writes the timeline events the store appends, as today's", () => {
    const appended = (event: CommandEvent) => {
      const d = decide(T, event, ctx);
      return d.outcome === "change" && d.change.kind === "update" ? d.change.update.append : null;
    };
    expect(appended({ type: "acknowledge", actor: dmitri })).toEqual([
      { at: NOW, type: "acknowledged", actor: dmitri.display, via: "slack" },
    ]);
    expect(appended({ type: "resolve", actor: dmitri, detail: "fixed" })).toEqual([
      { at: NOW, type: "resolved", actor: dmitri.display, via: "slack", detail: "fixed" },
    ]);
    expect(appended({ type: "snooze", actor: dmitri, seconds: 3600 })).toEqual([
      {
        at: NOW,
        type: "snoozed",
        actor: dmitri.display,
        detail: `escalation paused until ${at(80)}`,
      },
    ]);
  });

  it("owes the new state to the channels only where someone may have heard of the incident", () => {
    const owed = (incident: IncidentWithTimeline, event: CommandEvent) => {
      const d = decide(incident, event, ctx);
      return d.outcome === "change" && d.change.kind === "update" ? d.change.update.owedState : "-";
    };
    const quiet = { ...T, channels: [], escalationPolicy: null };
    const test = { ...quiet, test: true };
    expect([T, quiet, test].map((i) => owed(i, { type: "acknowledge", actor: dmitri }))).toEqual([
      "acknowledged",
      undefined,
      "acknowledged",
    ]);
    expect([T, quiet, test].map((i) => owed(i, { type: "resolve", actor: dmitri }))).toEqual([
      "resolved",
      undefined,
      "resolved",
    ]);
    expect(owed(T, { type: "snooze", actor: dmitri, seconds: 1800 })).toBeUndefined();
  });

  it("followUp: the effects come from the incident as the write left it", () => {
    // A level claimed between the read and the snooze's write: the snooze resumes there.
    const written = {
      ...STATES["Tz'"]!,
      escalationStep: 3,
      snoozedUntil: at(50),
      timeline: [...STATES["Tz'"]!.timeline, snoozed(NOW, at(50))],
    };
    expect(
      followUp(written, { type: "snooze", actor: dmitri, seconds: 1800 }, ctx).map(effectLine),
    ).toEqual(["stop(1)", "resume(2, step 3)@09:50"]);
  });
});

describe("decide: the escalation engine's events", () => {
  it("level_due 2 (the next level, due 09:15): claimed and sent where triggered, the state told elsewhere", () => {
    expect(row({ type: "level_due", step: 2, dueAt: at(15) })).toEqual({
      T: `update{${CLAIM_2}} → deliver(s2d0:slack-incidents,s2p0:@erin:slack,s2p1:@erin:email @level 2), wait(3)@09:30 / otherwise → wait(3)@09:30`,
      // The store refuses the claim while a snooze runs (as today, the claim is asked).
      Tz: `update{${CLAIM_2}} → deliver(s2d0:slack-incidents,s2p0:@erin:slack,s2p1:@erin:email @level 2), wait(3)@09:30 / otherwise → wait(3)@09:30`,
      // A snooze over resumes at the step it reached (1); another step is claimed as usual.
      "Tz'": `update{${CLAIM_2}} → deliver(s2d0:slack-incidents,s2p0:@erin:slack,s2p1:@erin:email @level 2), wait(3)@09:30 / otherwise → wait(3)@09:30`,
      A: "none → tell(pagerduty | s1d0), end",
      // A Slack post in flight whose message is not known: nothing to update, only to settle.
      R: "none → tell( | s1d1), end",
      "∅": "none → end",
    });
  });

  it("level_due 1 and snooze_ended 1 (the resumed run): a snooze over re-fires the level reached", () => {
    const resumed =
      "update{[T] snoozeOver@09:20 | claim 1 | escalationStep=1 level=1 snoozedUntil=null escalationBaseAt=09:20 | owe s1d0,s1d1,s1p0,s1p1} → deliver(s1d0:pagerduty,s1d1:slack-incidents,s1p0:@dmitri:slack,s1p1:@dmitri:email @level 1), wait(2)@09:35 / otherwise → wait(2)@09:35";
    const claim1 =
      "update{[T] noSnooze@09:20 unclaimed:1 | claim 1 | escalationStep=1 level=1 | owe s1d0,s1d1,s1p0,s1p1} → deliver(s1d0:pagerduty,s1d1:slack-incidents,s1p0:@dmitri:slack,s1p1:@dmitri:email @level 1), wait(2)@09:20 / otherwise → wait(2)@09:20";
    const expected = {
      T: claim1,
      Tz: claim1,
      "Tz'": resumed,
      A: "none → tell(pagerduty | s1d0), end",
      R: "none → tell( | s1d1), end",
      "∅": "none → end",
    };
    expect(row({ type: "level_due", step: 1, dueAt: at(15) })).toEqual(expected);
    expect(row({ type: "snooze_ended", step: 1, dueAt: at(15) })).toEqual(expected);
  });

  it("level_due, an early run (a later attempt, before the level's time): no claim, what is due is sent", () => {
    const failed = owed("s0d0", "pagerduty", { nextAttemptAt: at(19), attempts: 2 });
    const waiting = owed("s0d1", "slack-incidents", { nextAttemptAt: at(25) });
    const early = { ...T, owedDeliveries: [failed, waiting] };
    expect(line(decide(early, { type: "level_due", step: 2, dueAt: at(10) }, ctx))).toBe(
      "none → deliver(s0d0:pagerduty @level 1), wait(2)@09:20",
    );
    // Due: the level is claimed, and sent with what earlier steps owe and is due.
    expect(line(decide(early, { type: "level_due", step: 2, dueAt: at(15) }, ctx))).toBe(
      `update{${CLAIM_2}} → deliver(s0d0:pagerduty,s2d0:slack-incidents,s2p0:@erin:slack,s2p1:@erin:email @level 2), wait(3)@09:25 / otherwise → deliver(s0d0:pagerduty @level 1), wait(3)@09:25`,
    );
  });

  it("level_due past the policy's last level: only what is owed, then the Task ends unless a later attempt waits", () => {
    const d = decide(T, { type: "level_due", step: 5, dueAt: at(80) }, ctx);
    expect(line(d)).toBe("none → wait(5)@null");
    const wait = d.outcome === "none" ? (d.effects[0] as Extract<Effect, { type: "wait" }>) : null;
    expect(nextRun(wait!, [], NOW)).toBeNull();
    expect(nextRun(wait!, [owed("s4d0", "pagerduty", { nextAttemptAt: at(21) })], NOW)).toEqual({
      step: 5,
      dueAt: at(21),
      waitSeconds: 60,
    });
    // The last level: exhausted, and no next step.
    expect(line(decide(T, { type: "level_due", step: 4, dueAt: at(60) }, ctx))).toBe(
      "update{[T] noSnooze@09:20 unclaimed:4 | claim 4 | escalationStep=4 level=4 | +escalated +exhausted | owe s4d0,s4p0,s4p1} → deliver(s4d0:slack-incidents,s4p0:@vp:slack,s4p1:@vp:email @level 4), wait(5)@null / otherwise → wait(5)@null",
    );
  });

  it("level_due of a test incident: its test is sent to what only tells, then it resolves itself", () => {
    const test = {
      ...T,
      test: true,
      escalationStep: 0,
      level: 0,
      channels: ["slack-incidents", "pagerduty", "email-oncall"],
    };
    expect(line(decide(test, { type: "level_due", step: 0, dueAt: at(0) }, ctx))).toBe(
      "update{[T] noSnooze@09:20 unclaimed:0 | claim 0 | escalationStep=0 level=0 | owe s0d0,s0d1} → deliver(s0d0:slack-incidents,s0d1:email-oncall @level 0), resolve_test, end / otherwise → resolve_test, end",
    );
  });

  it("deliveries_recorded: outcomes, settled and rewritten owed deliveries, in one guarded write", () => {
    const record = {
      events: [{ at: NOW, type: "notified" as const, channel: "slack-incidents", level: 2 }],
      owed: [owed("s2d0", "pagerduty"), owed("s2d1", "slack-incidents")],
      pending: [owed("s2d0", "pagerduty", { attempts: 1, nextAttemptAt: at(21) })],
      delivered: ["slack-incidents"],
    };
    const changed = `update{${RECORD}} →  / otherwise → tell(slack-incidents | s2d0,s2d1), end`;
    expect(row({ type: "deliveries_recorded", ...record })).toEqual({
      T: changed,
      Tz: changed,
      "Tz'": changed,
      A: changed,
      R: changed,
      "∅": "none → end",
    });
  });

  it("state_told: the outcomes, and what they settle only while the state told is still the incident's", () => {
    const event = { at: NOW, type: "notified" as const, channel: "pagerduty", level: 1 };
    const told = (status: string, owed: string) =>
      `update{exists [${status}] | +notified | settle s1d0${owed} | otherwise{exists | +notified}} → `;
    expect(
      row({ type: "state_told", events: [event], settle: ["s1d0"], settlesState: true }),
    ).toEqual({
      T: told("T", " | owed null"),
      Tz: told("T", " | owed null"),
      "Tz'": told("T", " | owed null"),
      A: told("A", " | owed null"),
      R: told("R", " | owed null"),
      "∅": "none → ",
    });
    expect(
      line(
        decide(
          STATES.A!,
          { type: "state_told", events: [event], settle: ["s1d0"], settlesState: false },
          ctx,
        ),
      ),
    ).toBe(told("A", ""));
  });

  it("step_failed: the failure recorded; a mirror given up settles the owed state while it is still that one", () => {
    const failed = (status: string) =>
      `update{exists [${status}] | +notification_failed | owed null | otherwise{exists | +notification_failed}} → `;
    expect(row({ type: "step_failed", detail: "a step failed", givenUp: false })).toEqual({
      T: "update{exists | +notification_failed} → ",
      Tz: "update{exists | +notification_failed} → ",
      "Tz'": "update{exists | +notification_failed} → ",
      A: "update{exists | +notification_failed} → ",
      R: "update{exists | +notification_failed} → ",
      "∅": "none → ",
    });
    expect(row({ type: "step_failed", detail: "given up", givenUp: true })).toEqual({
      T: failed("T"),
      Tz: failed("T"),
      "Tz'": failed("T"),
      A: failed("A"),
      R: failed("R"),
      "∅": "none → ",
    });
    const d = decide(STATES.A!, { type: "step_failed", detail: "given up", givenUp: true }, ctx);
    expect(d.outcome === "change" && d.change.kind === "update" && d.change.update.append).toEqual([
      { at: NOW, type: "notification_failed", detail: "given up" },
    ]);
  });

  it("mirror_due: the stored state is told to every channel that heard (not email) and those paged meanwhile", () => {
    const expected = {
      T: "none → ",
      Tz: "none → ",
      "Tz'": "none → ",
      A: "none → tell(slack-incidents,pagerduty | s1d0 | settles state)",
      R: "none → tell(slack-incidents,pagerduty | s1d1 | settles state)",
      "∅": "none → ",
    };
    expect(row({ type: "mirror_due", kind: "acknowledge" })).toEqual(expected);
    expect(row({ type: "mirror_due", kind: "resolve" })).toEqual(expected);
    // Nobody heard of it yet: still the mirror's, so that it settles the owed state.
    const unheard = { ...STATES.A!, timeline: opened.timeline, owedDeliveries: [] };
    expect(line(decide(unheard, { type: "mirror_due", kind: "acknowledge" }, ctx))).toBe(
      "none → tell( |  | settles state)",
    );
  });

  it("engine_lost: a triggered escalation resumes (a snoozed one when its snooze ends)", () => {
    const t = Date.parse(NOW);
    expect(row({ type: "engine_lost" })).toEqual({
      T: `none → resume(restart-${t}, step 0)@09:20`,
      Tz: `none → resume(restart-${t}, step 1)@09:50`,
      "Tz'": `none → resume(restart-${t}, step 1)@09:20`,
      A: "none → ",
      R: "none → ",
      "∅": "none → ",
    });
    const info = { ...T, channels: [], escalationPolicy: null };
    expect(line(decide(info, { type: "engine_lost" }, ctx))).toBe("none → ");
  });
});

describe("decide: alerts by fingerprint (the store finds the incident)", () => {
  const info = { ...candidate("fp-info", NOW, { channels: [], escalation: null }), id: "inc-info" };
  const fired = { ...candidate("fp-fired", NOW), id: "inc-new" };

  it("alert_fired opens the candidate, whatever state is given; it escalates unless it tells nobody", () => {
    for (const name of NAMES) {
      expect(line(decide(STATES[name]!, { type: "alert_fired", candidate: fired }, ctx))).toBe(
        "fire{fire inc-new} → start@09:20",
      );
      expect(line(decide(STATES[name]!, { type: "alert_fired", candidate: info }, ctx))).toBe(
        "fire{fire inc-info} → ",
      );
    }
  });

  it("alert_resolved resolves the fingerprint's incident; stop and mirror unless it told nobody", () => {
    for (const name of NAMES) {
      const event = { type: "alert_resolved" as const, candidate: fired, endsAt: at(19) };
      const d = decide(STATES[name]!, event, ctx);
      expect(line(d)).toBe(
        "resolve_fingerprint{[T,A] | status=resolved resolvedAt=09:20 resolvedBy=alertmanager | +resolved | owed resolved} → stop(0), mirror(resolve)",
      );
      expect(
        d.outcome === "change" && d.change.kind === "resolve_fingerprint" && d.change.update.append,
      ).toEqual([
        {
          at: NOW,
          type: "resolved",
          actor: "alertmanager",
          via: "alertmanager",
          detail: `the alert resolved at ${at(19)}`,
        },
      ]);
    }
    const d = decide(null, { type: "alert_resolved", candidate: info, endsAt: null }, ctx);
    expect(line(d)).toBe(
      "resolve_fingerprint{[T,A] | status=resolved resolvedAt=09:20 resolvedBy=alertmanager | +resolved} → ",
    );
  });

  it("episode_followed resolves the last episode's incident by id, guarded: a no-op once resolved", () => {
    for (const name of NAMES) {
      const event = { type: "episode_followed" as const, candidate: fired, previous: "inc-old" };
      const d = decide(STATES[name]!, event, ctx);
      expect(line(d)).toBe(
        "update{[T,A] | status=resolved resolvedAt=09:20 resolvedBy=alertmanager | +resolved | owed resolved} → stop(0), mirror(resolve)",
      );
      expect(d.outcome === "change" && d.change.kind === "update" && d.change.id).toBe("inc-old");
    }
    const d = decide(null, { type: "episode_followed", candidate: info, previous: "inc-old" }, ctx);
    expect(line(d)).toBe(
      "update{[T,A] | status=resolved resolvedAt=09:20 resolvedBy=alertmanager | +resolved} → ",
    );
  });

  it("followUp: from what the store answered (a retried resolve re-runs its effects)", () => {
    const answered = {
      id: "inc-1",
      status: "resolved" as const,
      channels: ["slack-alerts"],
      escalationPolicy: null,
    };
    expect(
      followUp(answered, { type: "alert_resolved", candidate: fired, endsAt: null }, ctx),
    ).toEqual([
      { type: "stop_escalation", runs: 0 },
      { type: "mirror", kind: "resolve" },
    ]);
    const test = { ...answered, channels: [], test: true };
    expect(followUp(test, { type: "alert_fired", candidate: fired }, ctx)).toEqual([
      { type: "start_escalation", dueAt: NOW },
    ]);
    expect(followUp(test, { type: "alert_resolved", candidate: fired, endsAt: null }, ctx)).toEqual(
      [],
    );
  });
});

describe("tellsAnyone, escalates, escalationRun", () => {
  it("say who hears of an incident, and how many runs its escalation had", () => {
    const of = (channels: string[], escalationPolicy: string | null, test?: boolean) => ({
      channels,
      escalationPolicy,
      test,
    });
    expect(
      [of([], null), of(["slack-alerts"], null), of([], "standard"), of([], null, true)].map(
        (i) => [tellsAnyone(i), escalates(i)],
      ),
    ).toEqual([
      [false, false],
      [true, true],
      [true, true],
      [false, true],
    ]);
    expect(escalationRun(STATES.T!)).toBe(0);
    expect(escalationRun(STATES.Tz!)).toBe(1);
  });
});

// ---- Properties over random states and events ----

const times = fc
  .integer({ min: -30, max: 90 })
  .map((m) => new Date(Date.parse(NOW) + m * 60_000).toISOString());
const owedArb = fc.record({
  key: fc.constantFrom("s0d0", "s0d1", "s1d0", "s2d0", "s2d1", "s3d0"),
  channelId: fc.constantFrom("pagerduty", "slack-incidents", "email-oncall", "slack-alerts"),
  nextAttemptAt: fc.option(times, { nil: undefined }),
});
const stateArb: fc.Arbitrary<IncidentWithTimeline | null> = fc.option(
  fc
    .record({
      status: fc.constantFrom("triggered", "acknowledged", "resolved"),
      snoozedUntil: fc.option(times, { nil: null }),
      snoozes: fc.nat(3),
      escalationStep: fc.nat(6),
      policy: fc.boolean(),
      channels: fc.subarray(["slack-incidents", "email-oncall", "slack-alerts"]),
      test: fc.boolean(),
      owed: fc.uniqueArray(owedArb, { selector: (o) => o.key, maxLength: 4 }),
    })
    .map(
      (s): IncidentWithTimeline => ({
        ...T,
        status: s.status,
        ...(s.status === "acknowledged"
          ? { acknowledgedAt: at(10), acknowledgedBy: "Alice Martin (alice)" }
          : {}),
        ...(s.status === "resolved" ? { resolvedAt: at(12), resolvedBy: "alertmanager" } : {}),
        snoozedUntil: s.snoozedUntil,
        escalationStep: s.escalationStep,
        escalationPolicy: s.policy ? "standard" : null,
        channels: s.channels,
        ...(s.test ? { test: true } : {}),
        timeline: [
          ...T.timeline,
          ...Array.from({ length: s.snoozes }, (_, i) => snoozed(at(i), at(i + 1))),
        ],
        ...(s.owed.length > 0
          ? {
              owedDeliveries: s.owed.map((o) =>
                owed(o.key, o.channelId, { nextAttemptAt: o.nextAttemptAt }),
              ),
            }
          : {}),
      }),
    ),
  { nil: null },
);
const actorArb = fc.constantFrom(dmitri, ...Object.values(ELSEWHERE));
const eventArb: fc.Arbitrary<LifecycleEvent> = fc.oneof(
  fc.record({ type: fc.constant("acknowledge" as const), actor: actorArb }),
  fc.record({ type: fc.constant("resolve" as const), actor: actorArb }),
  fc.record({
    type: fc.constant("snooze" as const),
    actor: actorArb,
    seconds: fc.constantFrom(1800, 3600, 14_400),
  }),
  fc.record({
    type: fc.constantFrom("level_due" as const, "snooze_ended" as const),
    step: fc.nat(6),
    dueAt: fc.option(times, { nil: undefined }),
  }),
  fc.record({
    type: fc.constant("mirror_due" as const),
    kind: fc.constantFrom("acknowledge" as const, "resolve" as const),
  }),
  fc.constant({ type: "engine_lost" as const }),
);
const scaleArb = fc.constantFrom(1, 60, 600);

describe("decide: properties (fast-check)", () => {
  it("stops before it mirrors or resumes; a Task's decision ends with its output", () => {
    fc.assert(
      fc.property(stateArb, eventArb, scaleArb, (state, event, timeScale) => {
        const d = decide(state, event, { ...ctx, after: scaledAfter(timeScale) });
        const lists =
          d.outcome === "change"
            ? [d.effects, d.otherwise ?? []]
            : d.outcome === "none"
              ? [d.effects]
              : [];
        for (const effects of lists) {
          const types = effects.map((e) => e.type);
          const stop = types.indexOf("stop_escalation");
          for (const later of ["mirror", "resume_escalation"] as const) {
            const i = types.indexOf(later);
            if (i >= 0 && event.type !== "engine_lost") expect(stop).toBeGreaterThanOrEqual(0);
            if (i >= 0 && stop >= 0) expect(stop).toBeLessThan(i);
          }
          if (event.type === "level_due" || event.type === "snooze_ended")
            expect(["wait", "end"]).toContain(types.at(-1));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("a refused or conflicting command writes nothing; an applied one cannot apply twice", () => {
    fc.assert(
      fc.property(
        stateArb,
        eventArb.filter((e): e is CommandEvent =>
          ["acknowledge", "resolve", "snooze"].includes(e.type),
        ),
        scaleArb,
        (state, event, timeScale) => {
          const context = { ...ctx, after: scaledAfter(timeScale) };
          const d = decide(state, event, context);
          if (d.outcome !== "change") {
            expect(d).not.toHaveProperty("change");
            expect(d).not.toHaveProperty("effects");
            return;
          }
          expect(d.change.kind).toBe("update");
          if (d.change.kind !== "update") return;
          const applied = applyUpdate(state, d.change.update);
          expect(applied.applied).toBe(true);
          // The second click finds the state changed: a conflict, never a second change.
          expect(decide(applied.incident, event, context).outcome).toBe("conflict");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a Task delivers only what was owed before or what its claim writes", () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.nat(6),
        fc.option(times, { nil: undefined }),
        (state, step, dueAt) => {
          const d = decide(state, { type: "level_due", step, dueAt }, ctx);
          const before = new Set((state?.owedDeliveries ?? []).map((o) => o.key));
          const claimed = new Set(
            d.outcome === "change" && d.change.kind === "update"
              ? (d.change.update.owe ?? []).map((o) => o.key)
              : [],
          );
          const delivered = (effects: Effect[]) =>
            effects.flatMap((e) => (e.type === "deliver" ? e.owed : []));
          if (d.outcome === "change") {
            for (const o of delivered(d.effects))
              expect(before.has(o.key) || claimed.has(o.key)).toBe(true);
            for (const o of delivered(d.otherwise ?? [])) expect(before.has(o.key)).toBe(true);
          } else if (d.outcome === "none") {
            for (const o of delivered(d.effects)) expect(before.has(o.key)).toBe(true);
          }
          // Nothing is sent before its time (a later attempt, a rule's delay).
          const all = [
            ...("effects" in d ? d.effects : []),
            ...(d.outcome === "change" ? (d.otherwise ?? []) : []),
          ];
          for (const o of delivered(all))
            expect(!o.nextAttemptAt || o.nextAttemptAt <= NOW).toBe(true);
          // Nothing is delivered once the incident stopped being triggered.
          if (state?.status !== "triggered")
            expect(d.outcome === "none" && delivered(d.effects)).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
