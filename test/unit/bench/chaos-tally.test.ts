import { describe, expect, it } from "vitest";
import type { AcceptedAlert } from "../../../bench/chaos-alertmanager.js";
import {
  longestHealthyMs,
  type PageRecord,
  type TallyInput,
  tally,
} from "../../../bench/chaos-tally.js";
import type { IncidentWithTimeline, TimelineEvent } from "../../../functions/core/incident.js";
import { candidate } from "../../support/incidents.js";

const T0 = Date.parse("2026-11-30T09:00:00.000Z");
const iso = (ms: number) => new Date(T0 + ms).toISOString();
/** Levels at 0, 7.5, 15 and 30 s: the shipped policy at time scale 120. */
const OFFSETS = [0, 7_500, 15_000, 30_000];

function incident(
  id: string,
  options: {
    fingerprint?: string;
    startedAt?: number;
    createdAt?: number;
    status?: IncidentWithTimeline["status"];
    level?: number;
    acknowledgedAt?: number;
    resolvedAt?: number;
    escalated?: Array<[level: number, at: number]>;
    /** null: an incident that does not escalate (only its alert matters). */
    policy?: null;
  } = {},
): IncidentWithTimeline {
  const opened = candidate(
    options.fingerprint ?? `fp-${id}`,
    iso(options.createdAt ?? 0),
    options.policy === null ? { escalation: null } : {},
    iso(options.startedAt ?? 0),
  );
  const escalated: TimelineEvent[] = (options.escalated ?? []).map(([level, at]) => ({
    at: iso(at),
    type: "escalated",
    level,
  }));
  return {
    ...opened,
    id,
    status: options.status ?? "triggered",
    level: options.level ?? 0,
    escalationStep: options.level ?? 0,
    acknowledgedAt: options.acknowledgedAt === undefined ? null : iso(options.acknowledgedAt),
    resolvedAt: options.resolvedAt === undefined ? null : iso(options.resolvedAt),
    timeline: [...opened.timeline, ...escalated],
  };
}

const page = (
  id: string,
  action: string,
  at: number,
  level?: number,
  status = 202,
): PageRecord => ({
  at: T0 + at,
  status,
  dedupKey: id,
  action,
  level,
});

const firing = (fingerprint: string, startedAt = 0): AcceptedAlert => ({
  fingerprint,
  startsAt: iso(startedAt),
  status: "firing",
  incidentId: null,
});

/** One incident paged at every level, left open until the end: the run as it should be. */
function wholeEscalation(id: string): Pick<TallyInput, "incidents" | "pages" | "accepted"> {
  return {
    accepted: [firing(`fp-${id}`)],
    incidents: [
      incident(id, {
        level: 4,
        escalated: [
          [2, 7_500],
          [3, 15_000],
          [4, 30_000],
        ],
      }),
    ],
    pages: OFFSETS.map((offset, i) => page(id, "trigger", offset + 100, i + 1)),
  };
}

const run = (input: Partial<TallyInput>) =>
  tally({
    accepted: [],
    incidents: [],
    pages: [],
    levelOffsetsMs: OFFSETS,
    readAt: T0 + 60_000,
    graceMs: 10_000,
    outages: [],
    ...input,
  });

describe("the chaos run's tally", () => {
  it("counts nothing for incidents paged at every level, each once, PagerDuty agreeing", () => {
    const result = run(wholeEscalation("a"));
    expect(Object.values(result.counts)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(result).toMatchObject({
      incidents: 1,
      episodes: 1,
      levelsReached: 4,
      triggersAccepted: 4,
    });
  });

  it.each([
    {
      what: "an accepted firing alert with no incident for its episode",
      input: {
        accepted: [firing("fp-x", 0), firing("fp-x", 5_000)],
        incidents: [incident("x", { policy: null })],
      },
      count: "alertsLost",
      example: `fp-x ${T0 + 5_000} (answered with no incident)`,
    },
    {
      what: "an accepted resolve whose incident is still open",
      input: {
        accepted: [firing("fp-r"), { ...firing("fp-r"), status: "resolved" as const }],
        incidents: [incident("r", { policy: null })],
      },
      count: "resolvesLost",
    },
    {
      what: "two incidents for one episode",
      input: {
        accepted: [firing("fp-d")],
        incidents: [
          incident("d1", { fingerprint: "fp-d", status: "resolved", resolvedAt: 0, policy: null }),
          incident("d2", { fingerprint: "fp-d", status: "resolved", resolvedAt: 0, policy: null }),
        ],
      },
      count: "incidentsDuplicated",
      example: "d2",
    },
    {
      what: "two open incidents for one fingerprint (two episodes)",
      input: {
        incidents: [
          incident("o1", { fingerprint: "fp-o", policy: null }),
          incident("o2", { fingerprint: "fp-o", startedAt: 9_000, createdAt: 9_000, policy: null }),
        ],
      },
      count: "incidentsDuplicated",
      example: "o2",
    },
    {
      what: "a level reached (escalated) that PagerDuty never accepted a trigger for",
      input: {
        incidents: [
          incident("n", {
            level: 2,
            escalated: [[2, 7_500]],
            status: "resolved",
            resolvedAt: 20_000,
          }),
        ],
        pages: [
          page("n", "trigger", 100, 1),
          page("n", "trigger", 7_600, 2, 429),
          page("n", "resolve", 20_100),
        ],
      },
      count: "levelsNeverDelivered",
      example: "n level 2",
    },
    {
      what: "the first level, reached (level 1) but never paged",
      input: {
        incidents: [incident("f", { level: 1, status: "resolved", resolvedAt: 12_000 })],
      },
      count: "levelsNeverDelivered",
      example: "f level 1",
    },
    {
      what: "a level due while the incident was open, never escalated to",
      input: {
        incidents: [incident("s", { level: 1, status: "acknowledged", acknowledgedAt: 20_000 })],
        pages: [page("s", "trigger", 100, 1), page("s", "acknowledge", 20_100)],
      },
      count: "levelsNeverReached",
      example: "s level 2",
    },
    {
      what: "an acknowledged incident whose last PagerDuty event is a trigger",
      input: {
        incidents: [incident("w", { level: 1, status: "acknowledged", acknowledgedAt: 5_000 })],
        pages: [page("w", "trigger", 5_200, 1)],
      },
      count: "pagerDutyStateWrong",
    },
  ] as const)("counts $what", ({ input, count, ...rest }) => {
    const result = run(input);
    expect(result.counts[count]).toBe(1);
    const others = Object.entries(result.counts).filter(
      ([key, n]) => key !== count && n > 0 && key !== "pagesAfterAcknowledge",
    );
    expect(others).toEqual([]);
    if ("example" in rest) expect(result.examples[count]?.[0]).toContain(rest.example);
  });

  it("counts a new episode joining the open incident as covered, and one answered by a resolved incident as lost", () => {
    const open = incident("j", { policy: null });
    const joined = { ...firing("fp-j", 9_000), incidentId: "j" };
    expect(run({ accepted: [firing("fp-j"), joined], incidents: [open] }).counts.alertsLost).toBe(
      0,
    );

    // The late-firing answer: the older episode's incident, already resolved, nothing opened.
    const closed = incident("k", { policy: null, status: "resolved", resolvedAt: 5_000 });
    const late = { ...firing("fp-k", 9_000), incidentId: "k" };
    const resolved = { ...firing("fp-k"), status: "resolved" as const };
    const result = run({ accepted: [firing("fp-k"), resolved, late], incidents: [closed] });
    expect(result.counts.alertsLost).toBe(1);
    expect(result.examples.alertsLost?.[0]).toBe(`fp-k ${T0 + 9_000} (answered with k)`);
    // Its own resolve accepted later: the episode lived and ended while tocsin had it closed.
    const resolvedToo = { ...late, status: "resolved" as const };
    expect(
      run({ accepted: [firing("fp-k"), resolved, late, resolvedToo], incidents: [closed] }).counts
        .alertsLost,
    ).toBe(0);
  });

  it("expects a resolve to close the incident of an earlier episode whose firing it never heard", () => {
    // Episode 1 flapped: its firing was never accepted, only its resolve.
    const resolveOnly = { ...firing("fp-e", 9_000), status: "resolved" as const };
    const left = incident("e", { policy: null });
    expect(
      run({ accepted: [firing("fp-e"), resolveOnly], incidents: [left] }).counts,
    ).toMatchObject({ alertsLost: 0, resolvesLost: 1 });
    const closed = { ...left, status: "resolved" as const, resolvedAt: iso(10_000) };
    expect(
      run({ accepted: [firing("fp-e"), resolveOnly], incidents: [closed] }).counts,
    ).toMatchObject({ alertsLost: 0, resolvesLost: 0 });
  });

  it("counts a repeated trigger for one level (harmless at PagerDuty) and a page sent after the acknowledge", () => {
    const base = wholeEscalation("t");
    const result = run({
      ...base,
      incidents: [{ ...base.incidents[0]!, status: "acknowledged", acknowledgedAt: iso(31_000) }],
      pages: [
        ...base.pages,
        page("t", "trigger", 30_200, 4),
        page("t", "trigger", 31_500, 4),
        page("t", "acknowledge", 31_600),
      ],
    });
    expect(result.counts.pagesDeliveredTwice).toBe(2);
    expect(result.counts.pagesAfterAcknowledge).toBe(1);
    expect(result.counts.pagerDutyStateWrong).toBe(0);
  });

  it("owes nothing for a level that fell due or was reached within the grace before an acknowledge", () => {
    // Level 2 fell due at 7.5 s; acknowledged at 12 s: within the 10 s grace, so not owed.
    const unreached = incident("g1", { level: 1, status: "acknowledged", acknowledgedAt: 12_000 });
    // Level 2 reached at 8 s, the server killed before the page, acknowledged at 15 s.
    const undelivered = incident("g2", {
      level: 2,
      escalated: [[2, 8_000]],
      status: "acknowledged",
      acknowledgedAt: 15_000,
    });
    const result = run({
      incidents: [unreached, undelivered],
      pages: [
        page("g1", "trigger", 100, 1),
        page("g1", "acknowledge", 12_100),
        page("g2", "trigger", 100, 1),
        page("g2", "acknowledge", 15_100),
      ],
    });
    expect(result.counts.levelsNeverReached).toBe(0);
    expect(result.counts.levelsNeverDelivered).toBe(0);
  });

  it("owes a level only once the service was healthy for the grace after it fell due", () => {
    // Level 2 due at 7.5 s; the server down from 8 to 20 s; acknowledged at 25 s: 5.5 s healthy.
    const outage = incident("out", { level: 1, status: "acknowledged", acknowledgedAt: 25_000 });
    const pages = [page("out", "trigger", 100, 1), page("out", "acknowledge", 25_100)];
    expect(
      run({ incidents: [outage], pages, outages: [{ from: T0 + 8_000, to: T0 + 20_000 }] }).counts
        .levelsNeverReached,
    ).toBe(0);
    // Without the outage, levels 2 (due 7.5 s) and 3 (due 15 s) were owed.
    expect(run({ incidents: [outage], pages }).counts.levelsNeverReached).toBe(2);
  });

  it("measures the longest healthy stretch between overlapping outages", () => {
    const outages = [
      { from: 10, to: 20 },
      { from: 15, to: 30 },
      { from: 50, to: 60 },
    ];
    expect(longestHealthyMs(0, 100, outages)).toBe(40);
    expect(longestHealthyMs(25, 55, outages)).toBe(20);
    expect(longestHealthyMs(12, 28, outages)).toBe(0);
    expect(longestHealthyMs(0, 45, [{ from: 5, to: 6 }, ...outages])).toBe(15);
    expect(longestHealthyMs(40, 30, outages)).toBe(0);
  });

  it("owes nothing when the healthy time after a level fell due came only in slivers", () => {
    // Level 2 due at 7.5 s; acknowledged at 30 s; 4 s healthy at a time between outages.
    const outages = [8_000, 14_000, 20_000, 26_000].map((from) => ({
      from: T0 + from,
      to: T0 + from + 2_000,
    }));
    const slivers = incident("sl", { level: 1, status: "acknowledged", acknowledgedAt: 30_000 });
    const pages = [page("sl", "trigger", 100, 1), page("sl", "acknowledge", 30_100)];
    expect(run({ incidents: [slivers], pages, outages }).counts.levelsNeverReached).toBe(0);
  });

  it("owes nothing before the incident was written, though it is dated by its first claim", () => {
    // Claimed at 0 s by a delivery that failed; written by a retry at 25 s; acknowledged at 30 s.
    const late = incident("w2", { level: 1, status: "acknowledged", acknowledgedAt: 30_000 });
    late.timeline[0]!.at = iso(25_000);
    const pages = [page("w2", "trigger", 25_500, 1), page("w2", "acknowledge", 30_100)];
    expect(run({ incidents: [late], pages }).counts.levelsNeverReached).toBe(0);
    late.timeline[0]!.at = iso(0);
    expect(run({ incidents: [late], pages }).counts.levelsNeverReached).toBe(2);
  });

  it("does not count levels that fall due within the grace before the end of the run", () => {
    const late = incident("late", { createdAt: 40_000, level: 2, escalated: [[2, 47_500]] });
    const result = run({
      incidents: [late],
      pages: [page("late", "trigger", 40_100, 1), page("late", "trigger", 47_600, 2)],
    });
    // Level 3 at 55 s and level 4 at 70 s: the run was read at 60 s.
    expect(result.counts.levelsNeverReached).toBe(0);
  });
});
