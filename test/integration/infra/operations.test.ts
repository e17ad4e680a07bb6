import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ESCALATION_TIMEOUT } from "../../../lib/constructs/escalation.js";
import {
  escalationDefinition,
  everyFunctionId,
  type Json,
  ofType,
  operatorTopicId,
  owedMirrorsSchedule,
  resolveText,
  type Synthesized,
  stateMachineOf,
  synthesize,
} from "./template-queries.js";

// Templates only: no bundling. With an operator email, which the other files leave out.
let synth: Synthesized;

beforeAll(() => {
  synth = synthesize({ grafanaHmac: false, bundle: false, operatorEmail: "ops@example.com" });
}, 60_000);

afterAll(() => {
  if (synth) rmSync(synth.outdir, { recursive: true, force: true });
});

const apiId = () => ofType(synth.resources, "AWS::ApiGatewayV2::Api")[0]![0];
const machineId = () => stateMachineOf(synth.resources)[0];

/** "namespace metric dimension=<logical id>": what a metric watches, in one line. */
const watched = (namespace: string, metric: string, dimension: string, value: Json) =>
  `${namespace} ${metric} ${dimension}=${resolveText(value)}`;

describe("operator alarms", () => {
  const alarms = () => ofType(synth.resources, "AWS::CloudWatch::Alarm");

  it("watch API 5xx, each function's errors and throttles, and failed, timed-out or throttled escalations", () => {
    const ids = everyFunctionId(synth);
    // Every function of the stack, the two of issue 13 (PagerDuty's webhook, the links) included.
    expect(Object.keys(ids).sort()).toEqual([
      "ackLinks",
      "alertmanagerWebhook",
      "escalation",
      "grafanaWebhook",
      "owedMirrors",
      "pagerDutyWebhook",
      "readApi",
      "slackInteractions",
    ]);
    const functions = Object.values(ids);
    const expected = [
      watched("AWS/ApiGateway", "5xx", "ApiId", { Ref: apiId() }),
      ...functions.flatMap((id) => [
        watched("AWS/Lambda", "Errors", "FunctionName", { Ref: id }),
        watched("AWS/Lambda", "Throttles", "FunctionName", { Ref: id }),
      ]),
      ...["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled"].map((metric) =>
        watched("AWS/States", metric, "StateMachineArn", { Ref: machineId() }),
      ),
    ];
    const actual = alarms().map(([id, { Properties: p }]) => {
      expect(p.Dimensions, id).toHaveLength(1);
      return watched(p.Namespace, p.MetricName, p.Dimensions[0].Name, p.Dimensions[0].Value);
    });
    expect(actual.sort()).toEqual(expected.sort());
  });

  it("fire on a single occurrence in five minutes, and tell the operators' topic both ways", () => {
    const topic = { Ref: operatorTopicId(synth) };
    expect(alarms().length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms()) {
      expect(alarm.Properties, id).toMatchObject({
        Statistic: "Sum",
        Period: 300,
        EvaluationPeriods: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        Threshold: 1,
        // No requests or no executions is not a failure.
        TreatMissingData: "notBreaching",
        AlarmActions: [topic],
        OKActions: [topic],
      });
      // What the operator reads in the notification: what failed and where to look.
      expect(alarm.Properties.AlarmDescription?.length ?? 0, id).toBeGreaterThan(40);
    }
  });

  it("go to a topic whose ARN is an output, that takes TLS only, with -c operatorEmail subscribed", () => {
    const topic = operatorTopicId(synth);
    synth.template.hasOutput("OperatorAlarmsTopicArn", { Value: { Ref: topic } });
    const subscriptions = ofType(synth.resources, "AWS::SNS::Subscription")
      .map(([, s]) => s.Properties)
      .filter((s) => s.TopicArn.Ref === topic);
    expect(subscriptions).toEqual([
      { Protocol: "email", TopicArn: { Ref: topic }, Endpoint: "ops@example.com" },
    ]);
  });

  it("need no dead-letter queue: nothing is invoked asynchronously but the Slack function's notes and the owed-mirrors schedule", () => {
    // Were an SNS, EventBridge or S3 trigger added, its failures would need a destination.
    // The Slack function invokes itself for the clicker's note, which is a courtesy (the
    // click's change is stored): a failed note is logged and counted in the function's
    // errors, whose alarm exists, and is never retried, since it could be posted twice.
    // The owed-mirrors sweep runs every minute: a run that failed is counted the same way,
    // and the next minute's run is its retry.
    const { resources } = synth;
    const sweep = owedMirrorsSchedule(synth).functionId;
    for (const [id, permission] of ofType(resources, "AWS::Lambda::Permission")) {
      if (permission.Properties.FunctionName["Fn::GetAtt"]?.[0] === sweep)
        expect(permission.Properties.Principal, id).toBe("events.amazonaws.com");
      else expect(permission.Properties.Principal, id).toBe("apigateway.amazonaws.com");
    }
    for (const type of ["AWS::Lambda::EventSourceMapping", "AWS::SQS::Queue"]) {
      expect(ofType(resources, type), type).toEqual([]);
    }
    expect(ofType(resources, "AWS::Events::Rule")).toHaveLength(1);
    const configs = ofType(resources, "AWS::Lambda::EventInvokeConfig").map(
      ([, c]) => c.Properties,
    );
    expect(configs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          FunctionName: { Ref: expect.stringMatching(/^SlackInteractions/) },
          MaximumRetryAttempts: 0,
        }),
        expect.objectContaining({
          FunctionName: { Ref: sweep },
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: 60,
        }),
      ]),
    );
    expect(configs).toHaveLength(2);
    for (const config of configs) expect(config.DestinationConfig).toBeUndefined();
    const protocols = ofType(resources, "AWS::SNS::Subscription").map(
      ([, s]) => s.Properties.Protocol,
    );
    expect(new Set(protocols)).toEqual(new Set(["email"]));
  });
});

describe("topics", () => {
  it("all refuse publishing without TLS", () => {
    const topics = ofType(synth.resources, "AWS::SNS::Topic").map(([id]) => id);
    expect(topics.length).toBeGreaterThan(1);
    const enforced = ofType(synth.resources, "AWS::SNS::TopicPolicy").flatMap(([, policy]) =>
      (policy.Properties.PolicyDocument.Statement as Json[])
        .filter(
          (s) =>
            s.Effect === "Deny" &&
            s.Action === "sns:Publish" &&
            s.Condition?.Bool?.["aws:SecureTransport"] === "false",
        )
        .map((s) => s.Resource.Ref),
    );
    expect(enforced.sort()).toEqual(topics.sort());
  });
});

describe("dashboard", () => {
  const body = () => {
    const [, dashboard] = ofType(synth.resources, "AWS::CloudWatch::Dashboard")[0]!;
    return JSON.parse(resolveText(dashboard.Properties.DashboardBody));
  };
  const metrics = (): string[] =>
    body().widgets.flatMap((widget: Json) =>
      (widget.properties.metrics ?? []).map(([namespace, metric, dimension, value]: Json[]) =>
        watched(namespace, metric, dimension, value),
      ),
    );

  it("shows the API's traffic, 4xx, 5xx and latency", () => {
    const api = { Ref: apiId() };
    expect(metrics()).toEqual(
      expect.arrayContaining(
        ["Count", "4xx", "5xx", "Latency", "IntegrationLatency"].map((metric) =>
          watched("AWS/ApiGateway", metric, "ApiId", api),
        ),
      ),
    );
  });

  it("shows each function's invocations, errors and duration", () => {
    const expected = Object.values(everyFunctionId(synth)).flatMap((id) =>
      ["Invocations", "Errors", "Duration"].map((metric) =>
        watched("AWS/Lambda", metric, "FunctionName", { Ref: id }),
      ),
    );
    expect(expected).toHaveLength(3 * 8);
    expect(metrics()).toEqual(expect.arrayContaining(expected));
  });

  it("shows escalations started, succeeded and failed", () => {
    const machine = { Ref: machineId() };
    expect(metrics()).toEqual(
      expect.arrayContaining(
        ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"].map((metric) =>
          watched("AWS/States", metric, "StateMachineArn", machine),
        ),
      ),
    );
  });

  it("shows every alarm's state, and its URL is an output", () => {
    const alarmWidget = body().widgets.find((widget: Json) => widget.type === "alarm");
    const alarmArns = ofType(synth.resources, "AWS::CloudWatch::Alarm").map(
      ([id]) => `<${id}.Arn>`,
    );
    expect([...alarmWidget.properties.alarms].sort()).toEqual(alarmArns.sort());
    const dashboards = ofType(synth.resources, "AWS::CloudWatch::Dashboard");
    expect(dashboards).toHaveLength(1);
    const [dashboardId] = dashboards[0]!;
    const url = resolveText(synth.template.toJSON().Outputs.DashboardUrl.Value);
    expect(url).toBe(
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1" +
        `#dashboards/dashboard/<${dashboardId}>`,
    );
  });
});

describe("API access logs", () => {
  const stage = () => ofType(synth.resources, "AWS::ApiGatewayV2::Stage")[0]![1].Properties;

  it("go to a log group with a retention", () => {
    const { DestinationArn } = stage().AccessLogSettings;
    const [logGroupId, attribute] = DestinationArn["Fn::GetAtt"];
    expect(attribute).toBe("Arn");
    const logGroup = synth.resources[logGroupId];
    expect(logGroup.Type).toBe("AWS::Logs::LogGroup");
    expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it("are one JSON object per request, of $context variables only: no header, no body", () => {
    const format = JSON.parse(stage().AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: "$context.requestId",
      routeKey: "$context.routeKey",
      status: "$context.status",
      responseLatency: "$context.responseLatency",
      integrationError: "$context.integrationErrorMessage",
    });
    for (const [field, value] of Object.entries(format)) {
      expect(value, field).toMatch(/^\$context\.[A-Za-z.]+$/);
      // Authorization, cookies and signatures travel in headers: none is ever logged.
      expect(value, field).not.toMatch(/header|authorizer|body/i);
    }
  });
});

describe("escalation state machine", () => {
  it("logs every event with its data to a /aws/vendedlogs/ log group with a retention", () => {
    const [, machine] = stateMachineOf(synth.resources);
    const config = machine.Properties.LoggingConfiguration;
    expect(config).toMatchObject({ Level: "ALL", IncludeExecutionData: true });
    expect(config.Destinations).toHaveLength(1);
    const [logGroupId, attribute] = config.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn[
      "Fn::GetAtt"
    ] as [string, string];
    expect(attribute).toBe("Arn");
    const logGroup = synth.resources[logGroupId];
    expect(logGroup.Properties.LogGroupName).toBe("/aws/vendedlogs/states/Tocsin-escalation");
    expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it("stops an execution after a day, which the ExecutionsTimedOut alarm reports", () => {
    // Standard workflows otherwise run for up to a year; lib/escalation-timeout.ts refuses
    // a tocsin.yaml whose escalations could need longer.
    expect(ESCALATION_TIMEOUT.toSeconds()).toBe(86_400);
    expect(escalationDefinition(synth).TimeoutSeconds).toBe(86_400);
  });
});
