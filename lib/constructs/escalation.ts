import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Wait,
  WaitTime,
} from "aws-cdk-lib/aws-stepfunctions";
import { LambdaInvoke } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";

/**
 * State names are the contract with the local engine, which binds its Task states to the
 * same handler by these names (functions/local/escalation-engine.ts).
 */
export const ESCALATION_STATES = {
  route: "Start, resume or mirror?",
  escalate: "Escalate",
  done: "Done?",
  wait: "Wait for next level",
  mirror: "Mirror state change",
  recordFailure: "Record failure",
  stopped: "Stopped",
  failed: "Escalation failed",
} as const;

/**
 * The escalation workflow: Escalate (notify this level, claim it, say when the next is
 * due) → Wait → Escalate … until the step says done (acknowledged, resolved, or the policy
 * is exhausted). An execution started with `mirror` instead tells the channels about an
 * acknowledgement or resolution. Every Task retries, and any failure left is recorded on
 * the incident's timeline before the execution fails, so an escalation never dies silently.
 */
export function escalationDefinition(scope: Construct, handler: IFunction): IChainable {
  const s = ESCALATION_STATES;
  const retry = (task: LambdaInvoke) =>
    task.addRetry({
      errors: [
        Errors.TASKS_FAILED,
        "Lambda.ServiceException",
        "Lambda.TooManyRequestsException",
        "Lambda.SdkClientException",
      ],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 4,
      jitterStrategy: JitterType.FULL,
    });
  const invoke = (id: string, payload: Record<string, unknown>) =>
    retry(
      new LambdaInvoke(scope, id, {
        stateName: id,
        lambdaFunction: handler,
        payloadResponseOnly: true,
        payload: TaskInput.fromObject(payload),
        // One retry policy, ours, rather than CDK's default stacked on top of it.
        retryOnServiceExceptions: false,
      }),
    );

  const failed = new Fail(scope, s.failed, {
    stateName: s.failed,
    error: "EscalationFailed",
    cause: "an escalation step failed after its retries",
  });
  const recordFailure = invoke(s.recordFailure, {
    action: "failure",
    incidentId: JsonPath.stringAt("$.incidentId"),
    error: JsonPath.objectAt("$.error"),
  });
  recordFailure.addCatch(failed, { resultPath: "$.recordError" });
  recordFailure.next(failed);

  const escalate = invoke(s.escalate, {
    action: "step",
    incidentId: JsonPath.stringAt("$.incidentId"),
    step: JsonPath.numberAt("$.step"),
  });
  escalate.addCatch(recordFailure, { resultPath: "$.error" });
  const wait = new Wait(scope, s.wait, {
    stateName: s.wait,
    // Until the level is due, not for a number of seconds: the time a step takes to notify
    // never delays the next level, and there is no rounding to whole seconds.
    time: WaitTime.timestampPath("$.dueAt"),
  });
  const stopped = new Succeed(scope, s.stopped, { stateName: s.stopped });
  escalate.next(
    new Choice(scope, s.done, { stateName: s.done })
      .when(Condition.booleanEquals("$.done", true), stopped)
      .otherwise(wait.next(escalate)),
  );

  const mirror = invoke(s.mirror, {
    action: "mirror",
    incidentId: JsonPath.stringAt("$.incidentId"),
    kind: JsonPath.stringAt("$.mirror"),
  });
  mirror.addCatch(recordFailure, { resultPath: "$.error" });
  mirror.next(stopped);

  return (
    new Choice(scope, s.route, { stateName: s.route })
      .when(Condition.isPresent("$.mirror"), mirror)
      // A snoozed escalation resumes with a wait first.
      .when(Condition.isPresent("$.dueAt"), wait)
      .otherwise(escalate)
  );
}

/** The Standard workflow, one execution per incident, named after the incident id. */
export class EscalationStateMachine extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: { handler: IFunction }) {
    super(scope, id);
    this.stateMachine = new StateMachine(this, "StateMachine", {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(escalationDefinition(this, props.handler)),
      tracingEnabled: true,
      comment: "tocsin: escalate an incident level by level until acknowledged or resolved",
    });
  }
}
