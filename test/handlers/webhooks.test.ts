import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../functions/adapters/dynamodb/incident-store.js";
import { loadRunbooks } from "../../functions/adapters/runbook-files.js";
import { findRunbook } from "../../functions/core/runbook.js";
import { parseConfig } from "../../functions/core/yaml-files.js";
import {
  alertmanagerWebhook,
  grafanaWebhook,
  type WebhookDeps,
} from "../../functions/handlers/webhooks.js";
import type { EmbeddedDynamo } from "../../functions/local/embedded-dynamodb.js";
import {
  clientFor,
  type Faults,
  freshTable,
  injectFaults,
  startTestDynamo,
} from "../support/dynamo.js";
import { fixture } from "../support/fixtures.js";
import { httpEvent, lambdaContext } from "../support/http-events.js";

const TOKEN = "webhook-token-for-tests";
const HMAC = "grafana-hmac-secret";
const NOW = new Date("2026-11-30T09:30:00Z");
const config = parseConfig(readFileSync(new URL("../../tocsin.yaml", import.meta.url), "utf8"));

let dynamo: EmbeddedDynamo;
let store: DynamoIncidentStore;
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
  store = new DynamoIncidentStore(client, await freshTable(client));
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
    const runbooks = loadRunbooks(new URL("../../runbooks/", import.meta.url).pathname);
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
      "a body over 1 MiB",
      {},
      JSON.stringify({ pad: "x".repeat(1024 * 1024) }),
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
