import { csvResponse } from "../adapters/http/csv.js";
import { json } from "../adapters/http/types.js";
import { InvalidParameterError } from "../core/errors.js";
import type { IncidentStore } from "../core/incident-store.js";
import {
  type EscalationReport,
  escalationReport,
  invalidReportRange,
  MAX_UNREACHABLE_ROWS,
  reportRange,
} from "../core/report.js";
import { reportCsv } from "./incident-csv.js";
import { clockOf, parseFormat, type ReadApiDeps, readHandler, time } from "./incidents.js";

/**
 * The most incidents one report reads (a Lambda has seconds and memory to spare for this
 * many summaries). Past it the report covers the newest ones and says `truncated`.
 */
export const MAX_REPORT_INCIDENTS = 50_000;

/**
 * `since`/`until` of a report: ISO-8601 times; the last 30 days by default. A bare date as
 * `until` means the end of that day, so `since=2026-11-01&until=2026-11-30` is all of November.
 */
export function parseReportRange(params: Record<string, string | undefined>, now: Date) {
  const since = time("since", params.since);
  let until = time("until", params.until);
  if (until && params.until && /^\d{4}-\d{2}-\d{2}$/.test(params.until)) {
    until = new Date(Date.parse(until) + 86_400_000 - 1).toISOString();
  }
  const range = reportRange({ since, until }, now);
  const invalid = invalidReportRange(range);
  if (invalid) throw new InvalidParameterError(invalid.field, invalid.message);
  return range;
}

/**
 * Reads the range's incidents (one Query on byTime, paged) and the people its levels could
 * not reach (one Query per month), and computes the report.
 */
export async function buildReport(
  store: IncidentStore,
  range: { since: string; until: string },
): Promise<EscalationReport> {
  const slice = await store.listForReport({ ...range, maxIncidents: MAX_REPORT_INCIDENTS });
  const unreachable = await store.listUnreachable({ ...range, limit: MAX_UNREACHABLE_ROWS });
  return escalationReport(slice.incidents, { ...range, truncated: slice.truncated }, unreachable);
}

/** GET /reports/escalations?since=&until=&format= */
export function escalationReportRoute(deps: ReadApiDeps) {
  return readHandler(deps, async (event) => {
    const params = event.queryStringParameters ?? {};
    const format = parseFormat(params);
    const range = parseReportRange(params, clockOf(deps)());
    const report = await buildReport(deps.store, range);
    if (format === "json") return json(200, report);
    const name = `tocsin-escalations-${range.since.slice(0, 10)}-to-${range.until.slice(0, 10)}.csv`;
    return csvResponse(name, reportCsv(report));
  });
}
