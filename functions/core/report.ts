import { SEVERITIES } from "./alert.js";
import type { Incident } from "./incident.js";
import type { UnreachableEntry } from "./incident-store.js";

/** What a report needs of an incident: the summary fields, never the timeline. */
export type ReportIncident = Pick<
  Incident,
  | "id"
  | "status"
  | "severity"
  | "team"
  | "level"
  | "escalationStep"
  | "createdAt"
  | "acknowledgedAt"
  | "acknowledgedBy"
  | "resolvedAt"
  | "resolvedBy"
> &
  Pick<Incident, "test">;

/**
 * The fields a report reads, for stores that can project (DynamoDB ProjectionExpression);
 * `test` besides, which a store may have to look up for the incidents that may be tests.
 */
export const REPORT_FIELDS = [
  "id",
  "status",
  "severity",
  "team",
  "level",
  "escalationStep",
  "createdAt",
  "acknowledgedAt",
  "acknowledgedBy",
  "resolvedAt",
  "resolvedBy",
] as const satisfies readonly (keyof ReportIncident)[];

/** Durations in seconds: nearest-rank percentiles, so p50 and p90 are durations that happened. */
export interface DurationStats {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
}

export interface GroupStats {
  key: string;
  incidents: number;
  acknowledged: number;
  resolved: number;
  /** Time to acknowledge: acknowledgedAt − createdAt, over acknowledged incidents. */
  mtta: DurationStats;
  /** Time to resolve: resolvedAt − createdAt, over resolved incidents. */
  mttr: DurationStats;
}

export interface EscalationReport {
  /** The range of createdAt covered, inclusive, ISO-8601 UTC. */
  since: string;
  until: string;
  /** True when the store stopped before the end of the range (the figures cover a prefix). */
  truncated: boolean;
  /**
   * Test incidents in the range (Grafana's Test button), left out of every figure below:
   * nobody was paged and each resolved itself within a second.
   */
  testIncidents: number;
  overall: GroupStats;
  byTeam: GroupStats[];
  bySeverity: GroupStats[];
  /** Incidents by the highest escalation level they reached (0: never escalated). */
  byHighestLevel: Array<{ level: number; incidents: number }>;
  /** Incidents that reached at least each level from 1: "how many escalated to level N". */
  reachedLevel: Array<{ level: number; incidents: number }>;
  acknowledgementsByResponder: Array<{
    responder: string;
    acknowledgements: number;
    mtta: DurationStats;
  }>;
  /** One entry per UTC day of the range, zeros included. */
  perDay: Array<{ day: string; incidents: number }>;
  /**
   * Who could not be reached: people a level named whom none of their contact methods
   * reached, found in the range, newest first, at most MAX_UNREACHABLE_ROWS.
   */
  unreachable: UnreachableEntry[];
}

/** The most "who could not be reached" rows a report lists. */
export const MAX_UNREACHABLE_ROWS = 500;

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Nearest-rank percentile of sorted values: the smallest value with p% of values at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function durationStats(seconds: readonly number[]): DurationStats {
  if (seconds.length === 0) return { count: 0, mean: null, p50: null, p90: null };
  const sorted = [...seconds].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, s) => sum + s, 0) / sorted.length;
  return {
    count: sorted.length,
    mean: round3(mean),
    p50: round3(percentile(sorted, 50)!),
    p90: round3(percentile(sorted, 90)!),
  };
}

/** Seconds from `from` to `to`; a clock that went backwards counts as 0, never negative. */
export function secondsBetween(from: string, to: string): number {
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

export const timeToAcknowledge = (i: ReportIncident) =>
  i.acknowledgedAt ? secondsBetween(i.createdAt, i.acknowledgedAt) : null;
export const timeToResolve = (i: ReportIncident) =>
  i.resolvedAt ? secondsBetween(i.createdAt, i.resolvedAt) : null;

/**
 * The highest level an incident's escalation reached. The stored `level` is the level of the
 * current cycle: with a repeating policy (`repeat` > 0) it starts again at 1 after the last
 * level, so for such incidents this is a lower bound. tocsin's default policies do not repeat.
 */
export const highestLevel = (i: Pick<ReportIncident, "level">) => i.level;

function groupStats(key: string, incidents: readonly ReportIncident[]): GroupStats {
  const ack = incidents.map(timeToAcknowledge).filter((s): s is number => s !== null);
  const res = incidents.map(timeToResolve).filter((s): s is number => s !== null);
  return {
    key,
    incidents: incidents.length,
    acknowledged: ack.length,
    resolved: res.length,
    mtta: durationStats(ack),
    mttr: durationStats(res),
  };
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

const byCountThenKey = <T extends { key: string; incidents: number }>(a: T, b: T) =>
  b.incidents - a.incidents || a.key.localeCompare(b.key);

const DAY_MS = 86_400_000;

/** The UTC days from `since` to `until` inclusive, as YYYY-MM-DD. */
export function daysBetween(since: string, until: string): string[] {
  const days: string[] = [];
  const first = Math.floor(Date.parse(since) / DAY_MS) * DAY_MS;
  for (let t = first; t <= Date.parse(until); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/**
 * The escalation report over incidents created in [since, until]: MTTA and MTTR overall,
 * per team and per severity, how far incidents escalated, who acknowledged, and incidents per
 * UTC day. Incidents outside the range are ignored, so a store may over-fetch; test
 * incidents are only counted, as such.
 */
export function escalationReport(
  incidents: readonly ReportIncident[],
  range: { since: string; until: string; truncated?: boolean },
  unreachable: readonly UnreachableEntry[] = [],
): EscalationReport {
  const from = Date.parse(range.since);
  const to = Date.parse(range.until);
  const covered = incidents.filter((i) => {
    const t = Date.parse(i.createdAt);
    return t >= from && t <= to;
  });
  const inRange = covered.filter((i) => !i.test);

  const teams = [...groupBy(inRange, (i) => i.team)]
    .map(([team, group]) => groupStats(team, group))
    .sort(byCountThenKey);
  const severities = groupBy(inRange, (i) => i.severity);
  const known = new Set<string>(SEVERITIES);
  const severityOrder = [
    ...SEVERITIES.filter((s) => severities.has(s)),
    ...[...severities.keys()].filter((s) => !known.has(s)).sort(),
  ];

  const levels = groupBy(inRange, (i) => String(highestLevel(i)));
  const maxLevel = Math.max(0, ...inRange.map(highestLevel));
  const byHighestLevel = [...levels]
    .map(([level, group]) => ({ level: Number(level), incidents: group.length }))
    .sort((a, b) => a.level - b.level);
  const reachedLevel = Array.from({ length: maxLevel }, (_, i) => ({
    level: i + 1,
    incidents: inRange.filter((incident) => highestLevel(incident) >= i + 1).length,
  }));

  const acknowledged = inRange.filter((i) => i.acknowledgedAt && i.acknowledgedBy);
  const acknowledgementsByResponder = [...groupBy(acknowledged, (i) => i.acknowledgedBy!)]
    .map(([responder, group]) => ({
      responder,
      acknowledgements: group.length,
      mtta: durationStats(group.map((i) => timeToAcknowledge(i)!)),
    }))
    .sort(
      (a, b) => b.acknowledgements - a.acknowledgements || a.responder.localeCompare(b.responder),
    );

  const perDayCounts = new Map(daysBetween(range.since, range.until).map((day) => [day, 0]));
  for (const incident of inRange) {
    const day = incident.createdAt.slice(0, 10);
    perDayCounts.set(day, (perDayCounts.get(day) ?? 0) + 1);
  }

  return {
    since: range.since,
    until: range.until,
    truncated: range.truncated ?? false,
    testIncidents: covered.length - inRange.length,
    overall: groupStats("all", inRange),
    byTeam: teams,
    bySeverity: severityOrder.map((s) => groupStats(s, severities.get(s)!)),
    byHighestLevel,
    reachedLevel,
    acknowledgementsByResponder,
    perDay: [...perDayCounts].map(([day, count]) => ({ day, incidents: count })),
    unreachable: unreachable
      .filter((u) => Date.parse(u.at) >= from && Date.parse(u.at) <= to)
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, MAX_UNREACHABLE_ROWS),
  };
}

/** The longest range a report may cover, in days. */
export const MAX_REPORT_DAYS = 366;
export const DEFAULT_REPORT_DAYS = 30;

/** The default range: the `DEFAULT_REPORT_DAYS` days before `now` (or before/after the bound given). */
export function reportRange(
  given: { since?: string | undefined; until?: string | undefined },
  now: Date,
): { since: string; until: string } {
  const span = DEFAULT_REPORT_DAYS * DAY_MS;
  if (given.since && given.until) return { since: given.since, until: given.until };
  if (given.since) {
    return { since: given.since, until: now.toISOString() };
  }
  const until = given.until ?? now.toISOString();
  return { since: new Date(Date.parse(until) - span).toISOString(), until };
}

/** Why a report range is refused, or null when it is fine: the parameter to blame and why. */
export function invalidReportRange(range: {
  since: string;
  until: string;
}): { field: "since" | "until"; message: string } | null {
  const span = Date.parse(range.until) - Date.parse(range.since);
  if (span < 0) return { field: "since", message: "must not be after until" };
  if (span > MAX_REPORT_DAYS * DAY_MS) {
    return { field: "since", message: `the range may cover at most ${MAX_REPORT_DAYS} days` };
  }
  return null;
}
