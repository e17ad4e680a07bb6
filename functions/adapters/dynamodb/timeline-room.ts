import { utf8Length } from "../../core/alert-size.js";
import type { TimelineEvent } from "../../core/incident.js";
import { incidentKey } from "./incident-item.js";
import type { TableClient } from "./table-client.js";

/**
 * What the incident item is cut back to when its timeline has filled DynamoDB's 400 KB item:
 * a quarter of the item is then free for what comes next.
 */
const COMPACTED_BYTES = 300 * 1024;

/** The note the first event carries once older events were removed. */
const NOTE =
  / \(\d+ older timeline events removed to keep the incident within DynamoDB's 400 KB item\)$/;
const note = (removed: number) =>
  ` (${removed} older timeline events removed to keep the incident within DynamoDB's 400 KB item)`;

/** DynamoDB's refusal of a write that would make an item larger than 400 KB. */
export function isItemTooLarge(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === "ValidationException" &&
    /exceeded the maximum allowed size/.test(error.message)
  );
}

/**
 * Runs a write that appends to incident `id`'s timeline; if DynamoDB refuses it because the
 * item would pass 400 KB (a long escalation, repeats and retries all recorded), removes the
 * timeline's oldest events but the first, notes how many on that first event, and writes
 * again. Without it every later step of the escalation, its pages and its failure record
 * included, would be refused for good.
 */
export async function withTimelineRoom<T>(
  table: TableClient,
  id: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isItemTooLarge(error)) throw error;
    await compactTimeline(table, id);
    return write();
  }
}

async function compactTimeline(table: TableClient, id: string): Promise<void> {
  // Each try reads the item and replaces its timeline only if nothing was appended since.
  for (let attempt = 0; attempt < 3; attempt++) {
    const item = await table.get(incidentKey(id));
    const timeline = item?.timeline as TimelineEvent[] | undefined;
    if (!item || !timeline || timeline.length < 3) return;
    let excess = utf8Length(JSON.stringify(item)) - COMPACTED_BYTES;
    let removed = 0;
    // The first event (triggered) and the last stay whatever their size.
    while ((excess > 0 || removed === 0) && removed < timeline.length - 2) {
      excess -= utf8Length(JSON.stringify(timeline[1 + removed])) + 1;
      removed++;
    }
    const first = timeline[0]!;
    const before = Number(NOTE.exec(first.detail ?? "")?.[0].match(/\d+/)?.[0] ?? 0);
    const kept = [
      { ...first, detail: `${(first.detail ?? "").replace(NOTE, "")}${note(before + removed)}` },
      ...timeline.slice(1 + removed),
    ];
    const written = await table.updateIf({
      Key: incidentKey(id),
      UpdateExpression: "SET #timeline = :kept",
      ConditionExpression: "size(#timeline) = :length",
      ExpressionAttributeNames: { "#timeline": "timeline" },
      ExpressionAttributeValues: { ":kept": kept, ":length": timeline.length },
    });
    if (written) return;
  }
}
