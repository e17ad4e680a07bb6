import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { scaledClock } from "../adapters/clock.js";
import { PrometheusRegistry } from "../adapters/metrics/prometheus-registry.js";
import type { Config } from "../core/config.js";
import type { LinkMaker } from "../core/notification.js";
import type { RunbookDefinition } from "../core/runbook.js";
import { buildNotifiers, type NotifierSettings } from "../delivery/registry.js";
import { composeHandlers, NO_SLACK_SIGNING_SECRET } from "../entry/compose.js";
import { type FunctionName, ROUTE_KEYS } from "../entry/route-keys.js";
import { dynamoStores } from "../entry/stores.js";
import { LocalEscalationEngine } from "../escalation/local-engine.js";
import { resumeLostEscalations, resumeOwedMirrors } from "../escalation/step.js";
import { fileOutbox, localPhoneOutbox } from "../integrations/email/outbox.js";
import type { GrafanaSignatureHeaders } from "../integrations/grafana/signature.js";
import { linkMaker } from "../integrations/links/token.js";
import {
  fakeSlackOrigins,
  inProcessResponder,
  noteDelivery,
} from "../integrations/slack/responder.js";
import { startEmbeddedDynamo } from "./embedded-dynamodb.js";
import { hardenedServer } from "./hardened-server.js";
import { apiGatewayBridge, type LocalRoute } from "./http-bridge.js";

export const LOCAL_TABLE = "tocsin";

export interface LocalServerOptions {
  config: Config;
  runbooks?: readonly RunbookDefinition[];
  host: string;
  port: number;
  dataDir: string;
  webhookToken: string;
  apiToken: string;
  grafanaHmacSecret?: string | undefined;
  /** Where Grafana puts its signature and timestamp; Grafana's defaults when unset. */
  grafanaHeaders?: GrafanaSignatureHeaders | undefined;
  /** Channel credentials and endpoints; without them deliveries are recorded as not delivered. */
  notifiers?: Omit<NotifierSettings, "logger" | "email"> & {
    /** People's own email through SES (else the outbox, like channel email without SNS). */
    email?: Pick<NotifierSettings["email"], "ses"> | undefined;
  };
  /**
   * Acknowledgement links: the keys they are signed (the first) and verified with
   * (TOCSIN_LINK_KEY), and the URL people reach this server at (TOCSIN_PUBLIC_URL; its own
   * address by default). Without keys, messages carry no links and every link is refused.
   */
  links?: { keys: readonly string[]; publicUrl?: string | undefined };
  /** The Slack app's signing secret (button clicks) and, optionally, its workspace id. */
  slack?: { signingSecret?: string | undefined; teamId?: string | undefined };
  /** PagerDuty v3 webhook signing secrets, comma-separated (PAGERDUTY_WEBHOOK_SECRETS); unset: refused. */
  pagerDutyWebhookSecrets?: string | undefined;
  /** Divides tocsin's own delays: levels, snoozes, later attempts, retry backoff (60 turns minutes into seconds). */
  timeScale?: number;
  /** Embedded DynamoDB's port (0: any), and an endpoint in front of it for the service's requests. */
  dynamo?: { port?: number; endpoint?: string | undefined };
  /** Called with every state the escalation engine enters (benchmarks count them). */
  onStateEntered?: (incidentId: string, state: string) => void;
  logger?: Logger;
  now?: () => Date;
}

export interface LocalServer {
  url: string;
  server: Server;
  app: ReturnType<typeof composeHandlers>;
  dynamoEndpoint: string;
  /** HTTP requests the embedded DynamoDB has received (benchmarks check their counts with it). */
  dynamoRequests: () => number;
  /** The client the store uses (tests and benchmarks add middleware to it, e.g. to count requests). */
  dynamoClient: DynamoDBClient;
  /** Incidents whose escalation was started again at start-up (lost with the last process). */
  resumedEscalations: string[];
  /** Incidents whose owed state was mirrored again at start-up (lost with the last process). */
  resumedMirrors: string[];
  /** The local escalation engine (tests wait for it to be idle). */
  escalation: LocalEscalationEngine;
  /** What GET /metrics exposes. */
  metrics: PrometheusRegistry;
  close: () => Promise<void>;
}

/** The whole service on one machine: embedded DynamoDB plus the Lambda handlers behind HTTP. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const dynamo = await startEmbeddedDynamo(options.dataDir, LOCAL_TABLE, {
    port: options.dynamo?.port ?? 0,
    clientEndpoint: options.dynamo?.endpoint,
  });
  const logger = options.logger ?? new Logger({ serviceName: "tocsin" });
  // Without SNS, email goes to the console and, when data persists, to <data>/outbox/.
  const outbox =
    options.dataDir === ":memory:"
      ? async (message: { to: string; subject: string }) =>
          logger.info("email (local outbox)", {
            event: "email_outbox",
            to: message.to,
            subject: message.subject,
          })
      : fileOutbox(join(options.dataDir, "outbox"));
  const notifiers = buildNotifiers({
    slack: options.notifiers?.slack ?? {},
    pagerDuty: options.notifiers?.pagerDuty ?? {},
    email: { outbox, ...options.notifiers?.email },
    // ── phones (WP2): sms, voice (SNS / End User Messaging, else the outbox) ──
    sms: { outbox: localPhoneOutbox(options.dataDir, logger), ...options.notifiers?.sms },
    voice: { outbox: localPhoneOutbox(options.dataDir, logger), ...options.notifiers?.voice },
    // ── end phones ──
    logger,
  });
  let engine: LocalEscalationEngine | undefined;
  const metrics = new PrometheusRegistry();
  // Notes to the clicker go out in this process after the click's answer; a local fake
  // Slack (SLACK_API_URL) may serve the response URLs too.
  const slackResponder = inProcessResponder(
    noteDelivery({ logger, extraOrigins: fakeSlackOrigins(options.notifiers?.slack.apiUrl) }),
  );
  // Links are signed with the first key, under the public URL (this server's own by default,
  // known once it listens).
  const linkKeys = options.links?.keys ?? [];
  let publicUrl = options.links?.publicUrl;
  const links: LinkMaker = (claims, now) =>
    linkMaker({ keys: linkKeys, publicUrl, ttlSeconds: options.config.links.ttl })(claims, now);
  const stores = dynamoStores(dynamo.client, LOCAL_TABLE, options.config);
  const clock = scaledClock(options.timeScale ?? 1);
  const app = composeHandlers({
    store: stores.incidents,
    config: options.config,
    runbooks: options.runbooks ?? [],
    logger,
    clock: options.now ? { ...clock, now: options.now } : clock,
    telemetry: metrics,
    webhookToken: () => options.webhookToken,
    grafana: { hmacSecret: () => options.grafanaHmacSecret, headers: options.grafanaHeaders },
    newId: randomUUID,
    apiToken: () => options.apiToken,
    slack: {
      signingSecret: options.slack?.signingSecret
        ? () => options.slack!.signingSecret!
        : NO_SLACK_SIGNING_SECRET,
      teamId: options.slack?.teamId,
      responder: slackResponder,
    },
    replayGuard: stores.replayGuard,
    // ── PagerDuty (WP3): webhook secrets ──
    pagerDuty: { webhookSecrets: () => options.pagerDutyWebhookSecrets ?? "" },
    // ── end PagerDuty ──
    notifiers,
    links,
    linkKeys: () => linkKeys,
    escalationRunner: (handler) => {
      engine = new LocalEscalationEngine({
        handler,
        logger,
        ...(options.onStateEntered ? { onStateEntered: options.onStateEntered } : {}),
      });
      return engine;
    },
  });
  const routes: LocalRoute[] = (Object.keys(ROUTE_KEYS) as FunctionName[]).flatMap((name) =>
    ROUTE_KEYS[name].map((routeKey) => ({ routeKey, handler: app.handlers[name] })),
  );
  // Local only, so not in ROUTE_KEYS: on AWS the same counts are CloudWatch metrics (EMF).
  // No token: the local server is for one machine, and counts carry no incident data.
  routes.push({
    routeKey: "GET /metrics",
    handler: async () => ({
      statusCode: 200,
      headers: { "content-type": metrics.contentType },
      body: metrics.render(),
    }),
  });
  const server = hardenedServer(apiGatewayBridge(routes, logger), { log: logger });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  publicUrl ??= url;
  // Escalations and mirrors ran in the previous process: pick up what its incidents still need.
  const resumed = await resumeLostEscalations(
    { store: app.store, runner: engine!, config: options.config, after: clock.after },
    options.now?.() ?? new Date(),
  );
  const mirrored = await resumeOwedMirrors({ store: app.store, runner: engine! });
  return {
    url,
    server,
    app,
    dynamoEndpoint: dynamo.endpoint,
    dynamoRequests: dynamo.requestsReceived,
    dynamoClient: dynamo.client,
    escalation: engine!,
    resumedEscalations: resumed,
    resumedMirrors: mirrored,
    metrics,
    close: async () => {
      await engine?.close();
      await slackResponder.settled();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dynamo.close();
    },
  };
}
