import { type CsvCell, toCsv } from "../adapters/http/csv.js";
import type { Incident, IncidentWithTimeline } from "../core/incident.js";
import type { DurationStats, EscalationReport, GroupStats } from "../core/report.js";
import { highestLevel, timeToAcknowledge, timeToResolve } from "../core/report.js";

const INCIDENT_HEADER = [
  "id",
  "created_at",
  "status",
  "severity",
  "team",
  "title",
  "highest_level",
  "occurrences",
  "acknowledged_at",
  "acknowledged_by",
  "seconds_to_acknowledge",
  "resolved_at",
  "resolved_by",
  "seconds_to_resolve",
  "source",
  "fingerprint",
  "runbook_url",
  "labels",
];

/** Labels as `name=value` pairs separated by `; `, sorted, readable in one cell. */
const labelCell = (labels: Incident["labels"]) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");

/** One row per incident, as the list gives them. */
export function incidentsCsv(incidents: readonly Incident[]): string {
  return toCsv(
    INCIDENT_HEADER,
    incidents.map((i) => [
      i.id,
      i.createdAt,
      i.status,
      i.severity,
      i.team,
      i.title,
      highestLevel(i),
      i.occurrences,
      i.acknowledgedAt,
      i.acknowledgedBy,
      timeToAcknowledge(i),
      i.resolvedAt,
      i.resolvedBy,
      timeToResolve(i),
      i.source,
      i.fingerprint,
      i.runbook?.url ?? null,
      labelCell(i.labels),
    ]),
  );
}

/** One row per timeline event of one incident, oldest first. */
export function timelineCsv(incident: IncidentWithTimeline): string {
  return toCsv(
    ["incident_id", "at", "type", "level", "channel", "target", "actor", "detail"],
    incident.timeline.map((e) => [
      incident.id,
      e.at,
      e.type,
      e.level ?? null,
      e.channel ?? null,
      e.target ?? null,
      e.actor ?? null,
      e.detail ?? null,
    ]),
  );
}

const REPORT_HEADER = [
  "section",
  "key",
  "incidents",
  "acknowledged",
  "resolved",
  "mtta_mean_seconds",
  "mtta_p50_seconds",
  "mtta_p90_seconds",
  "mttr_mean_seconds",
  "mttr_p50_seconds",
  "mttr_p90_seconds",
];

const stats = (s: DurationStats | null): CsvCell[] =>
  s ? [s.mean, s.p50, s.p90] : [null, null, null];
const groupRow = (section: string, g: GroupStats): CsvCell[] => [
  section,
  g.key,
  g.incidents,
  g.acknowledged,
  g.resolved,
  ...stats(g.mtta),
  ...stats(g.mttr),
];

/**
 * The report as one long table, a `section` per breakdown (overall, team, severity,
 * highest_level, reached_level, responder, day), so a spreadsheet can pivot it; a last
 * `left_out` row counts the test incidents the figures leave out.
 */
export function reportCsv(report: EscalationReport): string {
  const blank = (n: number) => Array.from({ length: n }, () => null);
  return toCsv(REPORT_HEADER, [
    groupRow("overall", report.overall),
    ...report.byTeam.map((g) => groupRow("team", g)),
    ...report.bySeverity.map((g) => groupRow("severity", g)),
    ...report.byHighestLevel.map((l) => [
      "highest_level",
      String(l.level),
      l.incidents,
      ...blank(8),
    ]),
    ...report.reachedLevel.map((l) => ["reached_level", String(l.level), l.incidents, ...blank(8)]),
    ...report.acknowledgementsByResponder.map((r) => [
      "responder",
      r.responder,
      null,
      r.acknowledgements,
      null,
      ...stats(r.mtta),
      ...blank(3),
    ]),
    ...report.perDay.map((d) => ["day", d.day, d.incidents, ...blank(8)]),
    ["left_out", "test", report.testIncidents, ...blank(8)],
  ]);
}
