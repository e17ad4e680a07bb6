import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  LogLevel,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Wait,
  WaitTime,
} from "aws-cdk-lib/aws-stepfunctions";
import { LambdaInvoke } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { acknowledge, wildcardResource, XRAY_WILDCARD_REASON } from "../nag.js";

/**
 * How long one escalation execution may run before Step Functions stops it. The shipped
 * policy is done 75 minutes after the alert (60 minutes of levels after a 15 minute
 * delay), a snoozed one at most 4 hours later, and a page that keeps failing is tried for 4
 * hours after its level; a day is ample, and the stack refuses a
 * tocsin.yaml whose escalations could run longer (lib/escalation-timeout.ts). An execution
 * still running after a day is stuck (a Wait that never ends, a bug): its ExecutionsTimedOut
 * alarm tells the operators, instead of it pending for the year Standard workflows allow.
 */
export const ESCALATION_TIMEOUT = Duration.days(1);

/**
 * State names are the contract with the local engine, which binds its Task states to the
 * same handler by these names (functions/escalation/local-engine.ts).
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
 * The escalation workflow: Escalate (claim this level, notify, say when the next run is
 * due) → Wait → Escalate … until the step says done (acknowledged, resolved, or the policy
 * is exhausted with nothing left owed). A run may come before the next level is due, to try
 * a failed page again when its Retry-After or backoff ends. An execution started with `mirror` instead tells the channels about an
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

  // dueAt: when this run was scheduled, so the Task tells a level's time from an earlier
  // run for owed deliveries' later attempts without comparing clocks.
  const escalate = invoke(s.escalate, {
    action: "step",
    incidentId: JsonPath.stringAt("$.incidentId"),
    step: JsonPath.numberAt("$.step"),
    dueAt: JsonPath.stringAt("$.dueAt"),
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
      // A resumed escalation starts as a step that is not done (a snooze, a restart): it
      // waits until its dueAt first. A new one starts with step 0, due at once.
      .when(Condition.isPresent("$.done"), wait)
      .otherwise(escalate)
  );
}

/**
 * The Standard workflow, one execution per incident, named after the incident id. Every
 * event is logged with its data: inputs and outputs are an incident id, a step, a due time
 * and, on failure, the error; the alert payloads and the secrets never pass through it.
 */
export class EscalationStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: { handler: IFunction }) {
    super(scope, id);
    this.logGroup = new LogGroup(this, "Logs", {
      // Under /aws/vendedlogs/ CloudWatch Logs authorises Step Functions' delivery with one
      // wildcard entry; other names each take room in the account's 5,120-character
      // resource policy, which accounts with many state machines run out of.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-escalation`,
      retention: RetentionDays.ONE_MONTH,
      // A named group left behind would block the next deployment of the same stack; the
      // audit trail is the incident timeline in the retained table, not these logs.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, "StateMachine", {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(escalationDefinition(this, props.handler)),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
      timeout: ESCALATION_TIMEOUT,
      comment: "tocsin: escalate an incident level by level until acknowledged or resolved",
    });
    acknowledge(this.stateMachine.role, {
      "AwsSolutions-IAM5[Resource::*]":
        `${XRAY_WILDCARD_REASON} Logging to CloudWatch Logs likewise: Step Functions' ` +
        "logs:*LogDelivery, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups " +
        "accept only * (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).",
      [wildcardResource(this, `${props.handler.functionArn}:*`)]:
        "LambdaInvoke's grant: the escalation function and its qualified ARNs (versions, " +
        "aliases), which are still only the escalation function.",
    });
  }
}
