import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { readApi } from "../../../functions/api/read-api.js";
import type { EscalationRunner } from "../../../functions/core/escalation-runner.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { alertmanagerWebhook } from "../../../functions/integrations/alertmanager/webhook.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";

/*
 * Alerts that are valid but unusual, through the real webhook handler, store (dynalite) and
 * read API: whatever a sender may legally put in labels and annotations is stored and shown.
 */

const WEBHOOK_TOKEN = "webhook-token-for-tests";
const API_TOKEN = "api-token-for-tests";
const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));
const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
let table: string;
let started: string[];
let ids = 0;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  const client = clientFor(dynamo.endpoint);
  table = await freshTable(client);
  store = new DynamoIncidentStore(client, table);
  started = [];
});

const runner: EscalationRunner = {
  start: async (id) => void started.push(id),
  stop: async () => undefined,
  mirror: async () => undefined,
  resume: async () => undefined,
};

/** Posts a webhook body given as JSON text (an object literal cannot hold a `__proto__` key). */
async function post(body: string) {
  const handler = alertmanagerWebhook({
    store,
    config,
    newId: () => `unusual-${++ids}`,
    escalation: runner,
    logger: silent,
    webhookToken: () => WEBHOOK_TOKEN,
    grafanaHmacSecret: () => undefined,
    now: () => new Date("2026-11-30T09:30:00Z"),
  });
  const result = await handler(
    httpEvent({
      routeKey: "POST /webhooks/alertmanager",
      body,
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
    }),
    lambdaContext,
  );
  return { status: result.statusCode, body: JSON.parse(result.body ?? "null") };
}

function delivery(labels: string, annotations = "{}") {
  return `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":${labels},
    "annotations":${annotations},"startsAt":"2026-11-30T09:00:00Z"}]}`;
}

async function readIncident(id: string) {
  const result = await readApi({ store, apiToken: () => API_TOKEN, logger: silent })(
    httpEvent({
      routeKey: "GET /incidents/{id}",
      path: `/incidents/${id}`,
      pathParameters: { id },
      headers: { authorization: `Bearer ${API_TOKEN}` },
    }),
    lambdaContext,
  );
  expect(result.statusCode).toBe(200);
  // The wire text, parsed as a client parses it: own keys, `__proto__` included.
  return JSON.parse(result.body ?? "null");
}

describe("labels and annotations named like Object.prototype's members", () => {
  const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
  const set = (prefix: string) => `{${names.map((n) => `"${n}":"${prefix}-${n}"`).join(",")}}`;

  it("are stored and read back whole; a severity named `constructor` gets the default", async () => {
    const labels = `{"alertname":"ProtoAlert","severity":"constructor",${set("l").slice(1)}`;
    const answer = await post(delivery(labels, set("a")));
    expect(answer.status).toBe(202);
    const [opened] = answer.body.incidents;
    expect(opened).toMatchObject({ status: "triggered", deduplicated: false });
    expect(started).toEqual([opened.id]);

    const incident = await readIncident(opened.id);
    expect(incident.severity).toBe(config.defaults.severity);
    expect(Object.keys(incident.labels).sort()).toEqual(["alertname", "severity", ...names].sort());
    expect(Object.keys(incident.annotations).sort()).toEqual([...names].sort());
    for (const name of names) {
      expect(incident.labels[name]).toBe(`l-${name}`);
      expect(incident.annotations[name]).toBe(`a-${name}`);
    }
    // A repeat is a duplicate of that incident, not a failure of the store.
    const again = await post(delivery(labels, set("a")));
    expect(again.body.incidents).toEqual([{ ...opened, deduplicated: true }]);
  });

  it("keeps a __proto__ label: {__proto__, a} and {a} are two alerts", async () => {
    const first = await post(delivery('{"__proto__":"x","a":"b"}'));
    const second = await post(delivery('{"a":"b"}'));
    expect([first.status, second.status]).toEqual([202, 202]);
    const [a] = first.body.incidents;
    const [b] = second.body.incidents;
    expect(b.deduplicated).toBe(false);
    expect(a.id).not.toBe(b.id);
    expect((await readIncident(a.id)).labels).toEqual(JSON.parse('{"__proto__":"x","a":"b"}'));
    expect(Object.keys((await readIncident(b.id)).labels)).toEqual(["a"]);
  });
});

describe("alerts too big for one DynamoDB item", () => {
  const huge = (bytes: number) => JSON.stringify("x".repeat(bytes));

  it.each([
    ["just under the item limit", 300_000, 108_000],
    ["just over it", 300_000, 112_000],
    ["well over it", 600_000, 300_000],
  ])(
    "stores one %s with its values cut and a note, and its escalation can record deliveries",
    async (_case, description, runbook) => {
      const answer = await post(
        delivery(
          `{"alertname":"BigAlert","severity":"critical","team":"ml-training","blob":${huge(runbook)}}`,
          `{"summary":"loss is NaN","description":${huge(description)}}`,
        ),
      );
      expect(answer.status).toBe(202);
      const [opened] = answer.body.incidents;
      expect(started).toEqual([opened.id]);
      const incident = await readIncident(opened.id);
      expect(incident.annotations.summary).toBe("loss is NaN");
      expect(incident.labels.alertname).toBe("BigAlert");
      expect(incident.annotations.description).toContain(`cut by tocsin from ${description} bytes`);
      expect(incident.labels.blob).toContain(`cut by tocsin from ${runbook} bytes`);
      expect(incident.timeline[0].detail).toMatch(/labels\.blob cut from \d+ to \d+ bytes/);
      expect(incident.timeline[0].detail).toMatch(/annotations\.description cut from \d+ to/);
      // What the escalation appends later has room: a level's outcomes, many times over.
      const outcome = {
        at: "2026-11-30T09:31:00.000Z",
        type: "notified" as const,
        level: 1,
        channel: "pagerduty",
        detail: `pagerduty: ${"d".repeat(300)}`,
      };
      for (let step = 0; step < 50; step++) {
        await store.recordDeliveries(
          opened.id,
          Array.from({ length: 10 }, () => outcome),
        );
      }
      expect((await store.get(opened.id))!.timeline).toHaveLength(501);
    },
  );

  it("refuses, before writing anything, a delivery with an alert whose names alone do not fit", async () => {
    const names = Array.from({ length: 300 }, (_, i) => `"n${i}_${"n".repeat(40)}":"v"`).join(",");
    const answer = await post(
      `{"version":"4","status":"firing","alerts":[
        {"status":"firing","labels":{"alertname":"Fine"},"startsAt":"2026-11-30T09:00:00Z"},
        {"status":"firing","labels":{${names}},"startsAt":"2026-11-30T09:00:00Z"}]}`,
    );
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ error: "invalid_payload", field: "alerts.1.labels" });
    const { Count } = await dynamo.client.send(new ScanCommand({ TableName: table }));
    expect(Count).toBe(0);
    expect(started).toEqual([]);
  });
});

describe("a timeline that fills DynamoDB's 400 KB item", () => {
  it("keeps recording: the oldest events make room, and the first event says how many went", async () => {
    const answer = await post(
      delivery('{"alertname":"LongEscalation","severity":"critical","team":"ml-training"}'),
    );
    const [opened] = answer.body.incidents;
    const outcome = (n: number) => ({
      at: "2026-11-30T10:00:00.000Z",
      type: "notification_failed" as const,
      level: 1,
      channel: "pagerduty",
      detail: `pagerduty: attempt ${n} ${"r".repeat(400)}`,
    });
    // ~1,500 outcomes of ~480 bytes: 700 KB, nearly twice what one item holds.
    for (let batch = 0; batch < 30; batch++) {
      const events = Array.from({ length: 50 }, (_, i) => outcome(batch * 50 + i));
      await store.recordDeliveries(opened.id, events);
    }
    // The escalation's claim and an acknowledge still go through.
    expect(
      await store.claimEscalationStep(opened.id, {
        step: 1,
        reached: 1,
        level: 1,
        events: [{ at: "2026-11-30T10:15:00.000Z", type: "escalated", level: 1 }],
        now: "2026-11-30T10:15:00.000Z",
      }),
    ).toBe(true);
    const incident = (await store.get(opened.id))!;
    await store.applyTransition(incident, {
      from: ["triggered"],
      changes: { status: "acknowledged", acknowledgedAt: "2026-11-30T10:16:00.000Z" },
      event: { at: "2026-11-30T10:16:00.000Z", type: "acknowledged", actor: "dmitri" },
    });
    const { timeline } = (await store.get(opened.id))!;
    expect(timeline[0]!.type).toBe("triggered");
    const removed = Number(/\((\d+) older timeline events removed/.exec(timeline[0]!.detail!)?.[1]);
    expect(removed).toBeGreaterThan(0);
    // Nothing lost but the oldest: the events left are the latest, in order, all of them.
    expect(timeline.length + removed).toBe(1 + 1_500 + 2);
    expect(timeline.slice(-3).map((event) => event.type)).toEqual([
      "notification_failed",
      "escalated",
      "acknowledged",
    ]);
    expect(timeline.at(-3)!.detail).toContain("attempt 1499 ");
    expect(JSON.stringify(timeline).length).toBeLessThan(400 * 1024);
  });
});
