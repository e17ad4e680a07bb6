import { describe, expect, it } from "vitest";
import {
  confirmEpisode,
  detachEpisode,
  type Episode,
  type Firing,
  fireEpisode,
  followStatus,
  type OpenEpisode,
  unlessLaterEpisode,
  whileAttached,
  withLiveCounters,
} from "../../../functions/core/episode.js";
import { at } from "../../support/incidents.js";

const open = (changes: Partial<OpenEpisode> = {}): OpenEpisode => ({
  incidentId: "inc-1",
  confirmed: true,
  status: "triggered",
  openedAt: at(0),
  startedAt: at(0),
  occurrences: 2,
  lastSeenAt: at(1),
  ...changes,
});
const firing = (changes: Partial<Firing> = {}): Firing => ({
  incidentId: "inc-new",
  status: "triggered",
  at: at(5),
  startedAt: at(0),
  ...changes,
});

describe("fireEpisode", () => {
  it("opens an unconfirmed episode for the firing's incident when none is open", () => {
    expect(fireEpisode(null, firing({ truncatedAlerts: 3 }))).toEqual({
      open: {
        incidentId: "inc-new",
        confirmed: false,
        status: "triggered",
        openedAt: at(5),
        startedAt: at(0),
        occurrences: 1,
        lastSeenAt: at(5),
        truncatedAlerts: 3,
      },
    });
  });

  it("counts a duplicate on the open episode, its incident and times kept", () => {
    const before: Episode = { open: open({ status: "acknowledged", truncatedAlerts: 2 }) };
    expect(fireEpisode(before, firing())).toEqual({
      open: open({ status: "acknowledged", occurrences: 3, lastSeenAt: at(5), truncatedAlerts: 2 }),
    });
    // A delivery that says its group was whole says so.
    expect(fireEpisode(before, firing({ truncatedAlerts: 0 }))?.open?.truncatedAlerts).toBe(0);
  });

  const last = { incidentId: "inc-0", startedAt: at(3) };
  const table: Array<[string, string, boolean]> = [
    ["an earlier episode's late firing", at(2), false],
    ["the resolved episode's own late firing", at(3), false],
    ["a later episode", at(4), true],
  ];
  it.each(table)("after a resolve: %s opens %s", (_, startedAt, opens) => {
    const after = fireEpisode({ last }, firing({ startedAt }));
    expect(after === null).toBe(!opens);
    if (after) expect(after).toMatchObject({ last, open: { incidentId: "inc-new", startedAt } });
  });

  it("opens after a resolve stored before episodes kept their startsAt", () => {
    expect(fireEpisode({ last: { incidentId: "inc-0" } }, firing())?.open?.incidentId).toBe(
      "inc-new",
    );
  });
});

describe("confirmEpisode and followStatus", () => {
  it("change only the open episode of that incident", () => {
    const unconfirmed: Episode = { open: open({ confirmed: false }) };
    expect(confirmEpisode(unconfirmed, "inc-1")).toEqual({ open: open() });
    expect(confirmEpisode(unconfirmed, "inc-2")).toBeNull();
    expect(confirmEpisode({ last: { incidentId: "inc-1" } }, "inc-1")).toBeNull();
    expect(followStatus({ open: open() }, "inc-1", "acknowledged")).toEqual({
      open: open({ status: "acknowledged" }),
    });
    expect(followStatus({ open: open() }, "inc-2", "acknowledged")).toBeNull();
    expect(followStatus(null, "inc-1", "acknowledged")).toBeNull();
  });
});

describe("detachEpisode", () => {
  const table: Array<[string, Episode | null, Parameters<typeof detachEpisode>[1], boolean]> = [
    ["nothing stored", null, unlessLaterEpisode, false],
    ["nothing open", { last: { incidentId: "inc-0" } }, unlessLaterEpisode, false],
    ["the episode open", { open: open() }, unlessLaterEpisode, true],
    ["a later episode open", { open: open({ startedAt: at(9) }) }, unlessLaterEpisode, false],
    [
      "one stored without its startsAt",
      { open: open({ startedAt: undefined }) },
      unlessLaterEpisode,
      true,
    ],
    ["while attached", { open: open() }, whileAttached("inc-1"), true],
    ["another incident attached", { open: open() }, whileAttached("inc-2"), false],
  ];
  it.each(table)("%s: detaches %s", (_, before, rule, detaches) => {
    const result = detachEpisode(before, rule, at(5));
    expect(result !== null).toBe(detaches);
    if (result) {
      expect(result.detached).toEqual(before!.open);
      expect(result.episode).toEqual({
        last: { incidentId: "inc-1", startedAt: before!.open!.startedAt ?? at(5) },
      });
    }
  });
});

describe("withLiveCounters", () => {
  const incident = { id: "inc-1", status: "triggered" as const, occurrences: 1, lastSeenAt: at(0) };
  it("takes an open incident's counters from its episode", () => {
    expect(withLiveCounters(incident, { open: open({ truncatedAlerts: 4 }) })).toEqual({
      ...incident,
      occurrences: 2,
      lastSeenAt: at(1),
      truncatedAlerts: 4,
    });
  });
  it("leaves a resolved incident, or one not the episode's, as stored", () => {
    const resolved = { ...incident, status: "resolved" as const };
    expect(withLiveCounters(resolved, { open: open() })).toEqual(resolved);
    expect(withLiveCounters(incident, { open: open({ incidentId: "inc-2" }) })).toEqual(incident);
    expect(withLiveCounters(incident, null)).toEqual(incident);
  });
});
