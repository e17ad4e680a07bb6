import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { systemClock } from "../adapters/clock.js";
import { DynamoIncidentStore } from "../adapters/dynamodb/incident-store.js";
import { DynamoReplayGuard } from "../adapters/dynamodb/replay-guard.js";
import type { SecretSource } from "../adapters/http/auth.js";
import { readApi } from "../api/read-api.js";
import { noTelemetry, type Telemetry } from "../app/telemetry.js";
import type { Alert } from "../core/alert.js";
import type { Clock } from "../core/clock.js";
import type { Config } from "../core/config.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import type { Incident } from "../core/incident.js";
import type { Notifier } from "../core/notification.js";
import { filledRunbook, findRunbook, type RunbookDefinition } from "../core/runbook.js";
import { escalationHandler } from "../escalation/task-handler.js";
import { alertmanagerWebhook } from "../integrations/alertmanager/webhook.js";
import type { GrafanaSignatureHeaders } from "../integrations/grafana/signature.js";
import { grafanaWebhook } from "../integrations/grafana/webhook.js";
import { slackInteractions } from "../integrations/slack/interactions.js";
import type { SlackResponder } from "../integrations/slack/responder.js";

export interface Runtime {
  dynamodb: DynamoDBClient;
  tableName: string;
  config: Config;
  runbooks: readonly RunbookDefinition[];
  webhookToken: SecretSource;
  apiToken: SecretSource;
  grafanaHmacSecret: () => Promise<string | undefined> | string | undefined;
  /** Where Grafana puts its signature and timestamp (TOCSIN_GRAFANA_*_HEADER). */
  grafanaHeaders?: GrafanaSignatureHeaders | undefined;
  /** The channels' adapters, by channel type. */
  notifiers?: Partial<Record<Notifier["kind"], Notifier>>;
  /** Builds the escalation runner around the escalation handler (the local engine needs it). */
  escalationRunner?: (handler: ReturnType<typeof escalationHandler>) => EscalationRunner;
  /** The system clock, or locally one that divides tocsin's own delays (TOCSIN_TIME_SCALE). */
  clock?: Clock;
  /** Slack app: the signing secret that button clicks are verified with, and its workspace. */
  slackSigningSecret?: SecretSource;
  slackTeamId?: string | undefined;
  /** Hands the clicker's private notes over for delivery after the click's answer. */
  slackResponder?: SlackResponder;
  logger?: Logger;
  /** Where counts and timings go: EMF on Lambda, the /metrics registry locally. */
  telemetry?: Telemetry;
  now?: () => Date;
}

/** What every handler shares: the logger, the clock, telemetry and the store. */
export function composeBase(runtime: Runtime) {
  const clock = runtime.clock ?? systemClock;
  return {
    logger: runtime.logger ?? new Logger({ serviceName: "tocsin" }),
    clock,
    now: runtime.now ?? clock.now,
    telemetry: runtime.telemetry ?? noTelemetry,
    store: new DynamoIncidentStore(runtime.dynamodb, runtime.tableName, {
      ...(runtime.config.retention ? { retentionSeconds: runtime.config.retention } : {}),
    }),
  };
}
type Base = ReturnType<typeof composeBase>;

/** The escalation state machine's Task handler. */
export function buildEscalation(runtime: Runtime, { logger, clock, now, store, telemetry }: Base) {
  return escalationHandler({
    store,
    config: runtime.config,
    runbooks: runtime.runbooks,
    notifiers: runtime.notifiers ?? {},
    logger,
    clock,
    telemetry,
    now,
  });
}

/** POST /webhooks/alertmanager and /webhooks/grafana. */
export function buildWebhooks(
  runtime: Runtime,
  { logger, now, store, telemetry }: Base,
  runner?: EscalationRunner,
) {
  const deps = {
    store,
    config: runtime.config,
    newId: randomUUID,
    findRunbook: (alert: Alert) =>
      findRunbook(runtime.runbooks, runtime.config.runbooks.baseUrl, alert),
    ...(runner ? { escalation: runner } : {}),
    logger,
    webhookToken: runtime.webhookToken,
    grafanaHmacSecret: runtime.grafanaHmacSecret,
    grafanaHeaders: runtime.grafanaHeaders,
    telemetry,
    now,
  };
  return { alertmanagerWebhook: alertmanagerWebhook(deps), grafanaWebhook: grafanaWebhook(deps) };
}

/** The read API and the history page. */
export function buildReadApi(runtime: Runtime, { logger, now, store }: Base) {
  const runbookFor = (incident: Incident) =>
    filledRunbook(runtime.runbooks, runtime.config.runbooks.baseUrl, incident);
  return readApi({ logger, store, apiToken: runtime.apiToken, now, runbookFor });
}

/** POST /slack/interactions. */
export function buildSlackInteractions(
  runtime: Runtime,
  { logger, clock, now, store, telemetry }: Base,
  runner?: EscalationRunner,
) {
  return slackInteractions({
    store,
    config: runtime.config,
    escalation: runner,
    after: clock.after,
    logger,
    signingSecret:
      runtime.slackSigningSecret ??
      (async () => {
        throw new Error("SLACK_SIGNING_SECRET is not set: Slack buttons are refused");
      }),
    teamId: runtime.slackTeamId,
    responder: runtime.slackResponder ?? { tell: async () => undefined },
    replayGuard: new DynamoReplayGuard(runtime.dynamodb, runtime.tableName),
    telemetry,
    now,
  });
}

/**
 * Builds every handler from one runtime, as the local server serves them. A Lambda entry
 * point builds only its own (see lambda-runtime.ts), so its bundle carries only its code;
 * the builders are the same in both places.
 */
export function composeHandlers(runtime: Runtime) {
  const base = composeBase(runtime);
  const escalation = buildEscalation(runtime, base);
  const runner = runtime.escalationRunner?.(escalation);
  return {
    ...base,
    runner,
    handlers: {
      ...buildWebhooks(runtime, base, runner),
      readApi: buildReadApi(runtime, base),
      escalation,
      slackInteractions: buildSlackInteractions(runtime, base, runner),
    },
  };
}
