import type {
  Incident,
  IncidentStatus,
  IncidentWithTimeline,
  OwedState,
  TimelineEvent,
} from "./incident.js";
import { isSnoozed } from "./incident.js";
import type { OwedDelivery, SlackMessageRef } from "./notification.js";

/**
 * An incident as a store holds it: with the last escalation step claimed, which makes a
 * retried Task harmless and is never shown (stores leave it out of what they return).
 */
export type StoredIncident = IncidentWithTimeline & { claimedStep?: number | undefined };

/**
 * When an update may happen. Every condition given must hold, and the incident must exist
 * whatever the guard says: an update never creates an incident.
 */
export interface Guard {
  /** Only that the incident exists (implied by every guard; says so when nothing else is asked). */
  exists?: true;
  /** The incident's status is one of these. */
  status?: readonly IncidentStatus[];
  /** No snooze is running at this time (ISO-8601): snoozedUntil is unset or not after it. */
  noSnoozeAt?: string;
  /** A snooze was set and is over at this time (ISO-8601): snoozedUntil is set and not after it. */
  snoozeOverAt?: string;
  /** The escalation step `stepUnclaimed` is not claimed yet: no step, or an earlier one, was. */
  stepUnclaimed?: number;
}

/** The fields an update may set. */
export type IncidentFields = Pick<
  Incident,
  | "status"
  | "acknowledgedAt"
  | "acknowledgedBy"
  | "resolvedAt"
  | "resolvedBy"
  | "snoozedUntil"
  | "escalationBaseAt"
  | "escalationStep"
  | "level"
  // The live counters an open incident kept on its fingerprint, written back when it resolves.
  | "occurrences"
  | "lastSeenAt"
  | "truncatedAlerts"
>;

/**
 * One guarded change of one incident, written by a store as one conditional write. The
 * reference semantics are `applyUpdate`'s; each store's translation must agree with it.
 */
export interface IncidentUpdate {
  guard: Guard;
  /** Fields to set; an `undefined` value leaves its field as it is. */
  set?: Partial<IncidentFields> | undefined;
  /** Timeline events appended, in order. */
  append?: readonly TimelineEvent[] | undefined;
  /** The escalation step this update claims (see Guard.stepUnclaimed). */
  claimStep?: number | undefined;
  /** Owed deliveries written as given (replacing any of the same key). */
  owe?: readonly OwedDelivery[] | undefined;
  /** Keys of owed deliveries removed (a key also in `owe` is written, not removed). */
  settle?: readonly string[] | undefined;
  /**
   * The state owed to the incident's channels (IncidentWithTimeline.owedState): recorded
   * with the acknowledge or resolve a mirror will tell, cleared (null) once all are told.
   */
  owedState?: OwedState | null | undefined;
  /** Slack messages remembered by channel id, each unless one is kept for its channel already. */
  slackMessages?: ReadonlyArray<{ channelId: string; ref: SlackMessageRef }> | undefined;
  /** PagerDuty incidents remembered by channel id (user mode), each unless one is kept already. */
  pagerDutyIncidents?: ReadonlyArray<{ channelId: string; id: string }> | undefined;
  /**
   * A resolve: the store first detaches the incident's episode from its fingerprint if it is
   * still this incident's, and carries the episode's live counters into `set`.
   */
  releaseFingerprint?: true | undefined;
  /** Applied instead when the guard fails (e.g. outcomes recorded after a state change). */
  otherwise?: IncidentUpdate | undefined;
}

export type UpdateOutcome =
  | {
      applied: true;
      incident: StoredIncident;
      /** True when `otherwise` (at some depth) was the update applied. */
      otherwise: boolean;
    }
  | { applied: false; incident: StoredIncident | null };

/** Whether `guard` holds for `incident` (null: there is none). */
export function holds(guard: Guard, incident: StoredIncident | null): incident is StoredIncident {
  if (!incident) return false;
  if (guard.status && !guard.status.includes(incident.status)) return false;
  if (guard.noSnoozeAt !== undefined && isSnoozed(incident, guard.noSnoozeAt)) return false;
  if (
    guard.snoozeOverAt !== undefined &&
    !(typeof incident.snoozedUntil === "string" && incident.snoozedUntil <= guard.snoozeOverAt)
  )
    return false;
  if (
    guard.stepUnclaimed !== undefined &&
    incident.claimedStep !== undefined &&
    incident.claimedStep >= guard.stepUnclaimed
  )
    return false;
  return true;
}

/**
 * Applies `update` to `incident` held in memory: the reference both stores agree with. Pure:
 * the incident given is not changed. When the guard fails, `otherwise` is tried.
 */
export function applyUpdate(
  incident: StoredIncident | null,
  update: IncidentUpdate,
): UpdateOutcome {
  if (!holds(update.guard, incident)) {
    if (!update.otherwise) return { applied: false, incident };
    const fallback = applyUpdate(incident, update.otherwise);
    return fallback.applied ? { ...fallback, otherwise: true } : fallback;
  }
  const next: StoredIncident = { ...incident, timeline: incident.timeline };
  for (const [field, value] of Object.entries(update.set ?? {})) {
    if (value !== undefined) (next as unknown as Record<string, unknown>)[field] = value;
  }
  if (update.append) next.timeline = [...incident.timeline, ...update.append];
  if (update.claimStep !== undefined) next.claimedStep = update.claimStep;
  const owed = withOwed(incident.owedDeliveries ?? [], update.owe ?? [], update.settle ?? []);
  if (owed.length > 0) next.owedDeliveries = owed;
  else delete next.owedDeliveries;
  if (update.owedState === null) delete next.owedState;
  else if (update.owedState !== undefined) next.owedState = update.owedState;
  for (const { channelId, ref } of update.slackMessages ?? []) {
    if (!Object.hasOwn(next.slackMessages, channelId))
      next.slackMessages = { ...next.slackMessages, [channelId]: ref };
  }
  for (const { channelId, id } of update.pagerDutyIncidents ?? []) {
    const kept = next.pagerDutyIncidents ?? {};
    if (!Object.hasOwn(kept, channelId)) next.pagerDutyIncidents = { ...kept, [channelId]: id };
  }
  return { applied: true, incident: next, otherwise: false };
}

/** Owed deliveries after writing `owe` and settling `settle`, in key order (as stores list them). */
function withOwed(
  owed: readonly OwedDelivery[],
  owe: readonly OwedDelivery[],
  settle: readonly string[],
): OwedDelivery[] {
  const byKey = new Map(owed.map((entry) => [entry.key, entry]));
  for (const key of settle) byKey.delete(key);
  for (const entry of owe) byKey.set(entry.key, entry);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
