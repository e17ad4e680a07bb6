import type { EscalationRunner } from "../core/escalation-runner.js";
import type { IncidentUpdate } from "../core/incident-update.js";
import type { Effect } from "../core/lifecycle-types.js";

/** The effects the app carries out on the escalation engine; the others are the Task's own. */
export type EngineEffect = Extract<
  Effect,
  { type: "start_escalation" | "stop_escalation" | "resume_escalation" | "mirror" }
>;

/**
 * Carries out a decision's effects on the escalation engine, in order, for incident `id`,
 * at the times the effects say. Every call is repeatable: executions are named after the
 * incident, its snoozes' runs and what they do, so a retried effect never runs one twice.
 * Rejects on the first that fails (the engine was unreachable): the later ones are not tried.
 */
export async function carryOut(
  runner: EscalationRunner,
  id: string,
  effects: readonly Effect[],
): Promise<void> {
  for (const effect of effects) {
    switch (effect.type) {
      case "start_escalation":
        await runner.start(id, effect.dueAt);
        break;
      case "stop_escalation":
        await runner.stop(id, effect.runs);
        break;
      case "resume_escalation":
        await runner.resume(id, effect.step, effect.dueAt, effect.run);
        break;
      case "mirror":
        await runner.mirror(id, effect.kind);
        break;
      default:
        throw new Error(`the escalation's Task carries out ${effect.type}, not the app`);
    }
  }
}

/** Without an escalation engine nothing will tell the channels, so no state is owed to them. */
export function owedOnlyWithEngine(
  update: IncidentUpdate,
  runner: EscalationRunner | undefined,
): IncidentUpdate {
  if (runner) return update;
  const { owedState: _, ...unowed } = update;
  return unowed;
}
