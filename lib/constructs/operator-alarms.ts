import { Duration } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Stats,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";

/** Every alarm counts over five minutes. */
export const ALARM_PERIOD = Duration.minutes(5);

export interface OperatorAlarmsProps {
  readonly api: IHttpApi;
  /** By a name for people: it appears in each alarm's description. */
  readonly functions: Record<string, IFunction>;
  readonly escalation: IStateMachine;
  /** Subscribed to the topic by email when given (`-c operatorEmail=…`). */
  readonly operatorEmail?: string;
}

/**
 * tocsin watching itself: one alarm per way it can fail to deliver a page, all sent to
 * the operators' topic, both when they fire and when they clear. Any occurrence fires:
 * tocsin is what wakes people up, so a single lost webhook or failed escalation matters.
 *
 * No dead-letter queue or on-failure destination: nothing invokes a tocsin function
 * asynchronously. API Gateway and Step Functions invoke them synchronously, the caller
 * sees every failure (Alertmanager and Grafana resend, the state machine retries and
 * records it on the timeline), and these alarms report it. An async trigger added later
 * (SNS, EventBridge, S3) needs a destination and a depth alarm here.
 */
export class OperatorAlarms extends Construct {
  /** Where the alarms go: subscribe the on-call operators (email, chat, a pager). */
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperatorAlarmsProps) {
    super(scope, id);
    this.topic = new Topic(this, "Topic", {
      displayName: "tocsin operator alarms",
      enforceSSL: true,
    });
    if (props.operatorEmail) {
      this.topic.addSubscription(new EmailSubscription(props.operatorEmail));
    }
    const sum = { period: ALARM_PERIOD, statistic: Stats.SUM };

    this.add(
      "Api5xx",
      props.api.metricServerError(sum),
      "The HTTP API answered 5xx: a webhook, a Slack click or a read failed. Alertmanager " +
        "resends a failed webhook, Slack does not resend a click: see the API's access logs.",
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      const id = name.charAt(0).toUpperCase() + name.slice(1);
      this.add(
        `${id}Errors`,
        fn.metricErrors(sum),
        `The ${name} function failed (an error thrown, a timeout, out of memory): see its logs.`,
      );
      this.add(
        `${id}Throttles`,
        fn.metricThrottles(sum),
        `Lambda refused to run the ${name} function (concurrency limit): its callers got ` +
          "errors. Raise the account's concurrency or reserve some for tocsin.",
      );
    }
    this.add(
      "EscalationsFailed",
      props.escalation.metricFailed(sum),
      "An escalation failed: a step kept failing, tried again until the policy's end, or its " +
        "failure could not be recorded; someone may not have been paged. The incident's " +
        "timeline says which step failed and how often; the state machine's log group says why.",
    );
    this.add(
      "EscalationsTimedOut",
      props.escalation.metricTimedOut(sum),
      "An escalation ran past the state machine's timeout and was stopped: its incident " +
        "escalates no further. Look for a Wait that never ended.",
    );
    this.add(
      "EscalationsThrottled",
      props.escalation.metricThrottled(sum),
      "Step Functions throttled an escalation's state transitions: levels may be late.",
    );
  }

  private add(id: string, metric: IMetric, description: string): void {
    const alarm = new Alarm(this, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No datapoint means nothing happened: no requests, no failures.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
  }
}
