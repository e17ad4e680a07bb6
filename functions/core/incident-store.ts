import type { Severity } from "./alert.js";
import type {
  Incident,
  IncidentStatus,
  IncidentWithTimeline,
  OwedState,
  TimelineEvent,
  Transition,
} from "./incident.js";
import type { IncidentUpdate } from "./incident-update.js";
import type { OwedDelivery, SlackMessageRef } from "./notification.js";
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

/** What IncidentStore.recordDeliveries writes besides the events. */
export interface DeliveryRecordOptions {
  /** Keys of owed deliveries these outcomes settle. */
  settle?: string[] | undefined;
  /** Owed deliveries to write as given (a later attempt is due). */
  owed?: OwedDelivery[] | undefined;
  /** Clears the owed state (IncidentWithTimeline.owedState): every channel has been told it. */
  settleState?: boolean | undefined;
  /** The Slack messages posted, each kept where the incident had none in that channel. */
  slackMessages?: ReadonlyArray<{ channelId: string; ref: SlackMessageRef }> | undefined;
  /**
   * Settles and rewrites owed deliveries (and the owed state) only while the incident's
   * status is this one: the state told (or `triggered` for pages) is still the incident's.
   */
  whileStatus?: IncidentStatus | undefined;
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
  /** `fire`, then `confirmOpening` at once: for a caller with nothing to follow an opening. */
  recordFiring(candidate: IncidentWithTimeline): Promise<FiringOutcome>;
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
  /**
   * Claims an escalation step of a triggered incident in one conditional write: sets
   * `escalationStep` to `reached` and `level`, appends `events`, and writes the step's
   * `owed` deliveries (each stays owed until its outcome is recorded). A normal claim
   * needs the step not claimed yet and no snooze running; a `resume` claim needs a snooze
   * that is over, clears it and moves the escalation's base time. False when the condition
   * fails (acknowledged, resolved, snoozed, or a retried step).
   */
  claimEscalationStep(
    id: string,
    claim: {
      step: number;
      reached: number;
      level: number;
      events: TimelineEvent[];
      now: string;
      resume?: { baseAt: string } | undefined;
      owed?: OwedDelivery[] | undefined;
    },
  ): Promise<boolean>;
  /**
   * Applies an acknowledge, resolve or snooze to `incident` as one conditional write;
   * a resolve also frees the fingerprint, so the alert firing again opens a new incident.
   * Throws IncidentConflictError with the current status when the state forbids it.
   */
  applyTransition(incident: Incident, transition: Transition): Promise<IncidentWithTimeline>;
  /**
   * Records delivery outcomes in one write: appends `events`, clears the owed deliveries
   * they `settle`, writes the `owed` ones that wait for a later attempt, and remembers a
   * Slack message if given (unless one is kept already). With `whileStatus`, owed
   * deliveries (and the owed state) are cleared or rewritten only while the incident has
   * that status; otherwise the events are recorded and the owed ones kept, since their
   * channels are then owed the incident's later state. Returns the incident as the write
   * left it (null if there is none).
   */
  recordDeliveries(
    id: string,
    events: TimelineEvent[],
    options?: DeliveryRecordOptions,
  ): Promise<IncidentWithTimeline | null>;
  list(query: IncidentQuery): Promise<IncidentPage>;
  /**
   * Every incident with an owed state (Transition.mirror), whatever its age: what a mirror
   * lost with its process left to tell. Sparse: only those, never the others.
   */
  owedStates(): Promise<OwedStateRef[]>;
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
