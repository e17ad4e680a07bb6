import type { EscalationRunner } from "../core/escalation-runner.js";

/**
 * An EscalationRunner over a Step Functions-like engine: which executions an escalation
 * runs, named and with the input the state machine reads, the same on AWS and locally.
 * Subclasses start a named execution once (a name that ran is not run again) and stop them.
 * No clock here: every time comes from the lifecycle's effects.
 */
export abstract class NamedExecutionRunner implements EscalationRunner {
  /** Starts execution `name` with `input`, unless one of that name has run. */
  protected abstract startExecution(name: string, input: Record<string, unknown>): Promise<void>;

  abstract stop(incidentId: string, snoozes?: number): Promise<void>;

  /** The names a resumed escalation runs under: `<incident>-snooze-<attempt>`. */
  protected resumedName(incidentId: string, attempt: string | number): string {
    return `${incidentId}-snooze-${attempt}`;
  }

  /** Step 0, due when the incident opened (the lifecycle's start_escalation): told at once. */
  async start(incidentId: string, dueAt: string): Promise<void> {
    await this.startExecution(incidentId, { incidentId, step: 0, dueAt });
  }

  async mirror(incidentId: string, kind: "acknowledge" | "resolve"): Promise<void> {
    await this.startExecution(`${incidentId}-${kind}`, { incidentId, mirror: kind });
  }

  async resume(incidentId: string, step: number, dueAt: string, attempt: string): Promise<void> {
    // Shaped as a step's output that is not done: the execution waits until dueAt first.
    await this.startExecution(this.resumedName(incidentId, attempt), {
      incidentId,
      step,
      done: false,
      dueAt,
    });
  }
}
