import type { IncidentPage, IncidentQuery, ReportSlice } from "../../core/incident-store.js";
import { REPORT_FIELDS, type ReportIncident } from "../../core/report.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { withLiveCounters } from "./fingerprint-item.js";
import type { IncidentItem } from "./incident-item.js";
import type { TableClient } from "./table-client.js";
import { INDEXES } from "./table-schema.js";

/** Most queries one list page may take when filters discard most of what an index returns. */
const MAX_QUERIES_PER_PAGE = 10;

/** One page of incidents, newest first, on the index that narrows `query` most. */
export async function listIncidents(
  table: TableClient,
  query: IncidentQuery,
): Promise<IncidentPage> {
  const { index, partition, filters } = chooseIndex(query);
  const names: Record<string, string> = { "#pk": index.partition };
  const values: Record<string, unknown> = { ":pk": partition };
  let keyCondition = "#pk = :pk";
  const range =
    query.since || query.until
      ? { from: query.since ?? "", to: `${query.until ?? "9999"}\uffff` }
      : undefined;
  if (range) {
    values[":from"] = range.from;
    values[":to"] = range.to;
    names["#sk"] = index.sort;
    keyCondition += " AND #sk BETWEEN :from AND :to";
  }
  const conditions = Object.entries(filters).map(([field, value]) => {
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    return `#${field} = :${field}`;
  });
  if (query.minLevel !== undefined) {
    names["#level"] = "level";
    values[":minLevel"] = query.minLevel;
    conditions.push("#level >= :minLevel");
  }
  const items: IncidentItem[] = [];
  const listing = {
    index,
    partition,
    range,
    filters: { ...filters, ...(query.minLevel !== undefined ? { minLevel: query.minLevel } : {}) },
  };
  let startKey = query.cursor ? decodeCursor(listing, query.cursor) : undefined;
  for (let queries = 0; queries < MAX_QUERIES_PER_PAGE && items.length < query.limit; queries++) {
    const page = await table.query({
      IndexName: index.name,
      KeyConditionExpression: keyCondition,
      FilterExpression: conditions.length > 0 ? conditions.join(" AND ") : undefined,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      Limit: query.limit - items.length,
      ExclusiveStartKey: startKey,
    });
    items.push(...((page.Items ?? []) as IncidentItem[]));
    startKey = page.LastEvaluatedKey;
    if (!startKey) break;
  }
  return {
    incidents: await withLiveCounters(table, items),
    nextCursor: startKey ? encodeCursor(listing, startKey) : null,
  };
}

/**
 * One Query on byTime over the range, paged internally (each page up to 1 MB of the
 * projected fields: a few thousand incidents), newest first. No Scan, no timelines.
 */
export async function listForReport(
  table: TableClient,
  range: { since: string; until: string; maxIncidents: number },
): Promise<ReportSlice> {
  const index = INDEXES.byTime;
  const names: Record<string, string> = { "#pk": index.partition, "#sk": index.sort };
  for (const field of REPORT_FIELDS) names[`#${field}`] = field;
  const incidents: ReportIncident[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.query({
      IndexName: index.name,
      KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :from AND :to",
      ProjectionExpression: REPORT_FIELDS.map((field) => `#${field}`).join(", "),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: {
        ":pk": "INCIDENT",
        ":from": range.since,
        ":to": `${range.until}\uffff`,
      },
      ScanIndexForward: false,
      Limit: Math.min(range.maxIncidents + 1 - incidents.length, 10_000),
      ExclusiveStartKey: startKey,
    });
    incidents.push(...((page.Items ?? []) as ReportIncident[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey && incidents.length <= range.maxIncidents);
  const truncated = incidents.length > range.maxIncidents;
  return { incidents: incidents.slice(0, range.maxIncidents), truncated };
}

function chooseIndex(query: IncidentQuery) {
  const filters: Record<string, string | number> = {};
  if (query.severity) filters.severity = query.severity;
  if (query.level !== undefined) filters.level = query.level;
  if (query.status) {
    if (query.team) filters.team = query.team;
    return { index: INDEXES.byStatus, partition: `STATUS#${query.status}`, filters };
  }
  if (query.team) return { index: INDEXES.byTeam, partition: `TEAM#${query.team}`, filters };
  return { index: INDEXES.byTime, partition: "INCIDENT", filters };
}
