import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { LAMBDA_PAYLOAD_BYTES, MAX_BODY_BYTES } from "../../../functions/adapters/http/body.js";
import {
  ANSWER_RESERVE_MS,
  type WebhookDeps,
} from "../../../functions/adapters/http/ingest-webhook.js";
import { loadRunbooks } from "../../../functions/adapters/runbook-files.js";
import { collectIncidents } from "../../../functions/api/incidents.js";
import { findRunbook } from "../../../functions/core/runbook.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { alertmanagerWebhook } from "../../../functions/integrations/alertmanager/webhook.js";
import { grafanaWebhook } from "../../../functions/integrations/grafana/webhook.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import {
  clientFor,
  type Faults,
  freshTable,
  injectFaults,
  startTestDynamo,
} from "../../support/dynamo.js";
import { fixture } from "../../support/fixtures.js";
import { alertmanagerGroup, gpuFleetAlerts } from "../../support/gpu-fleet.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { logLines } from "../../support/log-lines.js";
import { within } from "../../support/poll-until.js";

const TOKEN = "webhook-token-for-tests";
const HMAC = "grafana-hmac-secret";
const NOW = new Date("2026-11-30T09:30:00Z");
const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
let table: string;
let faults: Faults;
let deps: WebhookDeps;
let ids = 0;

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
  deps = {
    store,
    config,
    newId: () => `inc-${++ids}`,
    logger: new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" }),
    webhookToken: () => TOKEN,
    grafanaHmacSecret: () => undefined,
    now: () => NOW,
  };
});

const amBody = (name = "alertmanager-0.25-firing.json") => JSON.stringify(fixture(name));
const post = (
  handler: ReturnType<typeof alertmanagerWebhook>,
  body: string,
  headers: Record<string, string> = {},
  base64 = false,
) =>
  handler(
    httpEvent({
      routeKey: "POST /webhooks/alertmanager",
      body,
      base64,
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    }),
    lambdaContext,
  );
const incidents = async () => (await store.list({ limit: 100 })).incidents;
const parse = (result: { body?: string }) => JSON.parse(result.body ?? "null");

describe("POST /webhooks/alertmanager", () => {
  it("answers 202 with the incident, then deduplicates, then resolves", async () => {
    const handler = alertmanagerWebhook(deps);
    const first = await post(handler, amBody());
    expect(first.statusCode).toBe(202);
    expect(parse(first)).toEqual({
      accepted: 1,
      incidents: [{ id: "inc-1", status: "triggered", deduplicated: false }],
    });
    expect(parse(await post(handler, amBody()))).toEqual({
      accepted: 1,
      incidents: [{ id: "inc-1", status: "triggered", deduplicated: true }],
    });
    expect(parse(await post(handler, amBody("alertmanager-0.25-resolved.json")))).toEqual({
      accepted: 1,
      incidents: [{ id: "inc-1", status: "resolved", deduplicated: true }],
    });
    expect(await incidents()).toEqual([
      expect.objectContaining({
        id: "inc-1",
        status: "resolved",
        occurrences: 2,
        severity: "critical",
        team: "platform",
        source: "alertmanager",
      }),
    ]);
  });

  it("attaches the runbook that serves the alert, else its runbook_url annotation", async () => {
    const runbooks = loadRunbooks(new URL("../../../runbooks/", import.meta.url).pathname);
    const handler = alertmanagerWebhook({
      ...deps,
      findRunbook: (alert) => findRunbook(runbooks, "https://runbooks.example/", alert),
    });
    const payload = fixture("alertmanager-0.25-firing.json") as {
      alerts: Array<Record<string, unknown>>;
    };
    const nan = {
      ...payload.alerts[0]!,
      fingerprint: "nan",
      labels: { alertname: "TrainingNaNLoss", severity: "critical" },
    };
    await post(handler, JSON.stringify({ ...payload, alerts: [payload.alerts[0], nan] }));
    const byFingerprint = Object.fromEntries(
      (await incidents()).map((i) => [i.fingerprint, i.runbook]),
    );
    expect(byFingerprint).toEqual({
      nan: { name: "NaN Loss", url: "https://runbooks.example/training-nan-loss.md" },
      "7d2d332feada5c59": { name: "HighErrorRate", url: "https://runbooks/x" },
    });
  });

  it("decodes a base64 body, as API Gateway sends some", async () => {
    const result = await post(alertmanagerWebhook(deps), amBody(), {}, true);
    expect(result.statusCode).toBe(202);
  });

  it("accepts the token as Basic auth's password", async () => {
    const basic = Buffer.from(`alertmanager:${TOKEN}`).toString("base64");
    const result = await post(alertmanagerWebhook(deps), amBody(), {
      authorization: `Basic ${basic}`,
    });
    expect(result.statusCode).toBe(202);
  });

  const refusals: Array<[string, Record<string, string>, string, number, string]> = [
    ["no token", { authorization: "" }, amBody(), 401, "unauthorized"],
    ["a wrong bearer token", { authorization: "Bearer nope" }, amBody(), 401, "unauthorized"],
    [
      "a wrong Basic password",
      { authorization: `Basic ${Buffer.from("a:nope").toString("base64")}` },
      amBody(),
      401,
      "unauthorized",
    ],
    ["malformed JSON", {}, "{not json", 400, "malformed_json"],
    [
      "a body over what Lambda can be handed (~4.45 MiB)",
      {},
      JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES) }),
      413,
      "payload_too_large",
    ],
    [
      "a schema violation",
      {},
      JSON.stringify({ ...fixture("alertmanager-0.25-firing.json"), version: "3" }),
      422,
      "invalid_payload",
    ],
  ];
  it.each(refusals)(
    "refuses %s with a JSON error and writes nothing",
    async (_name, headers, body, status, code) => {
      const result = await post(alertmanagerWebhook(deps), body, headers);
      expect(result.statusCode).toBe(status);
      expect(parse(result)).toMatchObject({ error: code, message: expect.any(String) });
      expect(await incidents()).toEqual([]);
    },
  );

  it("names the offending field in a 422", async () => {
    const payload = fixture("alertmanager-0.25-firing.json") as {
      alerts: Array<{ labels: Record<string, unknown> }>;
    };
    payload.alerts[0]!.labels.gpu = 3;
    const result = await post(alertmanagerWebhook(deps), JSON.stringify(payload));
    expect(parse(result)).toMatchObject({ error: "invalid_payload", field: "alerts.0.labels.gpu" });
  });

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

describe("large and truncated deliveries", () => {
  /** A group of `count` alerts as Alertmanager 0.25 sends it. */
  const group = (count: number, extra: Record<string, unknown> = {}) =>
    alertmanagerGroup(
      gpuFleetAlerts({ count, severity: "warning", run: "big", startsAt: "2026-11-30T09:00:00Z" }),
      extra,
    );

  it("takes a 1,600-alert group over the old 1 MiB limit (its 413 made Alertmanager drop it)", async () => {
    const body = JSON.stringify(group(1_600));
    expect(body.length).toBeGreaterThan(1024 * 1024);
    // Size, not speed, is tested here: as much time as this loaded machine needs.
    const patient = { ...lambdaContext, getRemainingTimeInMillis: () => 600_000 };
    const result = await alertmanagerWebhook(deps)(
      httpEvent({
        routeKey: "POST /webhooks/alertmanager",
        body,
        base64: true,
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
      patient,
    );
    expect(result.statusCode).toBe(202);
    expect(parse(result).accepted).toBe(1_600);
    expect((await store.list({ limit: 500 })).incidents).toHaveLength(500);
  }, 120_000);

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

  it("takes what Lambda can be handed, base64-encoded in its 6 MB event", () => {
    const event = JSON.stringify(
      httpEvent({
        routeKey: "POST /webhooks/alertmanager",
        body: "x".repeat(MAX_BODY_BYTES),
        base64: true,
      }),
    );
    expect(event.length).toBeLessThanOrEqual(LAMBDA_PAYLOAD_BYTES);
    expect(MAX_BODY_BYTES).toBeGreaterThan(4.4 * 1024 * 1024);
  });

  it("records and logs how many alerts the sender left out of a truncated delivery", async () => {
    let first: { id: string } | undefined;
    const lines = await logLines(async (logger) => {
      const truncated = await post(
        alertmanagerWebhook({ ...deps, logger }),
        JSON.stringify(group(3, { truncatedAlerts: 1_597 })),
      );
      expect(truncated.statusCode).toBe(202);
      [first] = parse(truncated).incidents;
    });
    const opened = await store.get(first!.id);
    expect(opened).toMatchObject({ truncatedAlerts: 1_597 });
    expect(opened!.timeline[0]!.detail).toContain("left out 1597 more alerts of its group");
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "delivery_truncated", alerts: 3, truncatedAlerts: 1_597 }),
    );
    // A later, whole delivery of the same group says so on the open incidents (no extra write).
    await post(alertmanagerWebhook(deps), JSON.stringify(group(3, { truncatedAlerts: 0 })));
    expect(await store.get(first!.id)).toMatchObject({ truncatedAlerts: 0, occurrences: 2 });
    const list = (await store.list({ limit: 10 })).incidents;
    expect(list.map((incident) => incident.truncatedAlerts)).toEqual([0, 0, 0]);
  });

  it("refuses a truncatedAlerts that is not a count, writing nothing", async () => {
    const result = await post(
      alertmanagerWebhook(deps),
      JSON.stringify(group(2, { truncatedAlerts: "many" })),
    );
    expect(result.statusCode).toBe(422);
    expect(parse(result)).toMatchObject({ field: "truncatedAlerts" });
    expect(await incidents()).toEqual([]);
  });
});

describe("POST /webhooks/grafana", () => {
  const body = JSON.stringify(fixture("grafana-webhook-firing.json"));
  const sign = (text: string) => createHmac("sha256", HMAC).update(text).digest("hex");
  const send = (headers: Record<string, string>) =>
    grafanaWebhook({ ...deps, grafanaHmacSecret: () => HMAC })(
      httpEvent({
        routeKey: "POST /webhooks/grafana",
        body,
        headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      }),
      lambdaContext,
    );

  it("needs no signature when no HMAC secret is set", async () => {
    const result = await grafanaWebhook(deps)(
      httpEvent({
        routeKey: "POST /webhooks/grafana",
        body,
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(202);
    expect(await incidents()).toEqual([
      expect.objectContaining({ source: "grafana", team: "ml-training", severity: "warning" }),
    ]);
  });

  it("records Grafana's truncatedAlerts on the incidents, as Alertmanager's", async () => {
    const truncated = JSON.stringify({
      ...fixture("grafana-webhook-firing.json"),
      truncatedAlerts: 7,
    });
    const result = await grafanaWebhook(deps)(
      httpEvent({
        routeKey: "POST /webhooks/grafana",
        body: truncated,
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(202);
    const [incident] = await incidents();
    expect(incident).toMatchObject({ source: "grafana", truncatedAlerts: 7 });
    expect((await store.get(incident!.id))!.timeline[0]!.detail).toContain("left out 7 more");
  });

  it("accepts a valid signature of the body", async () => {
    expect((await send({ "x-grafana-alerting-signature": sign(body) })).statusCode).toBe(202);
  });

  it.each(["x-grafana-alerting-timestamp", "x-grafana-alerting-signature-timestamp"])(
    "accepts a valid signature of timestamp:body within five minutes (timestamp in %s)",
    async (header) => {
      const ts = String(NOW.getTime() / 1000 - 60);
      const result = await send({
        "x-grafana-alerting-signature": sign(`${ts}:${body}`),
        [header]: ts,
      });
      expect(result.statusCode).toBe(202);
    },
  );

  const refusals: Array<[string, Record<string, string>]> = [
    ["no signature", {}],
    [
      "a signature with another secret",
      { "x-grafana-alerting-signature": createHmac("sha256", "other").update(body).digest("hex") },
    ],
    ["a signature of another body", { "x-grafana-alerting-signature": sign(`${body} `) }],
    [
      "a stale timestamp",
      (() => {
        const ts = String(NOW.getTime() / 1000 - 3600);
        return {
          "x-grafana-alerting-signature": sign(`${ts}:${body}`),
          "x-grafana-alerting-signature-timestamp": ts,
        };
      })(),
    ],
  ];
  it.each(refusals)("refuses %s with 401 and writes nothing", async (_name, headers) => {
    const result = await send(headers);
    expect(result.statusCode).toBe(401);
    expect(parse(result).error).toBe("unauthorized");
    expect(await incidents()).toEqual([]);
  });
});
