import { Aws, Duration } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  Stats,
} from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";

export interface ServiceDashboardProps {
  readonly api: IHttpApi;
  /** By the name each line is labelled with. */
  readonly functions: Record<string, IFunction>;
  readonly escalation: IStateMachine;
  readonly alarms: IAlarm[];
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;

/**
 * tocsin's own metrics on one page: the alarms' state, the API's traffic, errors and
 * latency, each function's invocations, errors and duration, and the escalations.
 */
export class ServiceDashboard extends Construct {
  readonly dashboard: Dashboard;
  /** The dashboard in the CloudWatch console. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const sum = { period: PERIOD, statistic: Stats.SUM };
    const byFunction = (title: string, metric: (fn: IFunction, label: string) => IMetric) =>
      new GraphWidget({
        title,
        width: WIDTH,
        left: Object.entries(props.functions).map(([name, fn]) => metric(fn, name)),
      });

    this.dashboard = new Dashboard(this, "Dashboard", { defaultInterval: Duration.days(1) });
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: "Operator alarms", alarms: props.alarms, width: 24 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "API requests",
        width: WIDTH,
        left: [
          props.api.metricCount({ ...sum, label: "requests" }),
          props.api.metricClientError({ ...sum, label: "4xx" }),
          props.api.metricServerError({ ...sum, label: "5xx" }),
        ],
      }),
      new GraphWidget({
        title: "API latency (ms)",
        width: WIDTH,
        left: [
          props.api.metricLatency({ period: PERIOD, statistic: Stats.p(50), label: "p50" }),
          props.api.metricLatency({ period: PERIOD, statistic: Stats.p(99), label: "p99" }),
          props.api.metricIntegrationLatency({
            period: PERIOD,
            statistic: Stats.p(99),
            label: "integration p99",
          }),
        ],
      }),
      new GraphWidget({
        title: "Escalations",
        width: WIDTH,
        left: [
          props.escalation.metricStarted({ ...sum, label: "started" }),
          props.escalation.metricSucceeded({ ...sum, label: "succeeded" }),
          props.escalation.metricFailed({ ...sum, label: "failed" }),
          props.escalation.metricTimedOut({ ...sum, label: "timed out" }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      byFunction("Function invocations", (fn, label) => fn.metricInvocations({ ...sum, label })),
      byFunction("Function errors", (fn, label) => fn.metricErrors({ ...sum, label })),
      byFunction("Function duration p99 (ms)", (fn, label) =>
        fn.metricDuration({ period: PERIOD, statistic: Stats.p(99), label }),
      ),
    );
    this.url =
      `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}` +
      `#dashboards/dashboard/${this.dashboard.dashboardName}`;
  }
}
