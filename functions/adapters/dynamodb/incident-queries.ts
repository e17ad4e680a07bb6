import { mayBeTestIncident, type OwedState } from "../../core/incident.js";
import type {
  IncidentPage,
  IncidentQuery,
  OwedStateRef,
  ReportSlice,
} from "../../core/incident-store.js";
import { REPORT_FIELDS, type ReportIncident } from "../../core/report.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { withLiveCounters } from "./fingerprint-item.js";
import { type IncidentItem, incidentKey } from "./incident-item.js";
import { BATCH_GET_LIMIT, type TableClient } from "./table-client.js";
import { INDEXES, OWED_STATE_INDEX } from "./table-schema.js";

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
    incidents: await markTests(table, await withLiveCounters(table, items)),
    nextCursor: startKey ? encodeCursor(listing, startKey) : null,
  };
}

/**
 * The rows with `test: true` on those that are test incidents. The indexes project the
 * summary fields as the table was made, without `test` (a projection cannot be changed in
 * place): the few rows whose title may be a test's have it read from their incident items
 * (one BatchGetItem per 100, a key left unprocessed read alone); no other row costs a read.
 */
async function markTests<T extends { id: string; title: string }>(
  table: TableClient,
  rows: T[],
): Promise<T[]> {
  const candidates = rows.filter(mayBeTestIncident).map((row) => row.id);
  if (candidates.length === 0) return rows;
  const tests = new Set<string>();
  for (let start = 0; start < candidates.length; start += BATCH_GET_LIMIT) {
    const ids = candidates.slice(start, start + BATCH_GET_LIMIT);
    const found = await table.batchGet(ids.map(incidentKey), ["id", "test"]);
    const answered = new Set(found.map((item) => item.id));
    for (const id of ids.filter((id) => !answered.has(id))) {
      const item = await table.get(incidentKey(id));
      if (item) found.push(item);
    }
    for (const item of found) if (item.test === true) tests.add(String(item.id));
  }
  return rows.map((row) => (tests.has(row.id) ? { ...row, test: true } : row));
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
  // The title too: it says which incidents may be tests (see markTests).
  const fields = [...REPORT_FIELDS, "title"];
  for (const field of fields) names[`#${field}`] = field;
  const incidents: Array<ReportIncident & { title: string }> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.query({
      IndexName: index.name,
      KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :from AND :to",
      ProjectionExpression: fields.map((field) => `#${field}`).join(", "),
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
    incidents.push(...((page.Items ?? []) as typeof incidents));
    startKey = page.LastEvaluatedKey;
  } while (startKey && incidents.length <= range.maxIncidents);
  const truncated = incidents.length > range.maxIncidents;
  const marked = await markTests(table, incidents.slice(0, range.maxIncidents));
  return { incidents: marked.map(({ title: _, ...incident }) => incident), truncated };
}

const OWED_STATES: readonly OwedState[] = ["acknowledged", "resolved"];

/**
 * Every incident with an owed state: one Query per state on the sparse OWED_STATE_INDEX,
 * which holds those incidents only. A table made before that index (a local data dir of
 * an older tocsin: dynalite cannot add an index to a table) is read by one Scan instead.
 */
export async function listOwedStates(table: TableClient): Promise<OwedStateRef[]> {
  const owed: OwedStateRef[] = [];
  const collect = (items: Record<string, unknown>[] | undefined, state?: OwedState) => {
    for (const item of items ?? []) {
      const found = state ?? (item.owedState as OwedState);
      if (String(item.pk).startsWith("INC#"))
        owed.push({ id: String(item.pk).slice("INC#".length), state: found });
    }
  };
  try {
    for (const state of OWED_STATES) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await table.query({
          IndexName: OWED_STATE_INDEX.name,
          KeyConditionExpression: "#owed = :state",
          ExpressionAttributeNames: { "#owed": OWED_STATE_INDEX.partition },
          ExpressionAttributeValues: { ":state": state },
          ExclusiveStartKey: startKey,
        });
        collect(page.Items, state);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return owed;
  } catch (error) {
    if (!isMissingIndex(error)) throw error;
    owed.length = 0;
  }
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.scan({
      FilterExpression: "attribute_exists(#owed)",
      ProjectionExpression: "pk, #owed",
      ExpressionAttributeNames: { "#owed": OWED_STATE_INDEX.partition },
      ExclusiveStartKey: startKey,
    });
    collect(page.Items);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return owed;
}

const isMissingIndex = (error: unknown) =>
  error instanceof Error &&
  error.name === "ValidationException" &&
  error.message.includes("does not have the specified index");

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
