import { join } from "node:path";
import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Grant } from "aws-cdk-lib/aws-iam";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { Construct } from "constructs";
import { readServiceSnapshot } from "../functions/adapters/config-file.js";
import { serviceFromSnapshot } from "../functions/adapters/service-snapshot.js";
import type { FunctionName } from "../functions/entry/route-keys.js";
import { grafanaSignatureHeaders } from "../functions/integrations/grafana/signature.js";
import { AckLinks } from "./constructs/ack-links.js";
import { ESCALATION_FUNCTION_TIMEOUT, EscalationStateMachine } from "./constructs/escalation.js";
import { INGEST_ACTIONS, IncidentTable, READ_ACTIONS } from "./constructs/incident-table.js";
import { OperatorAlarms } from "./constructs/operator-alarms.js";
import { PagerDutyIntegration } from "./constructs/pagerduty.js";
import { PhoneMessaging, type PhoneMessagingProps } from "./constructs/phone-messaging.js";
import { ServiceDashboard } from "./constructs/service-dashboard.js";
import {
  PROJECT_ROOT,
  stageServiceSnapshot,
  TocsinFunction,
  type TocsinFunctionProps,
} from "./constructs/tocsin-function.js";
import { assertEscalationsFitTimeout } from "./escalation-timeout.js";
import { addHttpApi } from "./http-api.js";
import { acknowledge, wildcardResource } from "./nag.js";
import { grantSecretRead, SHARED_TOKEN, tokenSecret, VENDOR_CREDENTIAL } from "./token-secret.js";

export interface TocsinStackProps extends StackProps {
  /** Creates a Grafana HMAC secret; the grafana webhook then requires a valid signature. */
  readonly grafanaHmac?: boolean;
  /**
   * The Grafana contact point's HMAC header and timestamp header when they are not
   * Grafana's defaults (`hmacConfig.header`, `hmacConfig.timestampHeader`).
   */
  readonly grafanaSignatureHeader?: string | undefined;
  readonly grafanaTimestampHeader?: string | undefined;
  /** Subscribed by email to the operator alarms topic. */
  readonly operatorEmail?: string;
  /** SMS, voice calls, two-way SMS and personal email (lib/constructs/phone-messaging.ts). */
  readonly phones?: PhoneMessagingProps | undefined;
}

/** One entry point per function name in ROUTE_KEYS; a new name fails to compile until wired. */
/**
 * Each HTTP function, with the memory (and so CPU) and timeout its work needs. A delivery is
 * a few conditional writes per alert, 64 alerts at a time, but one may carry thousands
 * (Alertmanager's max_alerts in examples/: 2,000): the SDK's work for each request is CPU,
 * so the webhooks get one whole vCPU (1,769 MB; 512 MB is under a third of one) and the
 * longest timeout API Gateway allows (it gives up on an integration after 30 s). A delivery
 * still under way a second before it is answered 503 (the sender retries, and the retry
 * goes further). A click is one write; the read API builds reports and CSV exports.
 */
/** Lambda gives a function one full vCPU at 1,769 MB. */
const WEBHOOK_MEMORY_MB = 1_769;

const ENTRIES: Record<FunctionName, Omit<TocsinFunctionProps, "serviceSnapshot">> = {
  alertmanagerWebhook: {
    entry: "functions/entry/alertmanager-webhook.ts",
    description: "tocsin: Alertmanager webhook v4 to incidents",
    memorySize: WEBHOOK_MEMORY_MB,
    timeout: Duration.seconds(29),
  },
  grafanaWebhook: {
    entry: "functions/entry/grafana-webhook.ts",
    description: "tocsin: Grafana webhook contact point to incidents",
    memorySize: WEBHOOK_MEMORY_MB,
    timeout: Duration.seconds(29),
  },
  readApi: {
    entry: "functions/entry/read-api.ts",
    description: "tocsin: incidents read API",
    memorySize: 1024,
    timeout: Duration.seconds(29),
  },
  slackInteractions: {
    entry: "functions/entry/slack-interactions.ts",
    description: "tocsin: Slack buttons (acknowledge, resolve, snooze)",
    // Slack shows an error after 3 s, but a state change under way must still finish.
    memorySize: 512,
    timeout: Duration.seconds(10),
  },
  // ── PagerDuty (WP3) ──
  pagerDutyWebhook: {
    entry: "functions/entry/pagerduty-webhook.ts",
    description: "tocsin: PagerDuty v3 webhooks (acknowledged, resolved in PagerDuty)",
    // PagerDuty gives up after 5 s and retries; a state change under way must still finish.
    memorySize: 512,
    timeout: Duration.seconds(10),
  },
  // ── end PagerDuty ──
  ackLinks: {
    entry: "functions/entry/ack-links.ts",
    description: "tocsin: signed acknowledgement links (GET shows, POST acts)",
    memorySize: 512,
    timeout: Duration.seconds(10),
  },
};

/** What an escalation step does to the table: read the incident, claim steps, record outcomes. */
const ESCALATION_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:UpdateItem",
  "dynamodb:BatchGetItem",
] as const;

/**
 * tocsin on AWS: the incident table, the webhook and read functions behind one HTTP API,
 * and the tokens in Secrets Manager. Each function may touch only what its routes use.
 */
export class TocsinStack extends Stack {
  constructor(scope: Construct, id: string, props: TocsinStackProps = {}) {
    super(scope, id, props);

    const incidents = new IncidentTable(this, "Incidents");
    const webhookToken = tokenSecret(
      this,
      "WebhookToken",
      "tocsin: bearer token (or Basic auth password) required on /webhooks/*",
      SHARED_TOKEN,
    );
    const apiToken = tokenSecret(
      this,
      "ApiToken",
      "tocsin: bearer token for the read API and the history page",
      SHARED_TOKEN,
    );
    const grafanaHmacSecret = props.grafanaHmac
      ? tokenSecret(
          this,
          "GrafanaHmacSecret",
          "tocsin: Grafana webhook HMAC signing secret",
          SHARED_TOKEN,
        )
      : undefined;

    // Each function is told (and may read) only the tokens its own routes check: the
    // webhooks the webhook token, the read API the API token, Slack's clicks neither.
    const environment: Record<string, string> = { TABLE_NAME: incidents.table.tableName };
    const webhookTokenArn = { WEBHOOK_TOKEN_SECRET_ARN: webhookToken.secretArn };
    // tocsin.yaml and the runbooks, read and validated once (a bad config fails the synth,
    // naming the field), then bundled into every function.
    const snapshot = readServiceSnapshot(join(PROJECT_ROOT, "tocsin.yaml"));
    const { config } = serviceFromSnapshot(snapshot, "tocsin.yaml");
    const serviceSnapshot = stageServiceSnapshot(snapshot);
    const fn = (name: FunctionName, extra: Record<string, string> = {}) =>
      new TocsinFunction(this, name.charAt(0).toUpperCase() + name.slice(1), {
        ...ENTRIES[name],
        serviceSnapshot,
        environment: { ...environment, ...extra },
      });

    // The same variables as the local server's, checked here so a bad name fails the synth.
    const grafanaHeaders = Object.fromEntries(
      Object.entries({
        TOCSIN_GRAFANA_SIGNATURE_HEADER: props.grafanaSignatureHeader,
        TOCSIN_GRAFANA_TIMESTAMP_HEADER: props.grafanaTimestampHeader,
      }).filter((entry): entry is [string, string] => Boolean(entry[1])),
    );
    grafanaSignatureHeaders(grafanaHeaders);

    const functions: Record<FunctionName, TocsinFunction> = {
      alertmanagerWebhook: fn("alertmanagerWebhook", webhookTokenArn),
      grafanaWebhook: fn("grafanaWebhook", {
        ...webhookTokenArn,
        ...grafanaHeaders,
        ...(grafanaHmacSecret ? { GRAFANA_HMAC_SECRET_ARN: grafanaHmacSecret.secretArn } : {}),
      }),
      readApi: fn("readApi", { API_TOKEN_SECRET_ARN: apiToken.secretArn }),
      slackInteractions: fn("slackInteractions"),
      pagerDutyWebhook: fn("pagerDutyWebhook"),
      ackLinks: fn("ackLinks"),
    };

    // The escalation: one function behind the Standard state machine, plus what it talks to.
    // A policy longer than the state machine's timeout would be cut short: refuse it here.
    assertEscalationsFitTimeout(config);
    const emailTopics: Record<string, string> = {};
    const topics: Topic[] = [];
    for (const [id, channel] of Object.entries(config.channels)) {
      if (channel.type !== "email") continue;
      const topic = new Topic(this, `Email-${id}`, {
        displayName: `tocsin ${channel.address}`,
        enforceSSL: true,
      });
      topic.addSubscription(new EmailSubscription(channel.address));
      emailTopics[channel.address] = topic.topicArn;
      topics.push(topic);
    }
    const slackBotToken = tokenSecret(
      this,
      "SlackBotToken",
      "tocsin: Slack bot token (xoxb-…): put yours here",
      VENDOR_CREDENTIAL,
    );
    const pagerDutyKey = tokenSecret(
      this,
      "PagerDutyRoutingKey",
      "tocsin: PagerDuty Events v2 routing key: put yours here",
      VENDOR_CREDENTIAL,
    );
    const escalationFunction = new TocsinFunction(this, "Escalation", {
      entry: "functions/entry/escalation.ts",
      serviceSnapshot,
      description: "tocsin: one step of an incident's escalation (notify, wait, check)",
      // A level notifies every channel, each retrying 429s and 5xx as Retry-After says.
      memorySize: 512,
      timeout: ESCALATION_FUNCTION_TIMEOUT,
      environment: {
        TABLE_NAME: incidents.table.tableName,
        SLACK_BOT_TOKEN_SECRET_ARN: slackBotToken.secretArn,
        PAGERDUTY_ROUTING_KEY_SECRET_ARN: pagerDutyKey.secretArn,
        EMAIL_TOPICS: JSON.stringify(emailTopics),
      },
    });
    incidents.grant(escalationFunction, ESCALATION_ACTIONS);
    grantSecretRead(escalationFunction, slackBotToken, pagerDutyKey);
    for (const topic of topics) topic.grantPublish(escalationFunction);
    const escalation = new EscalationStateMachine(this, "EscalationWorkflow", {
      handler: escalationFunction,
    });
    // What a lost invocation left untold (an acknowledge stored, its mirror never started):
    // every minute, the mirror of each state still owed is started (one Query per owed state
    // on a sparse index when nothing is; a mirror started already is not started again).
    const owedMirrors = new TocsinFunction(this, "OwedMirrors", {
      entry: "functions/entry/owed-mirrors.ts",
      serviceSnapshot,
      description:
        "tocsin: every minute, start the mirrors that acknowledgements or resolutions still owe",
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: {
        TABLE_NAME: incidents.table.tableName,
        STATE_MACHINE_ARN: escalation.stateMachine.stateMachineArn,
      },
    });
    incidents.grant(owedMirrors, ["dynamodb:Query"]);
    // The next minute's run is the retry: Lambda retries no failed run, nor keeps one queued.
    owedMirrors.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    escalation.stateMachine.grantStartExecution(owedMirrors);
    new Rule(this, "OwedMirrorsSchedule", {
      description: "tocsin: start the mirrors of acknowledgements and resolutions still owed",
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(owedMirrors, { retryAttempts: 0 })],
    });
    const slackSigningSecret = tokenSecret(
      this,
      "SlackSigningSecret",
      "tocsin: the Slack app's signing secret: put yours here",
      VENDOR_CREDENTIAL,
    );
    functions.slackInteractions.addEnvironment(
      "SLACK_SIGNING_SECRET_ARN",
      slackSigningSecret.secretArn,
    );
    grantSecretRead(functions.slackInteractions, slackSigningSecret);
    // The clicker's note goes out from an asynchronous invocation of the same function; a
    // response_url stays valid 30 minutes, so a note queued longer is not worth sending.
    functions.slackInteractions.allowSelfInvoke(Duration.minutes(15));
    incidents.grant(functions.slackInteractions, ESCALATION_ACTIONS);
    incidents.grantReplayRecords(functions.slackInteractions);
    // Ingest starts and stops escalations; a click stops them, mirrors and resumes snoozes.
    const executions = `arn:${this.partition}:states:${this.region}:${this.account}:execution:${escalation.stateMachine.stateMachineName}:*`;
    // ── PagerDuty (WP3): its secrets and the webhook function's table access ──
    new PagerDutyIntegration(this, "PagerDuty", {
      webhookFunction: functions.pagerDutyWebhook,
      escalationFunction,
      incidents,
      tableActions: ESCALATION_ACTIONS,
    });
    // ── end PagerDuty ──
    incidents.grant(functions.ackLinks, ESCALATION_ACTIONS);
    incidents.grantReplayRecords(functions.ackLinks);
    for (const name of [
      "alertmanagerWebhook",
      "grafanaWebhook",
      "slackInteractions",
      "pagerDutyWebhook",
      "ackLinks",
    ] as const) {
      functions[name].addEnvironment("STATE_MACHINE_ARN", escalation.stateMachine.stateMachineArn);
      escalation.stateMachine.grantStartExecution(functions[name]);
      Grant.addToPrincipal({
        grantee: functions[name],
        actions: ["states:StopExecution"],
        resourceArns: [executions],
      });
      acknowledge(functions[name].executionRole, {
        [wildcardResource(this, executions)]:
          "StopExecution takes an execution ARN, and executions are named at run time after " +
          "their incident: `execution:<escalation state machine>:*` is every execution of " +
          "that one state machine and of no other.",
      });
    }

    // ── phones (WP2): SMS, voice, two-way SMS, personal email ──
    new PhoneMessaging(this, "Phones", {
      ...props.phones,
      ...{
        escalationFunction,
        incidents,
        serviceSnapshot,
        executions,
        actions: ESCALATION_ACTIONS,
      },
      stateMachine: escalation.stateMachine,
    });
    // ── end phones ──

    incidents.grant(functions.alertmanagerWebhook, INGEST_ACTIONS);
    incidents.grant(functions.grafanaWebhook, INGEST_ACTIONS);
    incidents.grant(functions.readApi, READ_ACTIONS);
    grantSecretRead(functions.alertmanagerWebhook, webhookToken);
    grantSecretRead(
      functions.grafanaWebhook,
      ...(grafanaHmacSecret ? [webhookToken, grafanaHmacSecret] : [webhookToken]),
    );
    grantSecretRead(functions.readApi, apiToken);

    const { api, stage } = addHttpApi(this, functions);
    const ackLinks = new AckLinks(this, "LinkSigning", {
      links: functions.ackLinks,
      escalation: escalationFunction,
      publicUrl: stage.url,
    });

    // tocsin watching itself: alarms to the operators, one dashboard.
    const monitored = { ...functions, escalation: escalationFunction, owedMirrors };
    const alarms = new OperatorAlarms(this, "OperatorAlarms", {
      api,
      functions: monitored,
      escalation: escalation.stateMachine,
      operatorEmail: props.operatorEmail,
    });
    const dashboard = new ServiceDashboard(this, "Dashboard", {
      api,
      functions: monitored,
      escalation: escalation.stateMachine,
      alarms: alarms.alarms,
    });

    new CfnOutput(this, "ApiUrl", { value: stage.url, description: "tocsin base URL" });
    new CfnOutput(this, "TableName", { value: incidents.table.tableName });
    new CfnOutput(this, "WebhookTokenSecretArn", {
      value: webhookToken.secretArn,
      description: "aws secretsmanager get-secret-value --secret-id <arn> gives the token",
    });
    new CfnOutput(this, "ApiTokenSecretArn", { value: apiToken.secretArn });
    new CfnOutput(this, "SlackBotTokenSecretArn", { value: slackBotToken.secretArn });
    new CfnOutput(this, "SlackSigningSecretArn", { value: slackSigningSecret.secretArn });
    new CfnOutput(this, "PagerDutyRoutingKeySecretArn", { value: pagerDutyKey.secretArn });
    new CfnOutput(this, "AckLinkKeySecretArn", { value: ackLinks.key.secretArn });
    new CfnOutput(this, "EscalationStateMachineArn", {
      value: escalation.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, "OperatorAlarmsTopicArn", {
      value: alarms.topic.topicArn,
      description: "every tocsin alarm, firing and clearing: subscribe the operators here",
    });
    new CfnOutput(this, "DashboardUrl", { value: dashboard.url });
    if (grafanaHmacSecret) {
      new CfnOutput(this, "GrafanaHmacSecretArn", { value: grafanaHmacSecret.secretArn });
    }
  }
}
