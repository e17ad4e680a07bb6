import * as z from "zod/mini";
import {
  type EscalationDeps,
  mirrorStateChange,
  runEscalationStep,
  type StepOutput,
} from "../app/escalation.js";
import { InvalidInputError } from "../core/errors.js";
import { issuePath, validate } from "../core/validation.js";

/** What the state machine's Tasks send (lib/constructs/escalation.ts). */
const incidentId = z.string().check(z.minLength(1));
const taskInput = z.discriminatedUnion("action", [
  z.object({ action: z.literal("step"), incidentId, step: z.int().check(z.gte(0)) }),
  z.object({ action: z.literal("mirror"), incidentId, kind: z.enum(["acknowledge", "resolve"]) }),
  z.object({ action: z.literal("failure"), incidentId, error: z.unknown() }),
]);

export type EscalationTaskInput = z.input<typeof taskInput>;

function describe(error: unknown): string {
  if (error && typeof error === "object" && "Error" in error) {
    const { Error: name, Cause: cause } = error as { Error?: string; Cause?: string };
    return `${name}${cause ? `: ${String(cause).slice(0, 300)}` : ""}`;
  }
  return "unknown error";
}

/**
 * The escalation function: the state machine's Tasks call it with an `action`. A failure
 * the Tasks could not retry away is recorded on the timeline and logged, never lost.
 */
export function escalationHandler(deps: EscalationDeps & { now: () => Date }) {
  return async (event: unknown): Promise<StepOutput | { incidentId: string }> => {
    const parsed = validate(taskInput, event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidInputError(issuePath(issue.path), issue.message);
    }
    const input = parsed.data;
    switch (input.action) {
      case "step":
        return runEscalationStep(deps, input, deps.now);
      case "mirror":
        await mirrorStateChange(deps, input, deps.now);
        return { incidentId: input.incidentId };
      case "failure": {
        const detail = `escalation stopped: ${describe(input.error)}`;
        deps.logger.error("escalation failed", {
          event: "escalation_failed",
          incidentId: input.incidentId,
          detail,
        });
        await deps.store.recordDeliveries(input.incidentId, [
          { at: deps.now().toISOString(), type: "notification_failed", detail },
        ]);
        return { incidentId: input.incidentId };
      }
    }
  };
}
