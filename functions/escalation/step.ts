import { systemClock } from "../adapters/clock.js";
import { carryOut } from "../app/effects.js";
import type { After } from "../core/clock.js";
import type { Config } from "../core/config.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import type { IncidentWithTimeline } from "../core/incident.js";
import type { IncidentStore } from "../core/incident-store.js";
import { decide } from "../core/lifecycle.js";
import { nextRun } from "../core/lifecycle-engine.js";
import type { Decision, Effect } from "../core/lifecycle-types.js";
import type { OwedDelivery } from "../core/notification.js";
import { TEST_RESOLUTION } from "../core/test-notification.js";
import { deliverOwed, type EscalationDeps, followWithState } from "./deliveries.js";
import { noteUnreachable } from "./unreachable.js";

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

/**
 * One run of a step of an incident's escalation, as the state machine's Task makes it: the
 * lifecycle decides (level_due), the claim is stored as one conditional write (so a retried
 * Task never claims twice, and an acknowledgement stored first always wins), and the
 * effects are carried out: the owed deliveries sent and recorded, the state told where the
 * incident is no longer triggered, and the output says when to run next (the next level, or
 * an owed delivery's next attempt if sooner).
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
  const ctx = { config: deps.config, now: now().toISOString(), after: deps.clock.after };
  const event = { type: "level_due" as const, step: input.step, dueAt: input.dueAt };
  const decision = decide(stored, event, ctx);
  let incident = stored;
  let effects = "effects" in decision ? decision.effects : [];
  if (decision.outcome === "change" && decision.change.kind === "update") {
    const claim = await deps.store.apply(decision.change.id, decision.change.update);
    if (claim.applied) await noteUnreachable(deps, claim.incident, decision.change.update.append);
    if (!claim.applied) {
      // Claimed already (a retried Task) or snoozed meanwhile: only what was owed before; or
      // no longer triggered: decided on what it is now (its channels are owed its state).
      const current = await deps.store.get(input.incidentId);
      if (current?.status === "triggered") effects = decision.otherwise ?? [];
      else {
        incident = current;
        effects = effectsOf(decide(current, event, ctx));
      }
    }
  }
  if (!incident) return stop;
  let pending: OwedDelivery[] = [];
  for (const effect of effects) {
    switch (effect.type) {
      case "deliver": {
        // Messages show the level reached, this step's once claimed.
        const sent = await deliverOwed(deps, { ...incident, level: effect.level }, effect.owed);
        if (!sent.open) return stop;
        pending = sent.pending;
        break;
      }
      case "tell_state":
        await followWithState(deps, incident, effect.channels, effect.owed, effect);
        break;
      case "resolve_test":
        await resolveTest(deps, incident, now);
        break;
      case "wait": {
        const next = nextRun(effect, pending, ctx.now);
        return next ? { incidentId: incident.id, ...next, done: false } : stop;
      }
      case "end":
        return stop;
      default:
        throw new Error(`a Task does not carry out ${effect.type}`);
    }
  }
  return stop;
}

const effectsOf = (decision: Decision): Effect[] => ("effects" in decision ? decision.effects : []);

/**
 * A test incident resolves once its test is sent (a retried Task, which finds the step
 * claimed, resolves it too), and its Slack message is updated to say so.
 */
async function resolveTest(
  deps: EscalationDeps,
  incident: IncidentWithTimeline,
  now: () => Date,
): Promise<void> {
  const ctx = { config: deps.config, now: now().toISOString(), after: deps.clock!.after };
  const decision = decide(incident, TEST_RESOLUTION, ctx);
  if (decision.outcome !== "change" || decision.change.kind !== "update") return;
  const { applied } = await deps.store.apply(incident.id, decision.change.update, incident);
  // Not applied: resolved already, by someone.
  if (applied) await mirrorStateChange(deps, { incidentId: incident.id, kind: "resolve" }, now);
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
  const ctx = { config: deps.config, now: now().toISOString(), after: deps.clock.after };
  const decision = decide(incident, { type: "mirror_due", kind: input.kind }, ctx);
  for (const effect of effectsOf(decision))
    if (effect.type === "tell_state" && incident)
      await followWithState(deps, incident, effect.channels, effect.owed, effect);
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
 * triggered incident's, as the lifecycle decides for engine_lost. Returns the incidents resumed.
 */
export async function resumeLostEscalations(
  deps: { store: IncidentStore; runner: EscalationRunner; config: Config; after: After },
  now: Date,
): Promise<string[]> {
  const resumed: string[] = [];
  const ctx = { config: deps.config, now: now.toISOString(), after: deps.after };
  let cursor: string | undefined;
  do {
    const page = await deps.store.list({ status: "triggered", limit: 100, cursor });
    for (const incident of page.incidents) {
      // A list's incidents carry no timeline; engine_lost reads none.
      const effects = effectsOf(
        decide({ ...incident, timeline: [] }, { type: "engine_lost" }, ctx),
      );
      if (effects.length === 0) continue;
      await carryOut(deps.runner, incident.id, effects);
      resumed.push(incident.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return resumed;
}
