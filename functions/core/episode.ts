import type { Incident, IncidentStatus } from "./incident.js";

/**
 * Deduplication by fingerprint: what a store keeps per fingerprint, and the rules every
 * firing and resolve follows on it. One alert episode (a run of firings with one startsAt)
 * opens at most one incident; a late delivery of an episode already resolved opens nothing.
 * These functions are the rules; a store applies them as one conditional write each (the
 * DynamoDB store's expressions are their translation, checked by a differential test).
 */
export interface Episode {
  /** The episode open now, if any. */
  open?: OpenEpisode | undefined;
  /**
   * The last episode resolved: its incident and the sender's startsAt it had (absent on
   * episodes stored before it existed).
   */
  last?: { incidentId: string; startedAt?: string | undefined } | undefined;
}

/** An open episode and its incident's live counters (a duplicate writes only these). */
export interface OpenEpisode {
  incidentId: string;
  /** The incident is written: later firings are duplicates. Until then any firing finishes it. */
  confirmed: boolean;
  /** The incident's status as duplicates answer it: kept in step when it is acknowledged. */
  status: IncidentStatus;
  /** When the incident was opened (its createdAt); absent on episodes stored before it existed. */
  openedAt?: string | undefined;
  /** The sender's startsAt of the episode; absent on episodes stored before it existed. */
  startedAt?: string | undefined;
  occurrences?: number | undefined;
  lastSeenAt?: string | undefined;
  /** What the last delivery said of its group (Incident.truncatedAlerts). */
  truncatedAlerts?: number | undefined;
}

/** A firing delivery of an alert: its incident if it opens one, and what it says. */
export interface Firing {
  incidentId: string;
  status: IncidentStatus;
  /** When the delivery came (the candidate's createdAt). */
  at: string;
  /** The sender's startsAt. */
  startedAt: string;
  /** Absent when the delivery said nothing of its group: the value kept stays. */
  truncatedAlerts?: number | undefined;
}

/** The firing a candidate incident stands for. */
export const firingOf = (
  candidate: Pick<Incident, "id" | "status" | "createdAt" | "startedAt" | "truncatedAlerts">,
): Firing => ({
  incidentId: candidate.id,
  status: candidate.status,
  at: candidate.createdAt,
  startedAt: candidate.startedAt,
  truncatedAlerts: candidate.truncatedAlerts,
});

/**
 * A firing: counts one more occurrence of the open episode or, when none is open, opens one
 * for `firing.incidentId` (unconfirmed). Returns the episode as written; null when the
 * firing belongs to an episode already resolved (a late retry, an HA peer lagging): nothing
 * is written, a new episode starts later.
 */
export function fireEpisode(episode: Episode | null, firing: Firing): Episode | null {
  const open = episode?.open;
  const last = episode?.last;
  if (!open && last?.startedAt !== undefined && !(last.startedAt < firing.startedAt)) return null;
  return {
    ...episode,
    open: {
      incidentId: open?.incidentId ?? firing.incidentId,
      confirmed: open?.confirmed ?? false,
      status: open?.status ?? firing.status,
      openedAt: open?.openedAt ?? firing.at,
      startedAt: open?.startedAt ?? firing.startedAt,
      occurrences: (open?.occurrences ?? 0) + 1,
      lastSeenAt: firing.at,
      truncatedAlerts: firing.truncatedAlerts ?? open?.truncatedAlerts,
    },
  };
}

/** The incident of the open episode is written; null (nothing written) if it is not the open one. */
export function confirmEpisode(episode: Episode | null, incidentId: string): Episode | null {
  if (episode?.open?.incidentId !== incidentId) return null;
  return { ...episode, open: { ...episode.open, confirmed: true } };
}

/** When a detach may happen. */
export type DetachRule =
  /** The alert resolved: whatever is open, unless a later episode (a late resolve must not close it). */
  | { rule: "unlessLaterEpisode" }
  /** Someone resolved incident `incidentId`: only while it is still the one open. */
  | { rule: "whileAttached"; incidentId: string };

export const unlessLaterEpisode: DetachRule = { rule: "unlessLaterEpisode" };
export const whileAttached = (incidentId: string): DetachRule => ({
  rule: "whileAttached",
  incidentId,
});

/**
 * Detaches the open episode when `rule` holds: it becomes the last one, its startsAt (else
 * `startedAt`, the resolve's) the last resolved, and the next firing opens a new incident.
 * Returns the detached episode (with its live counters) and the episode as written; null
 * (nothing written) when the rule does not hold.
 */
export function detachEpisode(
  episode: Episode | null,
  rule: DetachRule,
  startedAt: string,
): { detached: OpenEpisode; episode: Episode } | null {
  const open = episode?.open;
  if (!open) return null;
  if (rule.rule === "whileAttached" && open.incidentId !== rule.incidentId) return null;
  if (
    rule.rule === "unlessLaterEpisode" &&
    open.startedAt !== undefined &&
    open.startedAt > startedAt
  )
    return null;
  return {
    detached: open,
    episode: { last: { incidentId: open.incidentId, startedAt: open.startedAt ?? startedAt } },
  };
}

/** The open episode's copy of its incident's status, while it is `incidentId`'s; else null. */
export function followStatus(
  episode: Episode | null,
  incidentId: string,
  status: IncidentStatus,
): Episode | null {
  if (episode?.open?.incidentId !== incidentId) return null;
  return { ...episode, open: { ...episode.open, status } };
}

/** The counters an open episode kept for its incident, `stored` standing in for those it lacks. */
export function liveCounters(
  open: OpenEpisode,
  stored: Pick<Incident, "occurrences" | "lastSeenAt">,
): Pick<Incident, "occurrences" | "lastSeenAt" | "truncatedAlerts"> {
  return {
    occurrences: open.occurrences ?? stored.occurrences,
    lastSeenAt: open.lastSeenAt ?? stored.lastSeenAt,
    ...(open.truncatedAlerts === undefined ? {} : { truncatedAlerts: open.truncatedAlerts }),
  };
}

/**
 * The incident with the live counters of its fingerprint's episode: an open incident counts
 * its duplicates there, not on itself. A resolved one, or one no longer the episode's, is as stored.
 */
export function withLiveCounters<
  T extends Pick<Incident, "id" | "status" | "occurrences" | "lastSeenAt">,
>(incident: T, episode: Episode | null | undefined): T {
  const open = episode?.open;
  if (incident.status === "resolved" || open?.incidentId !== incident.id) return incident;
  return { ...incident, ...liveCounters(open, incident) };
}
