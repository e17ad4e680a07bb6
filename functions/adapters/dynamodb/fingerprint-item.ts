import type { Incident, IncidentWithTimeline } from "../../core/incident.js";
import { expiresAfter, type IncidentItem, toIncident } from "./incident-item.js";
import { BATCH_GET_LIMIT, type TableClient } from "./table-client.js";

/** The fingerprint item: which incident is open for it, and that incident's live counters. */
export interface FingerprintItem {
  openIncidentId?: string;
  /** Set once the incident item is written; differs from openIncidentId while creation is under way. */
  committedIncidentId?: string;
  incidentStatus?: string;
  openedAt?: string;
  lastSeenAt?: string;
  occurrences?: number;
  /** What the last delivery said of its group (Incident.truncatedAlerts). */
  truncatedAlerts?: number;
  lastIncidentId?: string;
  /** The sender's startsAt of the open alert episode, and of the last resolved one. */
  openStartedAt?: string;
  resolvedStartedAt?: string;
}

export const fingerprintKey = (fingerprint: string) => ({ pk: `FP#${fingerprint}`, sk: "FP" });

/**
 * A firing delivery in one UpdateItem: counts the occurrence and, when no incident is open,
 * names `candidate` the one to open. Returns the item as written; undefined when the delivery
 * belongs to an episode already resolved.
 */
export async function claimFingerprint(
  table: TableClient,
  candidate: IncidentWithTimeline,
  retentionSeconds: number,
): Promise<FingerprintItem | undefined> {
  // What the delivery said of its group, when it said anything (a webhook always does).
  const truncation =
    candidate.truncatedAlerts === undefined ? "" : "truncatedAlerts = :truncated, ";
  const claimed = await table.updateIf({
    Key: fingerprintKey(candidate.fingerprint),
    UpdateExpression:
      "SET openIncidentId = if_not_exists(openIncidentId, :id), incidentStatus = if_not_exists(incidentStatus, :status), " +
      "openedAt = if_not_exists(openedAt, :now), openStartedAt = if_not_exists(openStartedAt, :startedAt), " +
      `lastSeenAt = :now, ${truncation}expiresAt = :expiresAt ADD occurrences :one`,
    // A firing delivery of an episode already resolved (a late retry, an HA peer
    // lagging) must not open a new incident: a new episode starts later.
    ConditionExpression:
      "attribute_exists(openIncidentId) OR attribute_not_exists(resolvedStartedAt) OR resolvedStartedAt < :startedAt",
    ExpressionAttributeValues: {
      ":id": candidate.id,
      ":status": candidate.status,
      ":now": candidate.createdAt,
      ":startedAt": candidate.startedAt,
      ":one": 1,
      ...(candidate.truncatedAlerts === undefined
        ? {}
        : { ":truncated": candidate.truncatedAlerts }),
      ":expiresAt": expiresAfter(candidate.createdAt, retentionSeconds),
    },
    ReturnValues: "ALL_NEW",
  });
  return claimed && (claimed.Attributes as FingerprintItem);
}

/** Marks the open incident's item as written: later deliveries are duplicates from then on. */
export async function commitFingerprint(
  table: TableClient,
  fingerprint: string,
  id: string,
): Promise<void> {
  // A failed condition means resolved meanwhile: nothing left to commit.
  await table.updateIf({
    Key: fingerprintKey(fingerprint),
    UpdateExpression: "SET committedIncidentId = :id",
    ConditionExpression: "openIncidentId = :id",
    ExpressionAttributeValues: { ":id": id },
  });
}

/** When a detach may happen; `:startedAt` is the detach's `startedAt`. */
export interface DetachCondition {
  expression: string;
  values?: Record<string, unknown>;
}

/**
 * The alert resolved: whatever incident is open, unless it belongs to a later episode (a late
 * resolve of an earlier episode must not close the episode open now).
 */
export const unlessLaterEpisode: DetachCondition = {
  expression:
    "attribute_exists(openIncidentId) AND (attribute_not_exists(openStartedAt) OR openStartedAt <= :startedAt)",
};

/** Someone resolved incident `id`: only while it is still the one attached. */
export const whileAttached = (id: string): DetachCondition => ({
  expression: "openIncidentId = :id",
  values: { ":id": id },
});

/**
 * Detaches the open incident from its fingerprint, in one UpdateItem: it becomes the last
 * incident, its episode's startsAt (else `startedAt`) the last resolved one, and the next
 * firing opens a new incident. Returns the item as it was (with the live counters);
 * undefined when `condition` does not hold.
 */
export async function detachFingerprint(
  table: TableClient,
  fingerprint: string,
  startedAt: string,
  condition: DetachCondition,
): Promise<FingerprintItem | undefined> {
  const detached = await table.updateIf({
    Key: fingerprintKey(fingerprint),
    UpdateExpression:
      "SET lastIncidentId = openIncidentId, resolvedStartedAt = if_not_exists(openStartedAt, :startedAt) " +
      "REMOVE openIncidentId, committedIncidentId, incidentStatus, openedAt, occurrences, openStartedAt, truncatedAlerts",
    ConditionExpression: condition.expression,
    ExpressionAttributeValues: { ...condition.values, ":startedAt": startedAt },
    ReturnValues: "ALL_OLD",
  });
  return detached && (detached.Attributes as FingerprintItem);
}

/** Keeps the fingerprint's copy of the status (what duplicates answer) in step. */
export async function mirrorStatus(
  table: TableClient,
  incident: Incident,
  status: string,
): Promise<void> {
  await table.updateIf({
    Key: fingerprintKey(incident.fingerprint),
    UpdateExpression: "SET incidentStatus = :status",
    ConditionExpression: "openIncidentId = :id",
    ExpressionAttributeValues: { ":id": incident.id, ":status": status },
  });
}

export async function getFingerprint(
  table: TableClient,
  fingerprint: string,
): Promise<FingerprintItem | undefined> {
  return (await table.get(fingerprintKey(fingerprint))) as FingerprintItem | undefined;
}

/** Open incidents count their duplicates on the fingerprint item; merge those in (one BatchGet). */
export async function withLiveCounters(
  table: TableClient,
  items: IncidentItem[],
): Promise<Incident[]> {
  const open = items.filter((item) => item.status !== "resolved");
  const live = new Map<string, FingerprintItem>();
  const keys = [...new Set(open.map((item) => item.fingerprint))].map(fingerprintKey);
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    const found = await table.batchGet(keys.slice(start, start + BATCH_GET_LIMIT));
    // Keys DynamoDB leaves unprocessed keep the counters stored on the incident item.
    for (const fp of found as FingerprintItem[]) {
      if (fp.openIncidentId) live.set(fp.openIncidentId, fp);
    }
  }
  return items.map((item) => {
    const incident = toIncident(item);
    const counters = live.get(incident.id);
    return counters
      ? {
          ...incident,
          occurrences: counters.occurrences ?? incident.occurrences,
          lastSeenAt: counters.lastSeenAt ?? incident.lastSeenAt,
          ...(counters.truncatedAlerts !== undefined
            ? { truncatedAlerts: counters.truncatedAlerts }
            : {}),
        }
      : incident;
  });
}
