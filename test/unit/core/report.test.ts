import { describe, expect, it } from "vitest";
import {
  daysBetween,
  durationStats,
  escalationReport,
  invalidReportRange,
  percentile,
  type ReportIncident,
  reportRange,
} from "../../../functions/core/report.js";

/** A time on 2026-11-<day> as ISO. */
const t = (day: number, hour = 9, minute = 0, second = 0) =>
  new Date(Date.UTC(2026, 10, day, hour, minute, second)).toISOString();

let ids = 0;
function incident(overrides: Partial<ReportIncident> = {}): ReportIncident {
  return {
    id: `inc-${++ids}`,
    status: "triggered",
    severity: "critical",
    team: "ml-training",
    level: 0,
    escalationStep: 0,
    createdAt: t(10),
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    ...overrides,
  };
}

describe("percentile (nearest rank)", () => {
  const cases: Array<[number[], number, number | null]> = [
    [[], 50, null],
    [[7], 50, 7],
    [[7], 90, 7],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 90, 4],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], 90, 100],
  ];
  it.each(cases)("of %j at p%i is %s", (sorted, p, expected) => {
    expect(percentile(sorted, p)).toBe(expected);
  });
});

describe("durationStats", () => {
  it.each([
    [[], { count: 0, mean: null, p50: null, p90: null }],
    [[60], { count: 1, mean: 60, p50: 60, p90: 60 }],
    [[300, 60, 120], { count: 3, mean: 160, p50: 120, p90: 300 }],
    [[1, 2], { count: 2, mean: 1.5, p50: 1, p90: 2 }],
    [[1, 1, 2], { count: 3, mean: 1.333, p50: 1, p90: 2 }],
  ])("of %j", (seconds, expected) => {
    expect(durationStats(seconds)).toEqual(expected);
  });
});

describe("escalationReport", () => {
  const range = { since: t(8, 0), until: t(12, 23, 59, 59) };

  it("measures MTTA over acknowledged and MTTR over resolved incidents, overall and by group", () => {
    // Prepare: four incidents on two teams; one acknowledged and resolved, one acknowledged
    // only, one resolved without acknowledgement, one still open.
    const incidents = [
      incident({
        team: "ml-training",
        severity: "critical",
        level: 2,
        escalationStep: 2,
        createdAt: t(10, 9, 0),
        acknowledgedAt: t(10, 9, 20),
        acknowledgedBy: "Dmitri Volkov",
        resolvedAt: t(10, 10, 0),
        resolvedBy: "Dmitri Volkov",
        status: "resolved",
      }),
      incident({
        team: "ml-training",
        severity: "high",
        level: 1,
        escalationStep: 1,
        createdAt: t(11, 9, 0),
        acknowledgedAt: t(11, 9, 5),
        acknowledgedBy: "Erin Walsh",
        status: "acknowledged",
      }),
      incident({
        team: "platform",
        severity: "warning",
        createdAt: t(11, 12, 0),
        resolvedAt: t(11, 12, 30),
        resolvedBy: "alertmanager",
        status: "resolved",
      }),
      incident({
        team: "platform",
        severity: "critical",
        level: 4,
        escalationStep: 4,
        createdAt: t(12, 1),
      }),
    ];

    // Act
    const report = escalationReport(incidents, range);

    // Assess
    expect(report.overall).toEqual({
      key: "all",
      incidents: 4,
      acknowledged: 2,
      resolved: 2,
      mtta: { count: 2, mean: 750, p50: 300, p90: 1200 },
      mttr: { count: 2, mean: 2700, p50: 1800, p90: 3600 },
    });
    expect(report.byTeam.map((g) => [g.key, g.incidents, g.mtta.mean, g.mttr.mean])).toEqual([
      ["ml-training", 2, 750, 3600],
      ["platform", 2, null, 1800],
    ]);
    expect(report.bySeverity.map((g) => [g.key, g.incidents])).toEqual([
      ["critical", 2],
      ["high", 1],
      ["warning", 1],
    ]);
    expect(report.byHighestLevel).toEqual([
      { level: 0, incidents: 1 },
      { level: 1, incidents: 1 },
      { level: 2, incidents: 1 },
      { level: 4, incidents: 1 },
    ]);
    expect(report.reachedLevel).toEqual([
      { level: 1, incidents: 3 },
      { level: 2, incidents: 2 },
      { level: 3, incidents: 1 },
      { level: 4, incidents: 1 },
    ]);
    expect(report.acknowledgementsByResponder).toEqual([
      {
        responder: "Dmitri Volkov",
        acknowledgements: 1,
        mtta: { count: 1, mean: 1200, p50: 1200, p90: 1200 },
      },
      {
        responder: "Erin Walsh",
        acknowledgements: 1,
        mtta: { count: 1, mean: 300, p50: 300, p90: 300 },
      },
    ]);
    expect(report.perDay).toEqual([
      { day: "2026-11-08", incidents: 0 },
      { day: "2026-11-09", incidents: 0 },
      { day: "2026-11-10", incidents: 1 },
      { day: "2026-11-11", incidents: 2 },
      { day: "2026-11-12", incidents: 1 },
    ]);
    expect(report.truncated).toBe(false);
  });

  it("leaves out incidents created outside the range, bounds included", () => {
    const inside = [incident({ createdAt: range.since }), incident({ createdAt: range.until })];
    const outside = [
      incident({ createdAt: new Date(Date.parse(range.since) - 1).toISOString() }),
      incident({ createdAt: new Date(Date.parse(range.until) + 1).toISOString() }),
    ];
    expect(escalationReport([...inside, ...outside], range).overall.incidents).toBe(2);
  });

  it("leaves test incidents out of every figure, and counts them as such", () => {
    const real = incident({ resolvedAt: t(10, 10), resolvedBy: "alertmanager", level: 2 });
    // Grafana's Test button: resolved by tocsin within a second, never escalated.
    const test = incident({ resolvedAt: t(10, 9, 0, 1), resolvedBy: "tocsin", test: true });
    const outside = incident({ createdAt: t(20), test: true });

    const report = escalationReport([real, test, outside], range);

    expect(report.testIncidents).toBe(1);
    expect(report).toEqual({ ...escalationReport([real], range), testIncidents: 1 });
    expect(report.overall).toMatchObject({ incidents: 1, resolved: 1, mttr: { mean: 3600 } });
  });

  it("counts an acknowledgement stamped before creation (clock skew) as zero, never negative", () => {
    const skewed = incident({
      createdAt: t(10, 9, 0, 5),
      acknowledgedAt: t(10, 9, 0, 0),
      acknowledgedBy: "a",
    });
    expect(escalationReport([skewed], range).overall.mtta.mean).toBe(0);
  });

  it("is empty but complete for a range without incidents", () => {
    const report = escalationReport([], { since: t(1, 0), until: t(2, 23) });
    expect(report).toMatchObject({
      overall: { incidents: 0, mtta: { count: 0, mean: null }, mttr: { count: 0, mean: null } },
      byTeam: [],
      bySeverity: [],
      byHighestLevel: [],
      reachedLevel: [],
      acknowledgementsByResponder: [],
      testIncidents: 0,
      perDay: [
        { day: "2026-11-01", incidents: 0 },
        { day: "2026-11-02", incidents: 0 },
      ],
    });
  });

  it("orders teams by incidents, then by name, and passes truncation on", () => {
    const incidents = ["b", "a", "c", "c"].map((team) => incident({ team }));
    const report = escalationReport(incidents, { ...range, truncated: true });
    expect(report.byTeam.map((g) => g.key)).toEqual(["c", "a", "b"]);
    expect(report.truncated).toBe(true);
  });
});

describe("report ranges", () => {
  const now = new Date(t(30, 12));
  it.each([
    [{}, { since: "2026-10-31T12:00:00.000Z", until: t(30, 12) }],
    [{ since: t(20) }, { since: t(20), until: t(30, 12) }],
    [{ until: t(15) }, { since: "2026-10-16T09:00:00.000Z", until: t(15) }],
    [
      { since: t(1), until: t(2) },
      { since: t(1), until: t(2) },
    ],
  ])("fills %j in as the 30 days before now or a bound", (given, expected) => {
    expect(reportRange(given, now)).toEqual(expected);
  });

  it.each([
    [
      { since: t(2), until: t(1) },
      { field: "since", message: "must not be after until" },
    ],
    [
      { since: "2025-11-01T00:00:00.000Z", until: "2026-11-02T00:00:01.000Z" },
      { field: "since", message: "the range may cover at most 366 days" },
    ],
    [{ since: "2025-11-01T00:00:00.000Z", until: "2026-11-02T00:00:00.000Z" }, null],
    [{ since: t(1), until: t(1) }, null],
  ])("judges %j", (range, expected) => {
    expect(invalidReportRange(range)).toEqual(expected);
  });

  it("lists the UTC days a range touches", () => {
    expect(daysBetween("2026-11-30T23:00:00.000Z", "2026-12-02T00:30:00.000Z")).toEqual([
      "2026-11-30",
      "2026-12-01",
      "2026-12-02",
    ]);
  });
});
