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
 * delay), a snoozed one at most 4 hours later, and a page (or a step) that keeps failing is
 * tried for 4 hours after the last level; a day is ample, and the stack refuses a
 * tocsin.yaml whose escalations could run longer (lib/escalation-timeout.ts). An execution
 * still running after a day is stuck (a Wait that never ends, a bug): its ExecutionsTimedOut
 * alarm tells the operators, instead of it pending for the year Standard workflows allow.
 */
export const ESCALATION_TIMEOUT = Duration.days(1);

/** How long one invocation of the escalation function may run (a level notifies every channel). */
export const ESCALATION_FUNCTION_TIMEOUT = Duration.seconds(60);

/**
 * Every Task's Retry: ASL's MaxAttempts counts the retries, after the first attempt; each
 * waits up to interval × backoffRate^n (full jitter: anything below that).
 */
export const TASK_RETRY = { intervalSeconds: 2, backoffRate: 2, maxAttempts: 4 } as const;

/** The longest one Task state can take: every attempt to the function's timeout, every wait in full. */
export function taskWorstCaseSeconds(): number {
  let seconds = (TASK_RETRY.maxAttempts + 1) * ESCALATION_FUNCTION_TIMEOUT.toSeconds();
  for (let retry = 0; retry < TASK_RETRY.maxAttempts; retry++)
    seconds += TASK_RETRY.intervalSeconds * TASK_RETRY.backoffRate ** retry;
  return seconds;
}

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
  tryAgain: "Try again?",
  waitToRetry: "Wait to try again",
  stopped: "Stopped",
  failed: "Escalation failed",
} as const;

/**
 * The escalation workflow: Escalate (claim this level, notify, say when the next run is
 * due) → Wait → Escalate … until the step says done (acknowledged, resolved, or the policy
 * is exhausted with nothing left owed). A run may come before the next level is due, to try
 * a failed page again when its Retry-After or backoff ends. An execution started with
 * `mirror` instead tells the channels about an acknowledgement or resolution. Every Task
 * retries, and any failure left is recorded on the incident's timeline (Record failure),
 * which says whether to try again: while the incident is triggered (a mirror: while its
 * state is owed) and the policy is not over, the execution waits, longer each time
 * (Wait to try again), and runs the step again from the start; else it stops, or fails when
 * it gives up. A pager never ends an escalation for a fault while the incident is open, and
 * never silently; the normal path has none of these states, so it costs what it did.
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
      interval: Duration.seconds(TASK_RETRY.intervalSeconds),
      backoffRate: TASK_RETRY.backoffRate,
      maxAttempts: TASK_RETRY.maxAttempts,
      jitterStrategy: JitterType.FULL,
    });
  const invoke = (id: string, payload: Record<string, unknown>, resultPath?: string) =>
    retry(
      new LambdaInvoke(scope, id, {
        stateName: id,
        lambdaFunction: handler,
        payloadResponseOnly: true,
        payload: TaskInput.fromObject(payload),
        // One retry policy, ours, rather than CDK's default stacked on top of it.
        retryOnServiceExceptions: false,
        ...(resultPath ? { resultPath } : {}),
      }),
    );

  const failed = new Fail(scope, s.failed, {
    stateName: s.failed,
    error: "EscalationFailed",
    cause: "an escalation step failed after its retries",
  });
  // Given the whole state: whether it is a mirror, and how long it has been failing
  // ($.retry, what the last failure answered), which may be absent.
  const recordFailure = invoke(
    s.recordFailure,
    {
      action: "failure",
      incidentId: JsonPath.stringAt("$.incidentId"),
      error: JsonPath.objectAt("$.error"),
      state: JsonPath.entirePayload,
    },
    "$.retry",
  );
  recordFailure.addCatch(failed, { resultPath: "$.recordError" });
  const stopped = new Succeed(scope, s.stopped, { stateName: s.stopped });
  const retryWait = new Wait(scope, s.waitToRetry, {
    stateName: s.waitToRetry,
    time: WaitTime.timestampPath("$.retry.at"),
  });
  recordFailure.next(
    new Choice(scope, s.tryAgain, { stateName: s.tryAgain })
      .when(Condition.stringEquals("$.retry.outcome", "again"), retryWait)
      .when(Condition.stringEquals("$.retry.outcome", "stopped"), stopped)
      .otherwise(failed),
  );

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

  const route = new Choice(scope, s.route, { stateName: s.route })
    .when(Condition.isPresent("$.mirror"), mirror)
    // A resumed escalation starts as a step that is not done (a snooze, a restart): it
    // waits until its dueAt first. A new one starts with step 0, due at once.
    .when(Condition.isPresent("$.done"), wait)
    .otherwise(escalate);
  // A step tried again starts over from the state it failed in: the same step, or mirror.
  retryWait.next(route);
  return route;
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
