import { systemClock } from "../adapters/clock.js";
import { LATER_ATTEMPTS, nextTryAfterFailure } from "../core/delivery-retry.js";
import { escalationEndsAt } from "../core/escalation.js";
import type { IncidentWithTimeline } from "../core/incident.js";
import { decide } from "../core/lifecycle.js";
import type { EscalationDeps } from "./deliveries.js";

/** What the Record failure Task is given (lib/constructs/escalation.ts). */
export interface FailureInput {
  incidentId: string;
  /** What the Task's retries left, as Step Functions caught it ({Error, Cause}). */
  error: unknown;
  /** Set in a mirror's execution: the state it tells. */
  mirror?: "acknowledge" | "resolve" | undefined;
  /** What the last failure of this run answered, if it failed before. */
  retry?: { failures: number; since: string } | undefined;
}

/**
 * What it answers, kept in the execution's state ($.retry): try the step again at `at`,
 * stop (nothing is owed any more), or fail (given up at the policy's end).
 */
export interface FailureOutcome {
  outcome: "again" | "stopped" | "failed";
  at?: string;
  failures: number;
  since: string;
}

/** A caught Step Functions error, for the timeline and the logs. */
export function describeError(error: unknown): string {
  if (error && typeof error === "object" && "Error" in error) {
    const { Error: name, Cause: cause } = error as { Error?: string; Cause?: string };
    return `${name}${cause ? `: ${String(cause).slice(0, 300)}` : ""}`;
  }
  return "unknown error";
}

/**
 * A step (or a mirror) failed past its Task's retries: DynamoDB down for longer, a Task past
 * its timeout. A pager must not give up while the incident is open, so it is tried again,
 * with a growing wait (nextTryAfterFailure), while it still owes something: the incident
 * is triggered (a mirror: its state is still owed), or the store cannot say, which is the
 * usual reason for the failure. It stops once nothing is owed, and fails at the policy's
 * end (a mirror: when a page would be given up after the change). Each failure is recorded
 * on the timeline when the store takes it; reading and recording never throw, so a store
 * that is down cannot end the escalation here.
 */
export async function recordFailure(
  deps: EscalationDeps,
  input: FailureInput,
  now: () => Date,
): Promise<FailureOutcome> {
  const at = now();
  const after = (deps.clock ?? systemClock).after;
  const failures = (input.retry?.failures ?? 0) + 1;
  const since = input.retry?.since ?? at.toISOString();
  let incident: IncidentWithTimeline | null | undefined;
  try {
    incident = await deps.store.get(input.incidentId);
  } catch (error) {
    deps.logger.warn("the incident could not be read after a failed step", {
      event: "escalation_failure_unread",
      incidentId: input.incidentId,
      error: (error as Error).name,
    });
  }
  const owed =
    incident === undefined ||
    (incident !== null &&
      (input.mirror ? incident.owedState !== undefined : incident.status === "triggered"));
  const endsAt = !incident
    ? null
    : input.mirror
      ? after(
          new Date(incident.resolvedAt ?? incident.acknowledgedAt ?? at.toISOString()),
          LATER_ATTEMPTS.giveUpAfterMs / 1000,
        )
      : escalationEndsAt(incident, { config: deps.config, after });
  const next = owed ? nextTryAfterFailure(new Date(since), at, after, endsAt) : null;
  const outcome: FailureOutcome = {
    outcome: next ? "again" : owed ? "failed" : "stopped",
    ...(next ? { at: next.toISOString() } : {}),
    failures,
    since,
  };
  const what = input.mirror ? `the ${input.mirror} mirror` : "an escalation step";
  const cause = describeError(input.error);
  const detail = next
    ? `${what} failed (${failures} in a row since ${since}): ${cause}; trying again at ${next.toISOString()}`
    : owed
      ? `escalation stopped: ${cause}; given up, ${failures} in a row since ${since}, at the policy's end`
      : `${what} failed: ${cause}; not tried again, the incident is ${incident?.status ?? "gone"}`;
  const log = outcome.outcome === "again" ? deps.logger.warn : deps.logger.error;
  log.call(deps.logger, "escalation step failed", {
    event: outcome.outcome === "again" ? "escalation_retry" : "escalation_failed",
    incidentId: input.incidentId,
    outcome: outcome.outcome,
    detail,
  });
  try {
    // Unread (the store is down): nothing to decide on, and a write would fail as the read did.
    const decision = incident
      ? decide(
          incident,
          {
            type: "step_failed",
            detail,
            givenUp: Boolean(input.mirror) && outcome.outcome === "failed",
          },
          { config: deps.config, now: at.toISOString(), after },
        )
      : null;
    if (decision?.outcome === "change" && decision.change.kind === "update")
      await deps.store.apply(input.incidentId, decision.change.update);
  } catch (error) {
    deps.logger.warn("the failure could not be recorded", {
      event: "escalation_failure_unrecorded",
      incidentId: input.incidentId,
      error: (error as Error).name,
    });
  }
  return outcome;
}
