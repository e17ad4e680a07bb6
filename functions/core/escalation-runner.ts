/**
 * Runs incidents' escalations: Step Functions on AWS, the same definition on the local
 * engine. Every call is repeatable: executions are named after the incident id (and what
 * they do), so a retried call never runs one twice.
 *
 * Errors: any rejection is retryable (the engine was unreachable); callers let the sender
 * retry rather than lose the escalation.
 */
export interface EscalationRunner {
  /** Starts the escalation of a newly opened incident: its step 0, due at `dueAt` (ISO-8601). */
  start(incidentId: string, dueAt: string): Promise<void>;
  /**
   * Stops the running escalation at once (acknowledged, resolved or snoozed), including
   * the executions that resumed it after `snoozes` earlier snoozes. One left running
   * anyway notifies nobody: every step first checks that the incident is still triggered.
   */
  stop(incidentId: string, snoozes?: number): Promise<void>;
  /** Tells the channels that heard of the incident (PagerDuty, Slack) about a change. */
  mirror(incidentId: string, kind: "acknowledge" | "resolve"): Promise<void>;
  /**
   * Resumes an escalation at `step`, due at `dueAt` (ISO-8601): when a snooze ends, or after
   * the local engine restarted. `attempt` tells one resumption of an incident from the next.
   */
  resume(incidentId: string, step: number, dueAt: string, attempt: string): Promise<void>;
}
