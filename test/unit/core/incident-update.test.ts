import { describe, expect, it } from "vitest";
import type { IncidentStatus } from "../../../functions/core/incident.js";
import {
  applyUpdate,
  type Guard,
  holds,
  type StoredIncident,
} from "../../../functions/core/incident-update.js";
import type { OwedDelivery } from "../../../functions/core/notification.js";
import { at, candidate } from "../../support/incidents.js";

const incident = (changes: Partial<StoredIncident> = {}): StoredIncident => ({
  ...candidate("fp-update", at(0)),
  ...changes,
});

const owed = (key: string, attempts = 0): OwedDelivery => ({
  key,
  step: 1,
  channelId: "slack-incidents",
  kind: "trigger",
  level: 1,
  recipients: [],
  claimedAt: at(0),
  attempts,
});

describe("holds", () => {
  const table: Array<[string, Guard, Partial<StoredIncident> | null, boolean]> = [
    ["exists, on none", { exists: true }, null, false],
    ["an empty guard, on none (updates never create)", {}, null, false],
    ["exists", { exists: true }, {}, true],
    ["status in the list", { status: ["triggered", "acknowledged"] }, {}, true],
    ["status not in the list", { status: ["acknowledged"] }, {}, false],
    ["no snooze set", { noSnoozeAt: at(5) }, { snoozedUntil: null }, true],
    ["a snooze running", { noSnoozeAt: at(5) }, { snoozedUntil: at(6) }, false],
    ["a snooze ending at that time", { noSnoozeAt: at(5) }, { snoozedUntil: at(5) }, true],
    ["a snooze over", { noSnoozeAt: at(5) }, { snoozedUntil: at(4) }, true],
    ["snooze over: none set", { snoozeOverAt: at(5) }, { snoozedUntil: null }, false],
    ["snooze over: still running", { snoozeOverAt: at(5) }, { snoozedUntil: at(6) }, false],
    ["snooze over: ends at that time", { snoozeOverAt: at(5) }, { snoozedUntil: at(5) }, true],
    ["snooze over: ended before", { snoozeOverAt: at(5) }, { snoozedUntil: at(1) }, true],
    ["no step claimed", { stepUnclaimed: 1 }, {}, true],
    ["an earlier step claimed", { stepUnclaimed: 2 }, { claimedStep: 1 }, true],
    ["that step claimed", { stepUnclaimed: 2 }, { claimedStep: 2 }, false],
    ["a later step claimed", { stepUnclaimed: 2 }, { claimedStep: 3 }, false],
    [
      "every condition at once",
      { status: ["triggered"], noSnoozeAt: at(5), stepUnclaimed: 1 },
      { claimedStep: 0 },
      true,
    ],
    [
      "one condition of several failing",
      { status: ["triggered"], noSnoozeAt: at(5), stepUnclaimed: 1 },
      { status: "acknowledged" as IncidentStatus },
      false,
    ],
  ];
  it.each(table)("%s", (_, guard, state, expected) => {
    expect(holds(guard, state === null ? null : incident(state))).toBe(expected);
  });
});

describe("applyUpdate", () => {
  it("sets fields, appends events, claims the step, leaves the rest", () => {
    const before = incident({ level: 0, escalationStep: 0 });
    const event = { at: at(1), type: "escalated" as const, level: 1 };
    const outcome = applyUpdate(before, {
      guard: { status: ["triggered"], stepUnclaimed: 1 },
      set: { level: 1, escalationStep: 1, snoozedUntil: null },
      append: [event],
      claimStep: 1,
    });
    expect(outcome).toEqual({
      applied: true,
      otherwise: false,
      incident: {
        ...before,
        level: 1,
        escalationStep: 1,
        claimedStep: 1,
        timeline: [...before.timeline, event],
      },
    });
  });

  it("changes nothing of the incident it is given", () => {
    const before = incident({ owedDeliveries: [owed("s1d0")] });
    const copy = structuredClone(before);
    applyUpdate(before, {
      guard: { exists: true },
      set: { status: "acknowledged" },
      append: [{ at: at(1), type: "acknowledged", actor: "ana" }],
      owe: [owed("s1d1")],
      settle: ["s1d0"],
      slackMessages: [{ channelId: "C1", ref: { channel: "C1", ts: "1.1" } }],
    });
    expect(before).toEqual(copy);
  });

  it("answers not applied, with the incident as it is, when the guard fails", () => {
    const before = incident({ status: "resolved" });
    expect(
      applyUpdate(before, { guard: { status: ["triggered"] }, set: { status: "acknowledged" } }),
    ).toEqual({ applied: false, incident: before });
    expect(applyUpdate(null, { guard: { exists: true } })).toEqual({
      applied: false,
      incident: null,
    });
  });

  it("applies `otherwise` when the guard fails, and says so", () => {
    const before = incident({ status: "acknowledged", owedDeliveries: [owed("s1d0")] });
    const event = { at: at(2), type: "notified" as const, channel: "slack-incidents" };
    const outcome = applyUpdate(before, {
      guard: { status: ["triggered"] },
      append: [event],
      settle: ["s1d0"],
      otherwise: { guard: { exists: true }, append: [event] },
    });
    expect(outcome).toEqual({
      applied: true,
      otherwise: true,
      incident: { ...before, timeline: [...before.timeline, event] },
    });
    expect(
      applyUpdate(null, { guard: { status: ["triggered"] }, otherwise: { guard: {} } }),
    ).toEqual({ applied: false, incident: null });
  });

  it("writes owed deliveries by key, settles others, and lists them in key order", () => {
    const before = incident({ owedDeliveries: [owed("s1d0"), owed("s1d1"), owed("s1d2")] });
    const outcome = applyUpdate(before, {
      guard: {},
      owe: [owed("s2d0"), owed("s1d1", 3), owed("s0d9")],
      // s1d1 is both settled and written: written wins (a later attempt is due).
      settle: ["s1d0", "s1d1", "nothing-owed"],
    });
    expect(outcome.incident?.owedDeliveries).toEqual([
      owed("s0d9"),
      owed("s1d1", 3),
      owed("s1d2"),
      owed("s2d0"),
    ]);
  });

  it("leaves owedDeliveries out once none is owed", () => {
    const outcome = applyUpdate(incident({ owedDeliveries: [owed("s1d0")] }), {
      guard: {},
      settle: ["s1d0"],
    });
    expect(outcome.incident).not.toHaveProperty("owedDeliveries");
  });

  it("keeps a Slack message already remembered for a channel", () => {
    const kept = { channel: "C1", ts: "1.1" };
    const outcome = applyUpdate(incident({ slackMessages: { C1: kept } }), {
      guard: {},
      slackMessages: [
        { channelId: "C1", ref: { channel: "C1", ts: "2.2" } },
        { channelId: "C2", ref: { channel: "C2", ts: "3.3" } },
        { channelId: "__proto__", ref: { channel: "C3", ts: "4.4" } },
      ],
    });
    expect(outcome.incident?.slackMessages).toEqual({
      C1: kept,
      C2: { channel: "C2", ts: "3.3" },
      ["__proto__"]: { channel: "C3", ts: "4.4" },
    });
    expect(Object.hasOwn(outcome.incident!.slackMessages, "__proto__")).toBe(true);
  });

  it("leaves a field whose value is undefined as it is", () => {
    const before = incident({ truncatedAlerts: 4 });
    const outcome = applyUpdate(before, {
      guard: {},
      set: { occurrences: 7, truncatedAlerts: undefined },
    });
    expect(outcome.incident).toMatchObject({ occurrences: 7, truncatedAlerts: 4 });
  });
});
