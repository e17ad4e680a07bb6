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

  async stop(incidentId: string, snoozes = 0): Promise<void> {
    // arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>
    const prefix = `${this.stateMachineArn.replace(":stateMachine:", ":execution:")}:`;
    const names = [
      incidentId,
      ...Array.from({ length: snoozes }, (_, i) => `${incidentId}-snooze-${i + 1}`),
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
          if (!(error instanceof ExecutionDoesNotExist)) throw error;
        }
      }),
    );
  }

  async mirror(incidentId: string, kind: "acknowledge" | "resolve"): Promise<void> {
    await this.startOnce(`${incidentId}-${kind}`, { incidentId, mirror: kind });
  }

  async resume(
    incidentId: string,
    step: number,
    waitSeconds: number,
    attempt: string,
  ): Promise<void> {
    await this.startOnce(`${incidentId}-snooze-${attempt}`, {
      incidentId,
      step,
      dueAt: new Date(Date.now() + waitSeconds * 1000).toISOString(),
    });
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
