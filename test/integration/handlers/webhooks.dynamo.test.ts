import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import {
  ANSWER_RESERVE_MS,
  type WebhookDeps,
} from "../../../functions/adapters/http/ingest-webhook.js";
import { collectIncidents } from "../../../functions/api/incidents.js";
import { alertmanagerWebhook } from "../../../functions/integrations/alertmanager/webhook.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import {
  clientFor,
  type Faults,
  freshTable,
  injectFaults,
  startTestDynamo,
} from "../../support/dynamo.js";
import {
  alertmanagerBody as amBody,
  warningGroup as group,
  parseBody as parse,
  postAlertmanager as post,
  WEBHOOK_TOKEN as TOKEN,
  webhookDeps,
} from "../../support/handler-deps.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { within } from "../../support/poll-until.js";

/** The webhooks on DynamoDB (dynalite) when it fails or is slow. */

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
let table: string;
let faults: Faults;
let deps: WebhookDeps;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  const client = clientFor(dynamo.endpoint);
  faults = injectFaults(client);
  table = await freshTable(client);
  store = new DynamoIncidentStore(client, table);
  deps = webhookDeps(store);
});

const incidents = async () => (await store.list({ limit: 100 })).incidents;

describe("POST /webhooks/alertmanager when DynamoDB fails", () => {
  it("answers 503 when storage fails, leaving no incident, and the sender's retry succeeds", async () => {
    const handler = alertmanagerWebhook(deps);
    faults.failNext("UpdateItemCommand");
    const failed = await post(handler, amBody());
    expect(failed.statusCode).toBe(503);
    expect(failed.headers).toMatchObject({ "retry-after": expect.any(String) });
    expect(parse(failed)).toEqual({
      error: "unavailable",
      message: "storage is unavailable; retry later",
    });
    expect(await incidents()).toEqual([]);
    const retried = await post(handler, amBody());
    expect(retried.statusCode).toBe(202);
    expect(await incidents()).toHaveLength(1);
  });

  it("never exposes a storage error's details", async () => {
    faults.failNext("PutItemCommand");
    const failed = await post(alertmanagerWebhook(deps), amBody());
    expect(failed.statusCode).toBe(503);
    expect(failed.body).not.toMatch(/injected|PutItem|Networking/);
  });
});

describe("POST /webhooks/alertmanager when DynamoDB is slow", () => {
  it("answers 503 before the function's deadline when a delivery cannot finish by then; the retry finishes it", async () => {
    // A store that holds every request until released, and 1.5 s left: the answer must go at
    // the deadline (0.5 s), while the store still holds them.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    let passed = 0;
    const slow = clientFor(dynamo.endpoint);
    slow.middlewareStack.add(
      (next) => async (args) => {
        held += 1;
        await released;
        passed += 1;
        return next(args);
      },
      { step: "initialize", name: "heldStore" },
    );
    const slowStore = new DynamoIncidentStore(slow, table);
    const body = JSON.stringify(group(200));
    const LEFT_MS = ANSWER_RESERVE_MS + 500;
    const hurried = { ...lambdaContext, getRemainingTimeInMillis: () => LEFT_MS };
    // The held requests stay held until the end, like a function frozen after its answer.
    try {
      // 30 times the expected 0.5 s: a bound for failing only.
      const late = await within(
        alertmanagerWebhook({ ...deps, store: slowStore })(
          httpEvent({
            routeKey: "POST /webhooks/alertmanager",
            body,
            headers: { authorization: `Bearer ${TOKEN}` },
          }),
          hurried,
        ),
        "the answer at the deadline, with the store held",
        15_000,
      );
      expect(late.statusCode).toBe(503);
      expect(late.headers).toMatchObject({ "retry-after": expect.any(String) });
      // The deadline's answer, not the store's: it came while the store held every request.
      expect(held).toBeGreaterThan(0);
      expect(passed).toBe(0);
      // The retry, given the time this loaded machine needs (its speed is not tested here).
      const patient = { ...lambdaContext, getRemainingTimeInMillis: () => 600_000 };
      const retried = await alertmanagerWebhook(deps)(
        httpEvent({
          routeKey: "POST /webhooks/alertmanager",
          body,
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
        patient,
      );
      expect(retried.statusCode).toBe(202);
      const answered = parse(retried).incidents as Array<{ id: string }>;
      expect(new Set(answered.map((incident) => incident.id)).size).toBe(200);
      const stored = await collectIncidents(store, { limit: 1_000 });
      expect(stored.incidents).toHaveLength(200);
    } finally {
      release();
    }
  });
});
