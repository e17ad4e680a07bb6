import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { isServiceFault } from "../adapters/aws-clients.js";
import { ServiceUnavailableError } from "../core/errors.js";
import { NamedExecutionRunner } from "./executions.js";

/** A fault of Step Functions as a retryable error; anything else unchanged. */
function unlessFault(error: unknown): unknown {
  return isServiceFault(error)
    ? new ServiceUnavailableError(`Step Functions request failed: ${(error as Error).name}`, {
        cause: error,
      })
    : error;
}

/**
 * Escalations as Step Functions Standard executions named after the incident id, so a
 * retried start is harmless (ExecutionAlreadyExists means it is running or ran). A fault
 * of the service (unreachable, 5xx, throttled) rejects with ServiceUnavailableError.
 */
export class StepFunctionsRunner extends NamedExecutionRunner {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {
    super();
  }

  async stop(incidentId: string, snoozes = 0): Promise<void> {
    // arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>
    const prefix = `${this.stateMachineArn.replace(":stateMachine:", ":execution:")}:`;
    const names = [
      incidentId,
      ...Array.from({ length: snoozes }, (_, i) => this.resumedName(incidentId, i + 1)),
    ];
    await Promise.all(
      names.map(async (name) => {
        try {
          await this.client.send(
            new StopExecutionCommand({
              executionArn: `${prefix}${name}`,
              cause: "acknowledged, resolved or snoozed",
            }),
          );
        } catch (error) {
          if (!(error instanceof ExecutionDoesNotExist)) throw unlessFault(error);
        }
      }),
    );
  }

  protected async startExecution(name: string, input: Record<string, unknown>): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw unlessFault(error);
    }
  }
}
