import {
  type DetachRule,
  type Episode,
  type Firing,
  firingOf,
  liveCounters,
  type OpenEpisode,
  unlessLaterEpisode,
  whileAttached,
} from "./episode.js";
import { IncidentNotFoundError } from "./errors.js";
import type { IncidentStatus, IncidentWithTimeline } from "./incident.js";
import type {
  Applied,
  Fired,
  IncidentPage,
  IncidentQuery,
  IncidentStore,
  KnownIncident,
  OwedStateRef,
  ReportSlice,
  UnreachableEntry,
} from "./incident-store.js";
import type { IncidentFields, IncidentUpdate, StoredIncident } from "./incident-update.js";

/**
 * The incident store's write sequences, over primitives that each are one request to the
 * storage (Powertools' BasePersistenceLayer: the base owns the sequence, a subclass only
 * translates). No I/O here. The rules each primitive applies are the core's
 * (`core/episode.ts`, `core/incident-update.ts`); a subclass applies them in one
 * conditional write (DynamoDB) or calls them (memory).
 *
 * Request costs: a duplicate is one episode write; a new incident three writes (episode,
 * incident, confirm); a resolve two (episode, incident). A creation interrupted half-way is
 * finished by whichever delivery of the same fingerprint comes next.
 */
export abstract class IncidentStoreBase implements IncidentStore {
  /** `fireEpisode`: the episode as written, null when the firing is late (nothing written). */
  protected abstract writeFiring(fingerprint: string, firing: Firing): Promise<Episode | null>;
  /** `confirmEpisode`: nothing written when `incidentId` is no longer the open one. */
  protected abstract writeConfirm(fingerprint: string, incidentId: string): Promise<void>;
  /** `detachEpisode`: the episode detached, null when `rule` did not hold (nothing written). */
  protected abstract writeDetach(
    fingerprint: string,
    rule: DetachRule,
    startedAt: string,
  ): Promise<OpenEpisode | null>;
  /** `followStatus`: nothing written when `incidentId` is no longer the open one. */
  protected abstract writeFollowStatus(
    fingerprint: string,
    incidentId: string,
    status: IncidentStatus,
  ): Promise<void>;
  protected abstract readEpisode(fingerprint: string): Promise<Episode | null>;
  /** Writes the incident unless one with its id exists; true when this call wrote it. */
  protected abstract putIncidentIfAbsent(incident: IncidentWithTimeline): Promise<boolean>;
  /**
   * `applyUpdate` without `otherwise` (the base applies that as a write of its own): the
   * incident as written, null when the guard failed (nothing written).
   */
  protected abstract writeUpdate(
    id: string,
    update: IncidentUpdate,
  ): Promise<StoredIncident | null>;
  /** The incident with its episode's live counters (`withLiveCounters`), null if there is none. */
  protected abstract readIncident(id: string): Promise<StoredIncident | null>;
  abstract list(query: IncidentQuery): Promise<IncidentPage>;
  abstract listForReport(range: {
    since: string;
    until: string;
    maxIncidents: number;
  }): Promise<ReportSlice>;
  abstract owedStates(): Promise<OwedStateRef[]>;
  abstract recordUnreachable(entries: readonly UnreachableEntry[]): Promise<void>;
  abstract listUnreachable(range: {
    since: string;
    until: string;
    limit: number;
  }): Promise<UnreachableEntry[]>;

  async fire(candidate: IncidentWithTimeline): Promise<Fired> {
    const episode = await this.writeFiring(candidate.fingerprint, firingOf(candidate));
    if (!episode) {
      // A late firing of the episode resolved last: it answers that incident, opens nothing.
      const stale = await this.readEpisode(candidate.fingerprint);
      return {
        incident: { id: stale!.last!.incidentId, status: "resolved" },
        created: false,
        toConfirm: false,
      };
    }
    const open = episode.open!;
    if (open.confirmed) {
      return {
        incident: { id: open.incidentId, status: open.status },
        created: false,
        toConfirm: false,
      };
    }
    // Creation is ours, or someone else's that may have died half-way: either way, finish it.
    const created = await this.putIncidentIfAbsent({
      ...candidate,
      id: open.incidentId,
      createdAt: open.openedAt ?? candidate.createdAt,
    });
    const previous = episode.last?.incidentId;
    return {
      incident: { id: open.incidentId, status: "triggered" },
      created,
      toConfirm: true,
      ...(previous !== undefined && previous !== open.incidentId ? { previous } : {}),
    };
  }

  confirmOpening(fingerprint: string, incidentId: string): Promise<void> {
    return this.writeConfirm(fingerprint, incidentId);
  }

  async resolveFingerprint(candidate: IncidentWithTimeline, update: IncidentUpdate) {
    const detached = await this.writeDetach(
      candidate.fingerprint,
      unlessLaterEpisode,
      candidate.startedAt,
    );
    if (!detached) {
      // Nothing open, or a later episode open: this resolve is a repeat (whose second write
      // may not have happened) or late; either way it concerns the last incident.
      const episode = await this.readEpisode(candidate.fingerprint);
      if (!episode?.last) return null;
      return this.applyIdempotently(episode.last.incidentId, update);
    }
    const id = detached.incidentId;
    if (!detached.confirmed) {
      // Detached before its creation finished: write the incident so the resolve has one.
      await this.putIncidentIfAbsent({
        ...candidate,
        id,
        createdAt: detached.openedAt ?? candidate.createdAt,
      });
    }
    const lastSeenAt = update.append?.[0]?.at ?? candidate.lastSeenAt;
    const counters = liveCounters(detached, { occurrences: 1, lastSeenAt });
    return this.applyIdempotently(id, withSet(update, counters));
  }

  async get(id: string): Promise<IncidentWithTimeline | null> {
    const stored = await this.readIncident(id);
    return stored && shown(stored);
  }

  /**
   * One guarded change of incident `id`: a resolve first releases the fingerprint (only while
   * this incident is attached; its live counters come back), then the update, then, for an
   * acknowledge, the episode's copy of the status. `otherwise` is a second write, tried when
   * the guard failed. `known` is needed for a release or an acknowledge.
   */
  async apply(id: string, update: IncidentUpdate, known?: KnownIncident): Promise<Applied> {
    const { otherwise, releaseFingerprint, ...first } = update;
    const acknowledging = update.set?.status === "acknowledged";
    if ((releaseFingerprint || acknowledging) && !known)
      throw new Error(`incident ${id}: a release or an acknowledge needs the incident known`);
    let change: IncidentUpdate = first;
    if (releaseFingerprint) {
      // Free the fingerprint first; a crash before the incident write leaves a retry to finish it.
      const freed = await this.writeDetach(known!.fingerprint, whileAttached(id), known!.startedAt);
      if (freed) change = withSet(first, liveCounters(freed, known!));
    }
    let written = await this.writeUpdate(id, change);
    if (!written && otherwise) {
      return this.apply(id, otherwise, known);
    }
    if (!written) return { applied: false, incident: null };
    if (acknowledging) await this.writeFollowStatus(known!.fingerprint, id, "acknowledged");
    written = shown(written);
    return { applied: true, incident: written };
  }

  /** Applies an update; one that the incident's state no longer allows is a no-op. */
  private async applyIdempotently(id: string, update: IncidentUpdate) {
    const current = (await this.writeUpdate(id, update)) ?? (await this.readIncident(id));
    if (!current) throw new IncidentNotFoundError(id);
    const { status, channels, escalationPolicy } = current;
    return { id, status, channels, escalationPolicy };
  }
}

const withSet = (update: IncidentUpdate, set: Partial<IncidentFields>): IncidentUpdate => ({
  ...update,
  set: { ...update.set, ...set },
});

/** The incident as callers see it: the store's claimedStep left out. */
function shown(stored: StoredIncident): IncidentWithTimeline {
  const { claimedStep: _, ...incident } = stored;
  return incident;
}
