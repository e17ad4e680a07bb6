import { systemClock } from "../adapters/clock.js";
import { IncidentConflictError } from "../core/errors.js";
import {
  owedDeliveries,
  planEscalationStep,
  resumeAfterRestart,
  resumeAfterSnooze,
  stepDueAt,
} from "../core/escalation.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import type { Incident } from "../core/incident.js";
import type { IncidentStore } from "../core/incident-store.js";
import type { OwedDelivery } from "../core/notification.js";
import { planTestNotification, testResolution } from "../core/test-notification.js";
import { channelsOfOwed, deliverOwed, type EscalationDeps, followWithState } from "./deliveries.js";

export type { EscalationDeps } from "./deliveries.js";

/** What the state machine passes to a step and gets back (see lib/constructs/escalation.ts). */
export interface StepInput {
  incidentId: string;
  step: number;
  /**
   * When this run of the step was due, as the state machine scheduled it: the step's level
   * fires only when that is its time; an earlier run only makes the owed deliveries' later
   * attempts. Absent (an execution of an older definition): the level is due.
   */
  dueAt?: string | undefined;
}
export interface StepOutput {
  incidentId: string;
  step: number;
  done: boolean;
  waitSeconds: number;
  /** When the next run is due: the state machine's Wait waits until then (TimestampPath). */
  dueAt: string;
}

const earliest = (times: readonly (string | undefined)[]) =>
  times.filter((t): t is string => t !== undefined).sort()[0];

/**
 * One run of a step of an incident's escalation, as the state machine's Task makes it.
 * Stop if the incident is no longer triggered. Else send what earlier steps still owe
 * (later attempts of failed pages; a step whose Task died before recording), and if the
 * step's level is due, claim it (so a retried Task never claims twice, and an
 * acknowledgement stored first always wins) and send it. Every outcome is recorded, and the
 * output says when to run next: the next level, or an owed delivery's next attempt if sooner.
 */
export async function runEscalationStep(
  escalation: EscalationDeps,
  input: StepInput,
  now: () => Date,
): Promise<StepOutput> {
  const deps = { ...escalation, clock: { ...(escalation.clock ?? systemClock), now } };
  const stop = {
    incidentId: input.incidentId,
    step: input.step,
    done: true,
    waitSeconds: 0,
    dueAt: now().toISOString(),
  };
  const stored = await deps.store.get(input.incidentId);
  if (!stored) return stop;
  const owedBefore = stored.owedDeliveries ?? [];
  const settleState = async (incident: typeof stored, owed: readonly OwedDelivery[]) =>
    followWithState(deps, incident, channelsOfOwed(deps, incident, owed), owed);
  // Owed by a Task that died in flight: the channels are owed the incident's state instead.
  if (stored.status !== "triggered") {
    await settleState(stored, owedBefore);
    return stop;
  }
  const at = now();
  const context = { config: deps.config, now: at, after: deps.clock.after };
  // A snooze that is over resumes here: the level reached fires again, later ones follow.
  const resume =
    stored.snoozedUntil && stored.snoozedUntil <= at.toISOString()
      ? resumeAfterSnooze(stored, stored.escalationStep, context)
      : null;
  const resuming = resume?.step === input.step;
  const incident = resuming ? { ...stored, escalationBaseAt: resume!.baseAt } : stored;
  const stepDue = stepDueAt(incident, input.step, context);
  const levelDue =
    input.dueAt === undefined ||
    resuming ||
    (stepDue !== null && Date.parse(input.dueAt) >= stepDue);

  const plan = !levelDue
    ? null
    : incident.test
      ? planTestNotification(incident, deps.config)
      : planEscalationStep(incident, input.step, context);
  let claimed: OwedDelivery[] | null = null;
  if (plan) {
    const owed = owedDeliveries(plan, at.toISOString());
    const won = await deps.store.claimEscalationStep(incident.id, {
      step: input.step,
      reached: plan.reached,
      level: plan.level,
      events: plan.events,
      now: at.toISOString(),
      resume: resuming ? { baseAt: resume!.baseAt } : undefined,
      owed,
    });
    if (won) claimed = owed;
    else {
      const current = await deps.store.get(incident.id);
      if (current?.status !== "triggered") {
        if (current) await settleState(current, current.owedDeliveries ?? []);
        return stop;
      }
    }
  }
  const fresh = new Set((claimed ?? []).map((o) => o.key));
  const isDue = (o: OwedDelivery) => !o.nextAttemptAt || o.nextAttemptAt <= at.toISOString();
  const earlier = owedBefore.filter((o) => !fresh.has(o.key));
  // Messages show the level reached, this step's once claimed.
  const sent = await deliverOwed(
    deps,
    claimed && plan ? { ...incident, level: plan.level } : incident,
    [...earlier.filter(isDue), ...(claimed ?? [])],
  );
  if (!sent.open) return stop;
  if (incident.test) {
    await resolveTest(deps, incident, now);
    return stop;
  }

  const pending = [...earlier.filter((o) => !isDue(o)), ...sent.pending];
  const level = plan
    ? plan.next
    : stepDue === null
      ? null
      : { step: input.step, dueAt: new Date(Math.max(stepDue, at.getTime())).toISOString() };
  const dueAt = earliest([level?.dueAt, ...pending.map((o) => o.nextAttemptAt)]);
  if (!dueAt) return stop;
  const wakeAt = new Date(Math.max(Date.parse(dueAt), at.getTime()));
  return {
    incidentId: incident.id,
    step: level?.step ?? (plan ? plan.reached + 1 : input.step),
    done: false,
    waitSeconds: Math.ceil((wakeAt.getTime() - at.getTime()) / 1000),
    dueAt: wakeAt.toISOString(),
  };
}

/**
 * A test incident resolves once its test is sent (a retried Task, which finds the step
 * claimed, resolves it too), and its Slack message is updated to say so.
 */
async function resolveTest(deps: EscalationDeps, incident: Incident, now: () => Date) {
  try {
    await deps.store.applyTransition(incident, {
      ...testResolution(now().toISOString()),
      mirror: true,
    });
  } catch (error) {
    if (error instanceof IncidentConflictError) return; // resolved already, by someone
    throw error;
  }
  await mirrorStateChange(deps, { incidentId: incident.id, kind: "resolve" }, now);
}

/**
 * Mirrors an acknowledgement or resolution to the channels that heard of the incident
 * (PagerDuty with the same dedup key, the Slack messages posted) and to those a page was in
 * flight to. It sends the state stored when it runs, not the one it was started for, and
 * follows a change that lands meanwhile: two mirrors racing end on the incident's state.
 * Once every channel has it, the owed state is settled. A channel it could not tell for a
 * retryable reason makes it throw StateNotDeliveredError, so that the state machine's Retry
 * runs it again (the state stays owed meanwhile).
 */
export async function mirrorStateChange(
  escalation: EscalationDeps,
  input: { incidentId: string; kind: "acknowledge" | "resolve" },
  now: () => Date,
): Promise<void> {
  const deps = { ...escalation, clock: { ...(escalation.clock ?? systemClock), now } };
  const incident = await deps.store.get(input.incidentId);
  if (!incident || incident.status === "triggered") return;
  const owed = incident.owedDeliveries ?? [];
  const told = incident.timeline.filter((e) => e.type === "notified" && e.channel);
  await followWithState(
    deps,
    incident,
    [...told.map((e) => e.channel!), ...channelsOfOwed(deps, incident, owed)],
    owed,
    { settlesState: true },
  );
}

/** The mirror execution that tells an owed state. */
const MIRROR_OF = { acknowledged: "acknowledge", resolved: "resolve" } as const;

/**
 * Starts again the mirrors that a lost process or invocation left owed (a crash between
 * storing an acknowledge or resolve and telling every channel): the local server's at
 * start-up, and on AWS on a schedule. A mirror still running is not started twice (its
 * execution name is taken), and one that ends settles what it owed. Returns the incidents.
 */
export async function resumeOwedMirrors(deps: {
  store: IncidentStore;
  runner: EscalationRunner;
}): Promise<string[]> {
  const owed = await deps.store.owedStates();
  for (const { id, state } of owed) await deps.runner.mirror(id, MIRROR_OF[state]);
  return owed.map((o) => o.id);
}

/**
 * Starts again the escalations an engine lost (the local server's, at start-up): every
 * triggered incident's, where resumeAfterRestart says. Returns the incidents resumed.
 */
export async function resumeLostEscalations(
  deps: { store: IncidentStore; runner: EscalationRunner },
  now: Date,
): Promise<string[]> {
  const resumed: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.list({ status: "triggered", limit: 100, cursor });
    for (const incident of page.incidents) {
      const plan = resumeAfterRestart(incident, now);
      if (!plan) continue;
      const waitSeconds = Math.max(0, (Date.parse(plan.dueAt) - now.getTime()) / 1000);
      await deps.runner.resume(incident.id, plan.step, waitSeconds, `restart-${now.getTime()}`);
      resumed.push(incident.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return resumed;
}
