import type { Severity } from "./alert.js";
import type { Incident, IncidentStatus, IncidentWithTimeline, Transition } from "./incident.js";

export interface FiringOutcome {
  incident: Pick<Incident, "id" | "status">;
  /** True for exactly one caller per incident: the one whose write created it. */
  created: boolean;
}

export interface IncidentQuery {
  status?: IncidentStatus | undefined;
  severity?: Severity | undefined;
  team?: string | undefined;
  /** ISO-8601 bounds on createdAt, inclusive. */
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

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
   * Records a firing alert: opens `candidate` if its fingerprint has no open incident,
   * else counts one more occurrence of the open one.
   */
  recordFiring(candidate: IncidentWithTimeline): Promise<FiringOutcome>;
  /**
   * Resolves the open incident of `candidate.fingerprint` with `transition`, if there is one.
   * Returns the resolved incident, or null when nothing was open.
   */
  resolveFingerprint(
    candidate: IncidentWithTimeline,
    transition: Transition,
  ): Promise<Pick<Incident, "id" | "status"> | null>;
  get(id: string): Promise<IncidentWithTimeline | null>;
  list(query: IncidentQuery): Promise<IncidentPage>;
}
