import type { Severity } from "./alert.js";
import type {
  Incident,
  IncidentStatus,
  IncidentWithTimeline,
  OwedState,
  TimelineEvent,
} from "./incident.js";
import type { IncidentUpdate } from "./incident-update.js";
import type { ReportIncident } from "./report.js";

/** What `fire` answers: an opening not confirmed yet is the caller's to follow up and confirm. */
export interface Fired extends FiringOutcome {
  toConfirm: boolean;
  /**
   * With `toConfirm`, when the fingerprint had an episode before this one: its incident. A
   * resolve detached that episode and then resolves its incident, two writes; the caller
   * finishes a resolve cut short between them (the lifecycle's episode_followed).
   */
  previous?: string | undefined;
}

export interface FiringOutcome {
  incident: Pick<Incident, "id" | "status">;
  /** True for exactly one caller per incident: the one whose write created it. */
  created: boolean;
}

export interface IncidentQuery {
  status?: IncidentStatus | undefined;
  severity?: Severity | undefined;
  team?: string | undefined;
  /** Highest escalation level reached: exactly `level`, or at least `minLevel`. */
  level?: number | undefined;
  minLevel?: number | undefined;
  /** ISO-8601 bounds on createdAt, inclusive. */
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The incidents a report covers; `truncated` when the store stopped at its limit. */
export interface ReportSlice {
  incidents: ReportIncident[];
  truncated: boolean;
}

/**
 * A person a level of an incident could not reach (a timeline `unreachable` event), as the
 * escalation report lists them: "who could not be reached".
 */
export interface UnreachableEntry {
  /** ISO-8601: when it was found. */
  at: string;
  incidentId: string;
  team: string;
  level: number;
  userId: string;
  reason: string;
}

/** The unreachable entries of an incident's `unreachable` timeline events. */
export function unreachableEntries(
  incident: Pick<Incident, "id" | "team">,
  events: readonly TimelineEvent[],
): UnreachableEntry[] {
  return events.flatMap((e) =>
    e.type === "unreachable" && e.person
      ? [
          {
            at: e.at,
            incidentId: incident.id,
            team: incident.team,
            level: e.level ?? 0,
            userId: e.person,
            reason: e.detail ?? "",
          },
        ]
      : [],
  );
}

/** An incident whose new state its channels are still owed (IncidentStore.owedStates). */
export interface OwedStateRef {
  id: string;
  state: OwedState;
}

/**
 * The fields of a list page's incidents (what DynamoDB's indexes project: no timeline, no
 * sender's values), with the live counters and `test: true` on test incidents besides.
 */
export const INCIDENT_SUMMARY_FIELDS = [
  "id",
  "fingerprint",
  "status",
  "severity",
  "team",
  "title",
  "labels",
  "annotations",
  "source",
  "runbook",
  "level",
  "occurrences",
  "startedAt",
  "createdAt",
  "lastSeenAt",
  "acknowledgedAt",
  "acknowledgedBy",
  "resolvedAt",
  "resolvedBy",
  "channels",
  "escalationPolicy",
  "delay",
  "generatorUrl",
  "dashboardUrl",
  "silenceUrl",
  "slackMessages",
  "snoozedUntil",
  "escalationBaseAt",
  "escalationStep",
] as const satisfies readonly (keyof Incident)[];

/** What `IncidentStore.apply` needs to know of the incident for a resolve (release) or an acknowledge. */
export type KnownIncident = Pick<
  Incident,
  "id" | "fingerprint" | "startedAt" | "occurrences" | "lastSeenAt"
>;

/** What `IncidentStore.apply` did: the incident as written, or nothing when the guard failed. */
export type Applied =
  | { applied: true; incident: IncidentWithTimeline }
  | { applied: false; incident: null };

export interface IncidentPage {
  incidents: Incident[];
  nextCursor: string | null;
}

/**
 * Where incidents live. Implementations make every write conditional and repeatable, so a
 * retried webhook or a race between deliveries leaves one open incident per fingerprint.
 *
 * Errors: StoreUnavailableError is retryable (the sender should retry later);
 * IncidentConflictError and IncidentNotFoundError are final; InvalidInputError for a bad cursor.
 */
export interface IncidentStore {
  /**
   * Records a firing alert by its fingerprint (the episode rules of core/episode.ts): opens
   * `candidate` if the fingerprint has no open incident, else counts one more occurrence of
   * the open one. An opening is written unconfirmed: `toConfirm` is true for every caller
   * that finds it so, its creator or the next delivery after a crash half-way. That caller
   * carries out what follows an opening (the lifecycle's followUp: the escalation's start,
   * repeatable) and only then confirmOpening; until it does, the next delivery of the
   * fingerprint gets `toConfirm` again.
   */
  fire(candidate: IncidentWithTimeline): Promise<Fired>;
  /** Confirms an opening (fire's `toConfirm`); nothing when the incident is no longer the open one. */
  confirmOpening(fingerprint: string, incidentId: string): Promise<void>;
  /**
   * Resolves the open incident of `candidate.fingerprint` with `update` (a lifecycle
   * decision's), if there is one, carrying back the episode's live counters; a repeat or a
   * late resolve applies it to the last incident (a no-op once resolved). Returns the
   * incident as the write left it, or null when the fingerprint never had one.
   */
  resolveFingerprint(
    candidate: IncidentWithTimeline,
    update: IncidentUpdate,
  ): Promise<Pick<Incident, "id" | "status" | "channels" | "escalationPolicy"> | null>;
  get(id: string): Promise<IncidentWithTimeline | null>;
  /**
   * Applies one guarded change of incident `id` (a lifecycle decision's) as one conditional
   * write; a resolve (`releaseFingerprint`) first frees the fingerprint while it is still this
   * incident's, bringing back its live counters, and an acknowledge is followed on it, so
   * both need `known`. When the guard fails `otherwise` is applied instead, if given; when
   * nothing applied, nothing was written: read the incident again to see why.
   */
  apply(id: string, update: IncidentUpdate, known?: KnownIncident): Promise<Applied>;
  list(query: IncidentQuery): Promise<IncidentPage>;
  /**
   * Every incident with an owed state (IncidentUpdate.owedState), whatever its age: what a mirror
   * lost with its process left to tell. Sparse: only those, never the others.
   */
  owedStates(): Promise<OwedStateRef[]>;
  /**
   * Records people a level could not reach, for the report (one item each, kept as long as
   * incidents; writing one again changes nothing). The timeline has them already: this is
   * the report's index of them.
   */
  recordUnreachable(entries: readonly UnreachableEntry[]): Promise<void>;
  /** Unreachable entries found in [since, until] (inclusive, ISO-8601), newest first, at most `limit`. */
  listUnreachable(range: {
    since: string;
    until: string;
    limit: number;
  }): Promise<UnreachableEntry[]>;
  /**
   * Every incident created in [since, until] (inclusive, ISO-8601), newest first, with the
   * report's fields only; at most `maxIncidents`, then `truncated` is true.
   */
  listForReport(range: {
    since: string;
    until: string;
    maxIncidents: number;
  }): Promise<ReportSlice>;
}
