import { Logger } from "@aws-lambda-powertools/logger";
import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { flushingMetrics, PowertoolsTelemetry } from "../adapters/metrics/powertools-telemetry.js";
import { buildNotifiers } from "../adapters/notifiers/notifiers.js";
import { type SlackResponder, slackResponder } from "../adapters/notifiers/slack-responder.js";
import { loadServiceSnapshot } from "../adapters/service-snapshot.js";
import { StepFunctionsRunner } from "../adapters/step-functions-runner.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import {
  buildEscalation,
  buildReadApi,
  buildSlackInteractions,
  buildWebhooks,
  composeBase,
  type Runtime,
} from "./compose.js";

/** How long a secret read from Secrets Manager is reused before it is read again. */
const SECRET_MAX_AGE_SECONDS = 300;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function secret(arn: string) {
  return async () => {
    const value = await getSecret(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
    if (typeof value !== "string" || value === "") throw new Error(`secret ${arn} is empty`);
    return value;
  };
}

/** Reads a secret once at cold start, if its ARN is configured. */
async function optionalSecret(variable: string): Promise<string | undefined> {
  const arn = process.env[variable];
  return arn ? secret(arn)() : undefined;
}

/**
 * What every function shares: table from TABLE_NAME, and the config and runbooks from the
 * JSON snapshot bundled beside the code (TOCSIN_CONFIG), which needs no YAML parser.
 */
function baseRuntime(): Omit<Runtime, "webhookToken" | "apiToken" | "grafanaHmacSecret"> {
  const { config, runbooks } = loadServiceSnapshot(process.env.TOCSIN_CONFIG ?? "tocsin.json");
  return { dynamodb: new DynamoDBClient({}), tableName: required("TABLE_NAME"), config, runbooks };
}

/** The HTTP functions' runtime: tokens from Secrets Manager by ARN, read lazily and cached. */
function httpRuntime(): Runtime {
  const grafanaArn = process.env.GRAFANA_HMAC_SECRET_ARN;
  return {
    ...baseRuntime(),
    webhookToken: secret(required("WEBHOOK_TOKEN_SECRET_ARN")),
    apiToken: secret(required("API_TOKEN_SECRET_ARN")),
    grafanaHmacSecret: grafanaArn ? secret(grafanaArn) : () => undefined,
  };
}

/** Escalations start and stop on the state machine in STATE_MACHINE_ARN. */
function stepFunctions(): EscalationRunner | undefined {
  const arn = process.env.STATE_MACHINE_ARN;
  return arn ? new StepFunctionsRunner(new SFNClient({}), arn) : undefined;
}

/*
 * One builder per function, so that each bundle carries only its own code (package.json
 * says our modules have no import side effects, which lets esbuild drop the rest).
 */

/** The webhook functions: they count deliveries, duplicates and opened incidents. */
export function webhookLambdas() {
  const telemetry = new PowertoolsTelemetry();
  const runtime = { ...httpRuntime(), telemetry };
  const { alertmanagerWebhook, grafanaWebhook } = buildWebhooks(
    runtime,
    composeBase(runtime),
    stepFunctions(),
  );
  return {
    alertmanagerWebhook: flushingMetrics(telemetry, alertmanagerWebhook),
    grafanaWebhook: flushingMetrics(telemetry, grafanaWebhook),
  };
}

/** The read API and history page function. */
export function readApiLambda() {
  const runtime = httpRuntime();
  return buildReadApi(runtime, composeBase(runtime));
}

/**
 * The Slack interactions function: signing secret and bot token read when first needed;
 * it times acknowledgements.
 */
export function slackInteractionsLambda() {
  const telemetry = new PowertoolsTelemetry();
  const signingArn = process.env.SLACK_SIGNING_SECRET_ARN;
  const botTokenArn = process.env.SLACK_BOT_TOKEN_SECRET_ARN;
  let responder: SlackResponder | undefined;
  const runtime: Runtime = {
    ...httpRuntime(),
    telemetry,
    ...(signingArn
      ? {
          slackSigningSecret: secret(signingArn),
          slackTeamId: process.env.SLACK_TEAM_ID || undefined,
        }
      : {}),
    slackResponder: {
      ephemeral: async (channel, user, text) => {
        responder ??= slackResponder({
          token: botTokenArn ? await secret(botTokenArn)() : undefined,
        });
        await responder.ephemeral(channel, user, text);
      },
    },
  };
  return flushingMetrics(
    telemetry,
    buildSlackInteractions(runtime, composeBase(runtime), stepFunctions()),
  );
}

/**
 * The escalation function: notifier credentials from Secrets Manager, email through SNS
 * topics; it counts notifications by channel type and outcome.
 */
export async function escalationLambdaHandler() {
  const logger = new Logger({ serviceName: "tocsin" });
  const telemetry = new PowertoolsTelemetry();
  const notifiers = buildNotifiers({
    slack: { token: await optionalSecret("SLACK_BOT_TOKEN_SECRET_ARN") },
    pagerDuty: {
      routingKey: await optionalSecret("PAGERDUTY_ROUTING_KEY_SECRET_ARN"),
      keyFromEnv: (name) => process.env[name],
    },
    email: {
      sns: { client: new SNSClient({}), topics: JSON.parse(process.env.EMAIL_TOPICS ?? "{}") },
    },
    logger,
  });
  const noRoute = async (): Promise<string> => {
    throw new Error("the escalation function serves no HTTP route");
  };
  const runtime: Runtime = {
    ...baseRuntime(),
    webhookToken: noRoute,
    apiToken: noRoute,
    grafanaHmacSecret: () => undefined,
    notifiers,
    logger,
    telemetry,
  };
  return flushingMetrics(telemetry, buildEscalation(runtime, composeBase(runtime)));
}
