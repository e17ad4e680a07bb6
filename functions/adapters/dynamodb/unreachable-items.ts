import type { UnreachableEntry } from "../../core/incident-store.js";
import { expiresAfter } from "./incident-item.js";
import type { TableClient } from "./table-client.js";

/**
 * People a level could not reach, as the escalation report reads them: one item each under
 * the month they were found (`UNREACH#2026-11`), sorted by time, incident, level and person,
 * so that a report Queries one partition per month of its range and a second write of the
 * same entry is the same item. Kept as long as incidents (TTL).
 */
const partition = (at: string) => `UNREACH#${at.slice(0, 7)}`;
const sortKey = (e: UnreachableEntry) => `${e.at}#${e.incidentId}#${e.level}#${e.userId}`;

/** One PutItem per entry. */
export async function putUnreachable(
  table: TableClient,
  entries: readonly UnreachableEntry[],
  retentionSeconds: number,
): Promise<void> {
  for (const entry of entries) {
    await table.putIf({
      Item: {
        pk: partition(entry.at),
        sk: sortKey(entry),
        ...entry,
        expiresAt: expiresAfter(entry.at, retentionSeconds),
      },
    });
  }
}

/** The months from `until`'s back to `since`'s, as `yyyy-mm`, newest first. */
function monthsBack(since: string, until: string): string[] {
  const months: string[] = [];
  let year = Number(until.slice(0, 4));
  let month = Number(until.slice(5, 7));
  const first = since.slice(0, 7);
  for (let guard = 0; guard < 1200; guard++) {
    const key = `${year}-${String(month).padStart(2, "0")}`;
    if (key < first) break;
    months.push(key);
    month -= 1;
    if (month === 0) {
      month = 12;
      year -= 1;
    }
  }
  return months;
}

/** Entries found in [since, until], newest first, at most `limit`: a Query per month. */
export async function listUnreachable(
  table: TableClient,
  range: { since: string; until: string; limit: number },
): Promise<UnreachableEntry[]> {
  const found: UnreachableEntry[] = [];
  for (const month of monthsBack(range.since, range.until)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await table.query({
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: {
          ":pk": `UNREACH#${month}`,
          ":from": range.since,
          ":to": `${range.until}\uffff`,
        },
        ScanIndexForward: false,
        Limit: range.limit - found.length,
        ExclusiveStartKey: startKey,
      });
      for (const item of page.Items ?? []) {
        const { at, incidentId, team, level, userId, reason } = item as UnreachableEntry;
        found.push({ at, incidentId, team, level, userId, reason });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && found.length < range.limit);
    if (found.length >= range.limit) break;
  }
  return found;
}
