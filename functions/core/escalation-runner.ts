/**
 * Runs incidents' escalations: Step Functions on AWS, the same definition on the local
 * engine. Both calls are repeatable: one execution per incident, named after its id.
 *
 * Errors: any rejection is retryable (the engine was unreachable); callers let the sender
 * retry rather than lose the escalation.
 */
export interface EscalationRunner {
  /** Starts the escalation of a newly opened incident (a second start is a no-op). */
  start(incidentId: string): Promise<void>;
  /**
   * Stops it because the incident was acknowledged or resolved, and tells the channels
   * that heard of the incident (PagerDuty, Slack) about the change.
   */
  stop(incidentId: string, reason: "acknowledge" | "resolve"): Promise<void>;
}
