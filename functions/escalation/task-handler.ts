import * as z from "zod/mini";
import { InvalidInputError } from "../core/errors.js";
import { issuePath, validate } from "../core/validation.js";
import { type FailureOutcome, recordFailure } from "./failure.js";
import {
  type EscalationDeps,
  mirrorStateChange,
  runEscalationStep,
  type StepOutput,
} from "./step.js";

/** What the state machine's Tasks send (lib/constructs/escalation.ts). */
const incidentId = z.string().check(z.minLength(1));
const taskInput = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("step"),
    incidentId,
    step: z.int().check(z.gte(0)),
    // Absent from the Tasks of executions started by an older definition.
    dueAt: z.optional(z.iso.datetime({ offset: true })),
  }),
  z.object({ action: z.literal("mirror"), incidentId, kind: z.enum(["acknowledge", "resolve"]) }),
  z.object({
    action: z.literal("failure"),
    incidentId,
    error: z.unknown(),
    // The execution's state; absent from the Tasks of executions of an older definition.
    state: z.optional(
      z.object({
        mirror: z.optional(z.enum(["acknowledge", "resolve"])),
        retry: z.optional(
          z.object({
            failures: z.int().check(z.gte(0)),
            since: z.iso.datetime({ offset: true }),
          }),
        ),
      }),
    ),
  }),
]);

export type EscalationTaskInput = z.input<typeof taskInput>;
type TaskInput = z.output<typeof taskInput>;
type TaskOutput = StepOutput | FailureOutcome | { incidentId: string };

/**
 * The escalation function: the state machine's Tasks call it with an `action`. A failure
 * the Tasks could not retry away is recorded on the timeline and logged, never lost, and
 * the answer says whether to try the step again (recordFailure).
 */
export function escalationHandler(deps: EscalationDeps & { now: () => Date }) {
  const run = async (input: TaskInput): Promise<[TaskOutput, Record<string, unknown>]> => {
    switch (input.action) {
      case "step": {
        const output = await runEscalationStep(deps, input, deps.now);
        const next = output.done ? {} : { nextDueAt: output.dueAt };
        return [output, { step: input.step, done: output.done, ...next }];
      }
      case "mirror":
        await mirrorStateChange(deps, input, deps.now);
        return [{ incidentId: input.incidentId }, { kind: input.kind }];
      case "failure": {
        const outcome = await recordFailure(
          deps,
          {
            incidentId: input.incidentId,
            error: input.error,
            mirror: input.state?.mirror,
            retry: input.state?.retry,
          },
          deps.now,
        );
        return [outcome, { outcome: outcome.outcome, failures: outcome.failures }];
      }
    }
  };
  return async (event: unknown): Promise<TaskOutput> => {
    const started = performance.now();
    const parsed = validate(taskInput, event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidInputError(issuePath(issue.path), issue.message);
    }
    const input = parsed.data;
    // One line per Task, as the HTTP functions write one per request; a Task that throws
    // says so here, and Step Functions retries it.
    const log = (fields: Record<string, unknown>) =>
      deps.logger.info("escalation task", {
        event: "escalation_task",
        source: "step-functions",
        action: input.action,
        incidentId: input.incidentId,
        ...fields,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      });
    try {
      const [output, fields] = await run(input);
      log(fields);
      return output;
    } catch (error) {
      log({ failed: true, error: (error as Error).name });
      throw error;
    }
  };
}
