import type { Logger } from "@aws-lambda-powertools/logger";
import type { SecretSource } from "../adapters/http/auth.js";
import { readApi } from "../api/read-api.js";
import type { Telemetry } from "../app/telemetry.js";
import type { Alert } from "../core/alert.js";
import type { Clock } from "../core/clock.js";
import type { Config } from "../core/config.js";
import type { RetryPolicy } from "../core/delivery-retry.js";
import type { EscalationRunner } from "../core/escalation-runner.js";
import type { Incident } from "../core/incident.js";
import type { IncidentStore } from "../core/incident-store.js";
import type { LinkMaker } from "../core/notification.js";
import type { ReplayGuard } from "../core/replay-guard.js";
import { filledRunbook, findRunbook, type RunbookDefinition } from "../core/runbook.js";
import type { NotifierRegistry } from "../delivery/registry.js";
import { escalationHandler } from "../escalation/task-handler.js";
import { alertmanagerWebhook } from "../integrations/alertmanager/webhook.js";
import type { GrafanaSignatureHeaders } from "../integrations/grafana/signature.js";
import { grafanaWebhook } from "../integrations/grafana/webhook.js";
import { ackLinks } from "../integrations/links/handler.js";
import { pagerDutyWebhook } from "../integrations/pagerduty/webhook.js";
import { slackInteractions } from "../integrations/slack/interactions.js";
import type { SlackResponder } from "../integrations/slack/responder.js";

/*
 * Each function is composed from what every function shares (Common) and the parts its own
 * routes need, so that a Lambda entry builds only those (see lambda-runtime.ts) and the local
 * server builds them all (composeHandlers). The builders are the same in both places.
 */

/** What every function's handlers share. */
export interface Common {
  store: IncidentStore;
  config: Config;
  runbooks: readonly RunbookDefinition[];
  logger: Logger;
  /** The system clock, or locally one that divides tocsin's own delays (TOCSIN_TIME_SCALE). */
  clock: Clock;
  /** Where counts and timings go: EMF on Lambda, the /metrics registry locally. */
  telemetry: Telemetry;
}

/** A secret that may be unset (Grafana's HMAC secret: without it, signatures are not checked). */
export type OptionalSecret = () => Promise<string | undefined> | string | undefined;

/** POST /webhooks/alertmanager and /webhooks/grafana. */
export interface WebhookParts {
  webhookToken: SecretSource;
  grafana: {
    hmacSecret: OptionalSecret;
    /** Where Grafana puts its signature and timestamp (TOCSIN_GRAFANA_*_HEADER). */
    headers?: GrafanaSignatureHeaders | undefined;
  };
  /** Starts escalations; without it incidents are only recorded. */
  escalation?: EscalationRunner | undefined;
  newId: () => string;
}

/** The read API and the history pages. */
export interface ReadParts {
  apiToken: SecretSource;
}

/** POST /slack/interactions. */
export interface SlackParts {
  slack: {
    /** What button clicks are verified with (NO_SLACK_SIGNING_SECRET when there is none). */
    signingSecret: SecretSource;
    /** When set, clicks from any other workspace are refused. */
    teamId?: string | undefined;
    /** Hands the clicker's private notes over for delivery after the click's answer. */
    responder: SlackResponder;
  };
  replayGuard: ReplayGuard;
  escalation?: EscalationRunner | undefined;
}

/** GET and POST /a/{token}: the signed acknowledgement links. */
export interface AckLinkParts {
  links: {
    /** The keys links verify with, the signing one first (TOCSIN_LINK_KEY; AckLinkKey on AWS). */
    keys: () => Promise<readonly string[]> | readonly string[];
  };
  replayGuard: ReplayGuard;
  escalation?: EscalationRunner | undefined;
}

/** The escalation state machine's Tasks. */
export interface TaskParts {
  /** The channels' adapters, by channel type. */
  notifiers: NotifierRegistry;
  retry?: RetryPolicy | undefined;
  /** Signs the acknowledgement links notifications carry; unset until a key and a public URL are configured. */
  links?: LinkMaker | undefined;
}

// ── PagerDuty (WP3): POST /webhooks/pagerduty ──
/** POST /webhooks/pagerduty. */
export interface PagerDutyParts {
  /** Unset: no secret, so every delivery is refused. */
  pagerDuty?: {
    /** The v3 webhook subscriptions' signing secrets, comma-separated; empty: every delivery is refused. */
    webhookSecrets: SecretSource;
  };
  replayGuard: ReplayGuard;
  escalation?: EscalationRunner | undefined;
}

/** POST /webhooks/pagerduty. */
export function buildPagerDutyWebhook(deps: Common & PagerDutyParts) {
  return pagerDutyWebhook({
    store: deps.store,
    config: deps.config,
    escalation: deps.escalation,
    after: deps.clock.after,
    logger: deps.logger,
    secrets: deps.pagerDuty?.webhookSecrets ?? (() => ""),
    replayGuard: deps.replayGuard,
    telemetry: deps.telemetry,
    now: deps.clock.now,
  });
}
// ── end PagerDuty ──

/** Slack's signing secret when none is configured: reading it fails, so every click is refused. */
export const NO_SLACK_SIGNING_SECRET: SecretSource = async () => {
  throw new Error("SLACK_SIGNING_SECRET is not set: Slack buttons are refused");
};

/** The escalation state machine's Task handler. */
export function buildEscalationTask(deps: Common & TaskParts) {
  return escalationHandler({
    store: deps.store,
    config: deps.config,
    runbooks: deps.runbooks,
    notifiers: deps.notifiers,
    retry: deps.retry,
    links: deps.links,
    logger: deps.logger,
    clock: deps.clock,
    telemetry: deps.telemetry,
    now: deps.clock.now,
  });
}

/** POST /webhooks/alertmanager and /webhooks/grafana. */
export function buildWebhooks(deps: Common & WebhookParts) {
  const webhook = {
    store: deps.store,
    config: deps.config,
    newId: deps.newId,
    findRunbook: (alert: Alert) => findRunbook(deps.runbooks, deps.config.runbooks.baseUrl, alert),
    ...(deps.escalation ? { escalation: deps.escalation } : {}),
    logger: deps.logger,
    webhookToken: deps.webhookToken,
    grafanaHmacSecret: deps.grafana.hmacSecret,
    grafanaHeaders: deps.grafana.headers,
    telemetry: deps.telemetry,
    now: deps.clock.now,
  };
  return {
    alertmanagerWebhook: alertmanagerWebhook(webhook),
    grafanaWebhook: grafanaWebhook(webhook),
  };
}

/** The read API and the history page. */
export function buildReadApi(deps: Common & ReadParts) {
  const runbookFor = (incident: Incident) =>
    filledRunbook(deps.runbooks, deps.config.runbooks.baseUrl, incident);
  return readApi({
    logger: deps.logger,
    store: deps.store,
    apiToken: deps.apiToken,
    now: deps.clock.now,
    runbookFor,
  });
}

/** POST /slack/interactions. */
export function buildSlackInteractions(deps: Common & SlackParts) {
  return slackInteractions({
    store: deps.store,
    config: deps.config,
    escalation: deps.escalation,
    after: deps.clock.after,
    logger: deps.logger,
    signingSecret: deps.slack.signingSecret,
    teamId: deps.slack.teamId,
    responder: deps.slack.responder,
    replayGuard: deps.replayGuard,
    telemetry: deps.telemetry,
    now: deps.clock.now,
  });
}

/** GET and POST /a/{token}. */
export function buildAckLinks(deps: Common & AckLinkParts) {
  return ackLinks({
    store: deps.store,
    config: deps.config,
    escalation: deps.escalation,
    after: deps.clock.after,
    logger: deps.logger,
    keys: deps.links.keys,
    replayGuard: deps.replayGuard,
    telemetry: deps.telemetry,
    now: deps.clock.now,
  });
}

/** Every function's parts, as the local server serves them all from one process. */
export type AllParts = Common &
  Omit<WebhookParts, "escalation"> &
  ReadParts &
  Omit<SlackParts, "escalation"> &
  Omit<PagerDutyParts, "escalation"> &
  Omit<AckLinkParts, "escalation" | "links"> &
  TaskParts & {
    /** What links verify with (AckLinkParts), beside what signs them (TaskParts); none: every link is refused. */
    linkKeys?: AckLinkParts["links"]["keys"] | undefined;
    /** Builds the escalation runner around the Task handler (the local engine needs it). */
    escalationRunner?: (task: ReturnType<typeof buildEscalationTask>) => EscalationRunner;
  };

/** Builds every handler, the escalation's runner first: the webhooks and Slack start escalations on it. */
export function composeHandlers(deps: AllParts) {
  const escalation = buildEscalationTask(deps);
  const runner = deps.escalationRunner?.(escalation);
  const withRunner = { ...deps, escalation: runner };
  return {
    store: deps.store,
    logger: deps.logger,
    clock: deps.clock,
    telemetry: deps.telemetry,
    runner,
    handlers: {
      ...buildWebhooks(withRunner),
      readApi: buildReadApi(deps),
      escalation,
      slackInteractions: buildSlackInteractions(withRunner),
      pagerDutyWebhook: buildPagerDutyWebhook(withRunner),
      ackLinks: buildAckLinks({ ...withRunner, links: { keys: deps.linkKeys ?? (() => []) } }),
    },
  };
}
