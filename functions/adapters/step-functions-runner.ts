import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { EscalationRunner } from "../core/escalation-runner.js";

/**
 * Escalations as Step Functions Standard executions named after the incident id, so a
 * retried start is harmless (ExecutionAlreadyExists means it is running or ran).
 */
export class StepFunctionsRunner implements EscalationRunner {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(incidentId: string): Promise<void> {
    await this.startOnce(incidentId, { incidentId, step: 0 });
  }

  async stop(incidentId: string, reason: "acknowledge" | "resolve"): Promise<void> {
    // arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>
    const executionArn = `${this.stateMachineArn.replace(":stateMachine:", ":execution:")}:${incidentId}`;
    try {
      await this.client.send(
        new StopExecutionCommand({ executionArn, cause: `incident ${reason}d` }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
    await this.startOnce(`${incidentId}-${reason}`, { incidentId, mirror: reason });
  }

  private async startOnce(name: string, input: Record<string, unknown>) {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }
}
