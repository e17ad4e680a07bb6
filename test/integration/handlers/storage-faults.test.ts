import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AWS_CALL_POLICY,
  awsClientConfig,
  worstCaseCallMs,
} from "../../../functions/adapters/aws-clients.js";
import { systemClock } from "../../../functions/adapters/clock.js";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import type { HttpResult } from "../../../functions/adapters/http/types.js";
import { noTelemetry } from "../../../functions/app/telemetry.js";
import type { EscalationRunner } from "../../../functions/core/escalation-runner.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { composeHandlers } from "../../../functions/entry/compose.js";
import { dynamoStores } from "../../../functions/entry/stores.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { type DynamoFault, DynamoFaultProxy } from "../../support/fault-proxy.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { waitUntil } from "../../support/poll-until.js";
import { slackClick } from "../../support/slack-click.js";

/*
 * Storage faults as the network makes them: DynamoDB (dynalite) behind a proxy that resets
 * or hangs connections, reached by a client configured as on Lambda. Every route
 * must answer 503 with Retry-After, in bounded time, and leave nothing half-written.
 */

const WEBHOOK_TOKEN = "webhook-token-for-fault-tests";
const API_TOKEN = "api-token-for-fault-tests";
const SLACK_SECRET = "slack-secret-for-fault-tests";
const NOW = new Date("2026-11-30T09:30:00Z");
const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));

let dynamo: EmbeddedDynamo;
let proxy: DynamoFaultProxy;
let direct: DynamoIncidentStore;
let app: ReturnType<typeof composeHandlers>;
const started: string[] = [];

/** Records the escalations ingest starts; the store's opening waits on it as on the real engine. */
const runner: EscalationRunner = {
  start: async (id) => void started.push(id),
  stop: async () => undefined,
  mirror: async () => undefined,
  resume: async () => undefined,
};

beforeAll(async () => {
  dynamo = await startTestDynamo();
  proxy = await DynamoFaultProxy.start({ upstream: dynamo.endpoint });
  const tableName = await freshTable(dynamo.client);
  direct = new DynamoIncidentStore(clientFor(dynamo.endpoint), tableName);
  const throughProxy = new DynamoDBClient({
    ...awsClientConfig(),
    endpoint: proxy.endpoint,
    region: "local",
    credentials: { accessKeyId: "t", secretAccessKey: "t" },
  });
  const stores = dynamoStores(throughProxy, tableName, config);
  app = composeHandlers({
    store: stores.incidents,
    config,
    runbooks: [],
    logger: new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" }),
    clock: { ...systemClock, now: () => NOW },
    telemetry: noTelemetry,
    webhookToken: () => WEBHOOK_TOKEN,
    grafana: { hmacSecret: () => undefined },
    newId: randomUUID,
    apiToken: () => API_TOKEN,
    slack: { signingSecret: () => SLACK_SECRET, responder: { tell: async () => undefined } },
    replayGuard: stores.replayGuard,
    notifiers: {},
    escalationRunner: () => runner,
  });
});
afterEach(() => {
  proxy.setFaults(null);
  proxy.releaseHangs();
});
/** Every request from now on meets `fault`, until the test's end. */
const always = (fault: DynamoFault) => proxy.setFaults({ rate: 1, kinds: [fault] });
afterAll(async () => {
  await proxy.close();
  await dynamo.close();
});

let alerts = 0;
function delivery() {
  const job = `fault-${++alerts}`;
  return JSON.stringify({
    version: "4",
    status: "firing",
    alerts: [
      {
        status: "firing",
        labels: { alertname: "TrainingStalled", severity: "critical", team: "ml-training", job },
        annotations: { summary: `training stalled on ${job}` },
        startsAt: "2026-11-30T09:00:00Z",
      },
    ],
  });
}

const postAlert = (body: string, context = lambdaContext) =>
  app.handlers.alertmanagerWebhook(
    httpEvent({
      routeKey: "POST /webhooks/alertmanager",
      body,
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
    }),
    context,
  );

const incidents = async () => (await direct.list({ limit: 100 })).incidents;

function expectRetryLater(result: HttpResult) {
  expect(result.statusCode).toBe(503);
  expect(result.headers).toMatchObject({ "retry-after": expect.stringMatching(/^\d+$/) });
}

describe("a storage fault on the webhook", () => {
  it("answers 503 with Retry-After when DynamoDB resets the connection; the retry stores the alert once", async () => {
    const body = delivery();
    const before = await incidents();
    always("reset");
    const failed = await postAlert(body);
    expectRetryLater(failed);
    expect(JSON.parse(failed.body ?? "{}")).toEqual({
      error: "unavailable",
      message: "storage is unavailable; retry later",
    });
    expect(proxy.stats.faults.reset).toBeGreaterThan(0);
    expect(await incidents()).toEqual(before);

    proxy.setFaults(null);
    const retried = await postAlert(body);
    expect(retried.statusCode).toBe(202);
    const after = await incidents();
    expect(after).toHaveLength(before.length + 1);
    const [opened] = JSON.parse(retried.body ?? "{}").incidents;
    expect(started).toContain(opened.id);
  });

  it("leaves nothing half-written when the write happened but its answer was lost", async () => {
    const body = delivery();
    const before = await incidents();
    always("reset-after");
    expectRetryLater(await postAlert(body));
    // The fingerprint was claimed, again at each SDK attempt, yet no incident shows.
    expect(await incidents()).toEqual(before);

    proxy.setFaults(null);
    const retried = await postAlert(body);
    expect(retried.statusCode).toBe(202);
    const [answer] = JSON.parse(retried.body ?? "{}").incidents;
    const stored = await direct.get(answer.id);
    expect(stored).toMatchObject({ id: answer.id, status: "triggered" });
    expect(stored!.timeline.map((event) => event.type)).toEqual(["triggered"]);
    expect(await incidents()).toHaveLength(before.length + 1);
    expect(started).toContain(answer.id);
  });

  it(
    "answers 503 with Retry-After when DynamoDB hangs, within the SDK's bounded attempts",
    async () => {
      const body = delivery();
      always("hang");
      // Time enough that the function's own deadline cannot be what answers: the SDK must
      // give up by itself. Without a request timeout it waited for as long as the function
      // lived; this test's timeout (10 times the worst case) then fails it.
      const ample = { ...lambdaContext, getRemainingTimeInMillis: () => 3_600_000 };
      const failed = await postAlert(body, ample);
      expectRetryLater(failed);
      // The store's own failure, not the deadline's: each hung attempt ended by the SDK's
      // request timeout (the client closed it), no more attempts than its policy allows.
      expect(JSON.parse(failed.body ?? "{}")).toEqual({
        error: "unavailable",
        message: "storage is unavailable; retry later",
      });
      expect(proxy.stats.faults.hang).toBeGreaterThan(0);
      expect(proxy.stats.faults.hang % AWS_CALL_POLICY.maxAttempts).toBe(0);
      await waitUntil(() => proxy.hanging === 0, "the hung attempts closed by the SDK", 15_000);

      proxy.setFaults(null);
      expect((await postAlert(body)).statusCode).toBe(202);
    },
    worstCaseCallMs() * 10,
  );
});

describe("a storage fault on the other routes", () => {
  const api = { authorization: `Bearer ${API_TOKEN}` };
  const read = (routeKey: string, path: string, extra: Record<string, unknown> = {}) =>
    app.handlers.readApi(httpEvent({ routeKey, path, headers: api, ...extra }), lambdaContext);
  const routes: Array<[string, () => Promise<HttpResult>]> = [
    ["GET /incidents", () => read("GET /incidents", "/incidents")],
    [
      "GET /incidents/{id}",
      () => read("GET /incidents/{id}", "/incidents/x", { pathParameters: { id: "x" } }),
    ],
    ["GET /reports/escalations", () => read("GET /reports/escalations", "/reports/escalations")],
    ["GET / (history page)", () => read("GET /", "/")],
    ["GET /?incident= (history page)", () => read("GET /", "/", { query: { incident: "x" } })],
    [
      "POST /slack/interactions",
      () => {
        const click = slackClick({
          signingSecret: SLACK_SECRET,
          actionId: "acknowledge",
          value: "some-incident",
          timestamp: NOW,
        });
        return app.handlers.slackInteractions(
          httpEvent({
            routeKey: "POST /slack/interactions",
            body: click.body,
            headers: click.headers,
          }),
          lambdaContext,
        );
      },
    ],
  ];

  it.each(routes)("%s answers 503 with Retry-After on a reset", async (_route, call) => {
    always("reset");
    expectRetryLater(await call());
  });
});
