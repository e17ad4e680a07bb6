import {
  type DetachRule,
  type Episode,
  type Firing,
  type OpenEpisode,
  withLiveCounters as withEpisodeCounters,
} from "../../core/episode.js";
import type { Incident, IncidentStatus } from "../../core/incident.js";
import { expiresAfter, type IncidentItem, toIncident } from "./incident-item.js";
import { BATCH_GET_LIMIT, type TableClient } from "./table-client.js";

/**
 * The fingerprint item: an Episode (core/episode.ts) as flat attributes, which is how items
 * have always been stored. Its writes below are the episode rules translated into one
 * conditional UpdateItem each, so that DynamoDB decides races between deliveries.
 */
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

/** The episode a fingerprint item holds. */
export function toEpisode(item: FingerprintItem | undefined): Episode | null {
  if (!item) return null;
  const open: OpenEpisode | undefined = item.openIncidentId
    ? {
        incidentId: item.openIncidentId,
        confirmed: item.committedIncidentId === item.openIncidentId,
        status: item.incidentStatus as IncidentStatus,
        openedAt: item.openedAt,
        startedAt: item.openStartedAt,
        occurrences: item.occurrences,
        lastSeenAt: item.lastSeenAt,
        truncatedAlerts: item.truncatedAlerts,
      }
    : undefined;
  const last =
    item.lastIncidentId === undefined
      ? undefined
      : { incidentId: item.lastIncidentId, startedAt: item.resolvedStartedAt };
  return { ...(open ? { open } : {}), ...(last ? { last } : {}) };
}

/** The attributes of an episode (its inverse, for tests that write items as stored). */
export function fromEpisode(episode: Episode): FingerprintItem {
  const { open, last } = episode;
  const item: Record<string, unknown> = {
    openIncidentId: open?.incidentId,
    committedIncidentId: open?.confirmed ? open.incidentId : undefined,
    incidentStatus: open?.status,
    openedAt: open?.openedAt,
    openStartedAt: open?.startedAt,
    occurrences: open?.occurrences,
    lastSeenAt: open?.lastSeenAt,
    truncatedAlerts: open?.truncatedAlerts,
    lastIncidentId: last?.incidentId,
    resolvedStartedAt: last?.startedAt,
  };
  for (const [name, value] of Object.entries(item)) if (value === undefined) delete item[name];
  return item as FingerprintItem;
}

/**
 * `fireEpisode` as one UpdateItem: counts the occurrence and, when no incident is open,
 * names `firing.incidentId` the one to open. The episode as written; null when the firing
 * belongs to an episode already resolved.
 */
export async function writeFiring(
  table: TableClient,
  fingerprint: string,
  firing: Firing,
  retentionSeconds: number,
): Promise<Episode | null> {
  // What the delivery said of its group, when it said anything (a webhook always does).
  const truncation = firing.truncatedAlerts === undefined ? "" : "truncatedAlerts = :truncated, ";
  const claimed = await table.updateIf({
    Key: fingerprintKey(fingerprint),
    UpdateExpression:
      "SET openIncidentId = if_not_exists(openIncidentId, :id), incidentStatus = if_not_exists(incidentStatus, :status), " +
      "openedAt = if_not_exists(openedAt, :now), openStartedAt = if_not_exists(openStartedAt, :startedAt), " +
      `lastSeenAt = :now, ${truncation}expiresAt = :expiresAt ADD occurrences :one`,
    // A firing delivery of an episode already resolved (a late retry, an HA peer
    // lagging) must not open a new incident: a new episode starts later.
    ConditionExpression:
      "attribute_exists(openIncidentId) OR attribute_not_exists(resolvedStartedAt) OR resolvedStartedAt < :startedAt",
    ExpressionAttributeValues: {
      ":id": firing.incidentId,
      ":status": firing.status,
      ":now": firing.at,
      ":startedAt": firing.startedAt,
      ":one": 1,
      ...(firing.truncatedAlerts === undefined ? {} : { ":truncated": firing.truncatedAlerts }),
      ":expiresAt": expiresAfter(firing.at, retentionSeconds),
    },
    ReturnValues: "ALL_NEW",
  });
  return claimed ? toEpisode(claimed.Attributes as FingerprintItem) : null;
}

/** `confirmEpisode` as one UpdateItem: later deliveries are duplicates from then on. */
export async function writeConfirm(
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

/** A DetachRule as a ConditionExpression; `:startedAt` is the detach's `startedAt`. */
function detachCondition(rule: DetachRule): {
  expression: string;
  values?: Record<string, unknown>;
} {
  switch (rule.rule) {
    case "unlessLaterEpisode":
      return {
        expression:
          "attribute_exists(openIncidentId) AND (attribute_not_exists(openStartedAt) OR openStartedAt <= :startedAt)",
      };
    case "whileAttached":
      return { expression: "openIncidentId = :id", values: { ":id": rule.incidentId } };
  }
}

/**
 * `detachEpisode` as one UpdateItem: the open incident becomes the last one, its episode's
 * startsAt (else `startedAt`) the last resolved one. The episode detached, with its live
 * counters (the item as it was); null when `rule` does not hold.
 */
export async function writeDetach(
  table: TableClient,
  fingerprint: string,
  rule: DetachRule,
  startedAt: string,
): Promise<OpenEpisode | null> {
  const condition = detachCondition(rule);
  const detached = await table.updateIf({
    Key: fingerprintKey(fingerprint),
    UpdateExpression:
      "SET lastIncidentId = openIncidentId, resolvedStartedAt = if_not_exists(openStartedAt, :startedAt) " +
      "REMOVE openIncidentId, committedIncidentId, incidentStatus, openedAt, occurrences, openStartedAt, truncatedAlerts",
    ConditionExpression: condition.expression,
    ExpressionAttributeValues: { ...condition.values, ":startedAt": startedAt },
    ReturnValues: "ALL_OLD",
  });
  return (detached && toEpisode(detached.Attributes as FingerprintItem)?.open) ?? null;
}

/** `followStatus` as one UpdateItem: the status duplicates answer, kept in step. */
export async function writeFollowStatus(
  table: TableClient,
  fingerprint: string,
  id: string,
  status: IncidentStatus,
): Promise<void> {
  await table.updateIf({
    Key: fingerprintKey(fingerprint),
    UpdateExpression: "SET incidentStatus = :status",
    ConditionExpression: "openIncidentId = :id",
    ExpressionAttributeValues: { ":id": id, ":status": status },
  });
}

export async function readEpisode(
  table: TableClient,
  fingerprint: string,
): Promise<Episode | null> {
  return toEpisode((await table.get(fingerprintKey(fingerprint))) as FingerprintItem | undefined);
}

/**
 * `withLiveCounters` for incident items: open incidents count their duplicates on the
 * fingerprint item, so those are read (one BatchGetItem per 100 fingerprints) and merged in.
 */
export async function withLiveCounters(
  table: TableClient,
  items: IncidentItem[],
): Promise<Incident[]> {
  const open = items.filter((item) => item.status !== "resolved");
  const episodes = new Map<string, Episode>();
  const keys = [...new Set(open.map((item) => item.fingerprint))].map(fingerprintKey);
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    const found = await table.batchGet(keys.slice(start, start + BATCH_GET_LIMIT));
    // Keys DynamoDB leaves unprocessed keep the counters stored on the incident item.
    for (const item of found as unknown as Array<FingerprintItem & { pk: string }>) {
      const episode = toEpisode(item);
      if (episode) episodes.set(item.pk.slice("FP#".length), episode);
    }
  }
  return items.map((item) => {
    const incident = toIncident(item);
    return withEpisodeCounters(incident, episodes.get(incident.fingerprint));
  });
}
