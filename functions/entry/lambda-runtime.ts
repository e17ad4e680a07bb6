import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import type { Context } from "aws-lambda";
import { AWS_CALL_POLICY, awsClientConfig, isServiceFault } from "../adapters/aws-clients.js";
import { systemClock } from "../adapters/clock.js";
import { DynamoReplayGuard } from "../adapters/dynamodb/replay-guard.js";
import { flushingMetrics, PowertoolsTelemetry } from "../adapters/metrics/powertools-telemetry.js";
import { loadServiceSnapshot } from "../adapters/service-snapshot.js";
import {
  type Annotations,
  httpAnnotations,
  newTracer,
  traced,
} from "../adapters/tracing/powertools-tracing.js";
import { noTelemetry, type Telemetry } from "../app/telemetry.js";
import { ServiceUnavailableError } from "../core/errors.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import { buildNotifiers } from "../delivery/registry.js";
import { owedMirrorsHandler } from "../escalation/owed-mirrors.js";
import { StepFunctionsRunner } from "../escalation/step-functions.js";
import { grafanaSignatureHeaders } from "../integrations/grafana/signature.js";
import { linkMaker } from "../integrations/links/token.js";
import {
  fakeSlackOrigins,
  isSlackNoteEvent,
  noteDelivery,
  type SlackNoteEvent,
  slackNoteEvent,
} from "../integrations/slack/responder.js";
import { smsRepliesHandler } from "../integrations/sms/replies.js";
import { DynamoSmsReplyBook } from "../integrations/sms/reply-book.js";
import {
  buildAckLinks,
  buildEscalationTask,
  buildPagerDutyWebhook,
  buildReadApi,
  buildSlackInteractions,
  buildWebhooks,
  type Common,
  NO_SLACK_SIGNING_SECRET,
} from "./compose.js";
import { phoneSettings } from "./phones.js";
import { dynamoIncidentStore } from "./stores.js";

/** How long a secret read from Secrets Manager is reused before it is read again. */
const SECRET_MAX_AGE_SECONDS = 300;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** One function's AWS side: its tracer, and its secrets. */
interface AwsAccess {
  tracer: Tracer;
  /** The secret with that ARN, read when first needed (traced) and reused for five minutes. */
  secret: (arn: string) => () => Promise<string>;
}

function nonEmpty(arn: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new Error(`secret ${arn} is empty`);
  return value;
}

/** Secrets Manager unreachable is a fault the caller retries (503), not a bug (500). */
async function readSecret(secrets: SecretsProvider, arn: string, maxAge?: number) {
  try {
    return nonEmpty(arn, await secrets.get(arn, maxAge ? { maxAge } : {}));
  } catch (error) {
    if (isServiceFault(error) || isServiceFault((error as Error).cause)) {
      throw new ServiceUnavailableError("Secrets Manager request failed", { cause: error });
    }
    throw error;
  }
}

function awsAccess(): AwsAccess {
  const tracer = newTracer();
  const secrets = new SecretsProvider({
    awsSdkV3Client: tracer.captureAWSv3Client(new SecretsManagerClient(awsClientConfig())),
  });
  return {
    tracer,
    secret: (arn) => () => readSecret(secrets, arn, SECRET_MAX_AGE_SECONDS),
  };
}

/**
 * Reads a secret once at cold start, if its ARN is configured. Through an untraced client:
 * before the first invocation there is no X-Ray segment to hang the call on.
 */
async function secretAtStart(variable: string): Promise<string | undefined> {
  const arn = process.env[variable];
  if (!arn) return undefined;
  return readSecret(new SecretsProvider({ clientConfig: awsClientConfig() }), arn);
}

/**
 * What every function shares: the stores on the table in TABLE_NAME, and the config and
 * runbooks from the JSON snapshot bundled beside the code (TOCSIN_CONFIG), which needs no
 * YAML parser; the system clock.
 */
function common({ tracer }: AwsAccess, telemetry: Telemetry = noTelemetry) {
  const { config, runbooks } = loadServiceSnapshot(process.env.TOCSIN_CONFIG ?? "tocsin.json");
  const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient(awsClientConfig()));
  const tableName = required("TABLE_NAME");
  const shared: Common = {
    store: dynamoIncidentStore(dynamodb, tableName, config),
    config,
    runbooks,
    logger: new Logger({ serviceName: "tocsin" }),
    clock: systemClock,
    telemetry,
  };
  return { common: shared, table: { dynamodb, tableName } };
}

/** Escalations start and stop on the state machine in STATE_MACHINE_ARN. */
function stepFunctions({ tracer }: AwsAccess): EscalationRunner | undefined {
  const arn = process.env.STATE_MACHINE_ARN;
  return arn
    ? new StepFunctionsRunner(tracer.captureAWSv3Client(new SFNClient(awsClientConfig())), arn)
    : undefined;
}

/*
 * One builder per function, so that each bundle carries only its own code (package.json
 * says our modules have no import side effects, which lets esbuild drop the rest).
 */

/** The webhook functions: they count deliveries, duplicates and opened incidents. */
export function webhookLambdas() {
  const access = awsAccess();
  const telemetry = new PowertoolsTelemetry();
  const grafanaArn = process.env.GRAFANA_HMAC_SECRET_ARN;
  const { alertmanagerWebhook, grafanaWebhook } = buildWebhooks({
    ...common(access, telemetry).common,
    webhookToken: access.secret(required("WEBHOOK_TOKEN_SECRET_ARN")),
    grafana: {
      hmacSecret: grafanaArn ? access.secret(grafanaArn) : () => undefined,
      headers: grafanaSignatureHeaders(process.env),
    },
    escalation: stepFunctions(access),
    newId: randomUUID,
  });
  return {
    alertmanagerWebhook: flushingMetrics(
      telemetry,
      traced(access.tracer, alertmanagerWebhook, httpAnnotations),
    ),
    grafanaWebhook: flushingMetrics(
      telemetry,
      traced(access.tracer, grafanaWebhook, httpAnnotations),
    ),
  };
}

/** The read API and history page function. */
export function readApiLambda() {
  const access = awsAccess();
  const handler = buildReadApi({
    ...common(access).common,
    apiToken: access.secret(required("API_TOKEN_SECRET_ARN")),
  });
  return traced(access.tracer, handler, httpAnnotations);
}

/**
 * The Slack interactions function: signing secret read when first needed; it times
 * acknowledgements. A click is answered at once, and the clicker's private note goes out
 * from a second invocation of this same function, asynchronous (InvocationType "Event"),
 * which posts it to the interaction's response_url. "After the answer" has to be another
 * invocation: Lambda freezes whatever a handler leaves running once it returns, and may never
 * thaw it. The hand-over is one Invoke (tens of ms) in place of a wait on Slack; Lambda
 * queues the event and retries it when throttled, and the function's async config allows no
 * retry of a note that failed (it could post twice). Response streaming is not offered
 * behind an HTTP API, and the escalation's state machine runs for only some clicks, so this
 * is the simplest design that holds there; the local server delivers the note in its own
 * process, with the same code (noteDelivery). A response_url needs no bot token.
 */
export function slackInteractionsLambda() {
  const access = awsAccess();
  const telemetry = new PowertoolsTelemetry();
  const signingArn = process.env.SLACK_SIGNING_SECRET_ARN;
  const lambda = access.tracer.captureAWSv3Client(new LambdaClient(awsClientConfig()));
  const { common: shared, table } = common(access, telemetry);
  const { logger } = shared;
  const handler = buildSlackInteractions({
    ...shared,
    slack: {
      signingSecret: signingArn ? access.secret(signingArn) : NO_SLACK_SIGNING_SECRET,
      teamId: signingArn ? process.env.SLACK_TEAM_ID || undefined : undefined,
      responder: {
        tell: async (note) => {
          await lambda.send(
            new InvokeCommand({
              FunctionName: required("AWS_LAMBDA_FUNCTION_NAME"),
              InvocationType: "Event",
              Payload: new TextEncoder().encode(JSON.stringify(slackNoteEvent(note))),
            }),
          );
        },
      },
    },
    replayGuard: new DynamoReplayGuard(table.dynamodb, table.tableName),
    escalation: stepFunctions(access),
  });
  const clicks = flushingMetrics(telemetry, traced(access.tracer, handler, httpAnnotations));
  const deliver = noteDelivery({
    logger,
    extraOrigins: fakeSlackOrigins(process.env.SLACK_API_URL),
  });
  const notes = traced(
    access.tracer,
    async (event: SlackNoteEvent) => deliver(event.note),
    () => ({ action: "slack_note" }),
  );
  return async (event: Parameters<typeof clicks>[0] | SlackNoteEvent, context: Context) =>
    isSlackNoteEvent(event) ? notes(event, context) : clicks(event, context);
}

// ── PagerDuty (WP3): POST /webhooks/pagerduty ──
/**
 * The PagerDuty webhook function: the subscriptions' signing secrets (comma-separated, so a
 * rotation can hold two) read when first needed; it times acknowledgements. It answers once
 * the conditional write and the engine calls are done, well inside PagerDuty's 5 s.
 */
export function pagerDutyWebhookLambda() {
  const access = awsAccess();
  const telemetry = new PowertoolsTelemetry();
  const { common: shared, table } = common(access, telemetry);
  // Unset (a stack without it): no secret, so every delivery is refused.
  const secretArn = process.env.PAGERDUTY_WEBHOOK_SECRET_ARN;
  const handler = buildPagerDutyWebhook({
    ...shared,
    pagerDuty: { webhookSecrets: secretArn ? access.secret(secretArn) : () => "" },
    replayGuard: new DynamoReplayGuard(table.dynamodb, table.tableName),
    escalation: stepFunctions(access),
  });
  return flushingMetrics(telemetry, traced(access.tracer, handler, httpAnnotations));
}
// ── end PagerDuty ──

/** A secret holding a comma list of link keys, the signing one first. */
const keyList = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key !== "");

/**
 * The acknowledgement links function (GET/POST /a/{token}): the link key read when first
 * needed (ACK_LINK_KEY_SECRET_ARN) and reused five minutes, so a rotation reaches it then;
 * without one every link is refused as forged.
 */
export function ackLinksLambda() {
  const access = awsAccess();
  const telemetry = new PowertoolsTelemetry();
  const { common: shared, table } = common(access, telemetry);
  // Read when a link is first opened, like Slack's signing secret (the stack always sets it).
  const arn = process.env.ACK_LINK_KEY_SECRET_ARN;
  const key = arn ? access.secret(arn) : async () => "";
  const handler = buildAckLinks({
    ...shared,
    links: { keys: async () => keyList(await key()) },
    replayGuard: new DynamoReplayGuard(table.dynamodb, table.tableName),
    escalation: stepFunctions(access),
  });
  return flushingMetrics(telemetry, traced(access.tracer, handler, httpAnnotations));
}

/**
 * The owed-mirrors function, run by a schedule: it reads the sparse owed-state index and
 * starts mirror executions (STATE_MACHINE_ARN), nothing else; no secret, no notifier.
 */
export function owedMirrorsLambda() {
  const access = awsAccess();
  const runner = stepFunctions(access);
  if (!runner) throw new Error("STATE_MACHINE_ARN is not set");
  const { store, logger } = common(access).common;
  const handler = owedMirrorsHandler({ store, runner, logger });
  return traced(access.tracer, handler, () => ({ action: "owed_mirrors" }));
}

/** What an escalation Task's trace says: which incident, what it was asked, whether done. */
function escalationAnnotations(event: unknown, response: unknown): Annotations {
  const input = (event ?? {}) as { action?: unknown; incidentId?: unknown; step?: unknown };
  const output = (response ?? {}) as { done?: unknown };
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  const number = (value: unknown) => (typeof value === "number" ? value : undefined);
  return {
    action: text(input.action),
    incidentId: text(input.incidentId),
    step: number(input.step),
    done: typeof output.done === "boolean" ? output.done : undefined,
  };
}

/**
 * The escalation function: notifier credentials from Secrets Manager, email through SNS
 * topics; it counts notifications by channel type and outcome.
 */
export async function escalationLambdaHandler() {
  // Read before the tracer exists: it patches http and https as it is created, and at
  // init there is no trace for their requests to join (X-Ray would log an error for each).
  const slackToken = await secretAtStart("SLACK_BOT_TOKEN_SECRET_ARN");
  const routingKey = await secretAtStart("PAGERDUTY_ROUTING_KEY_SECRET_ARN");
  const pagerDutyApiToken = await secretAtStart("PAGERDUTY_API_TOKEN_SECRET_ARN");
  const linkKeys = keyList(await secretAtStart("ACK_LINK_KEY_SECRET_ARN"));
  const access = awsAccess();
  const telemetry = new PowertoolsTelemetry();
  const { common: shared, table } = common(access, telemetry);
  // ── phones (WP2): SNS SMS, End User Messaging voice, SES person email ──
  const phones = phoneSettings(
    process.env,
    (client) => access.tracer.captureAWSv3Client(client),
    table,
  );
  // ── end phones ──
  const notifiers = buildNotifiers({
    slack: { token: slackToken },
    pagerDuty: {
      routingKey,
      keyFromEnv: (name) => process.env[name],
      // ── PagerDuty REST (WP3): user mode's REST API token ──
      rest: pagerDutyApiToken ? { token: pagerDutyApiToken } : undefined,
      // ── end PagerDuty REST ──
    },
    email: {
      sns: {
        // One request per attempt: the delivery pipeline's retry stage retries, not the SDK.
        client: access.tracer.captureAWSv3Client(
          new SNSClient(awsClientConfig({ ...AWS_CALL_POLICY, maxAttempts: 1 })),
        ),
        topics: JSON.parse(process.env.EMAIL_TOPICS ?? "{}"),
      },
      ses: phones.ses, // phones (WP2)
    },
    // ── phones (WP2): sms, voice ──
    sms: phones.sms,
    voice: phones.voice,
    // ── end phones ──
    logger: shared.logger,
  });
  // Acknowledgement links, signed with the AckLinkKey secret, open at the API's stage URL.
  const links = linkMaker({
    keys: linkKeys,
    publicUrl: process.env.TOCSIN_PUBLIC_URL,
    ttlSeconds: shared.config.links.ttl,
  });
  const handler = buildEscalationTask({ ...shared, notifiers, links });
  return flushingMetrics(telemetry, traced(access.tracer, handler, escalationAnnotations));
}

// ── phones (WP2): the two-way SMS topic's subscriber ──
/**
 * The SMS replies function, subscribed to the SmsReplies topic End User Messaging publishes
 * inbound texts to: a reply of 1 or ACK acknowledges the latest incident texted to that
 * number, once per inbound message id. A store fault throws, so Lambda retries the delivery.
 */
export function smsRepliesLambda() {
  const access = awsAccess();
  const { common: shared, table } = common(access);
  const handler = smsRepliesHandler({
    ...shared,
    escalation: stepFunctions(access),
    after: shared.clock.after,
    replyBook: new DynamoSmsReplyBook(table.dynamodb, table.tableName),
    replayGuard: new DynamoReplayGuard(table.dynamodb, table.tableName),
    now: shared.clock.now,
    onEngineFault: (incidentId, error) =>
      shared.logger.error("escalation engine failed after an SMS acknowledgement", {
        event: "engine_fault",
        incidentId,
        error: String(error),
      }),
  });
  return traced(access.tracer, handler, () => ({ action: "sms_reply" }));
}
// ── end phones ──
