import { createHmac } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { LAMBDA_PAYLOAD_BYTES, MAX_BODY_BYTES } from "../../../functions/adapters/http/body.js";
import type { WebhookDeps } from "../../../functions/adapters/http/ingest-webhook.js";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { loadRunbooks } from "../../../functions/adapters/runbook-files.js";
import { findRunbook } from "../../../functions/core/runbook.js";
import { alertmanagerWebhook } from "../../../functions/integrations/alertmanager/webhook.js";
import { grafanaWebhook } from "../../../functions/integrations/grafana/webhook.js";
import { fixture } from "../../support/fixtures.js";
import {
  alertmanagerBody as amBody,
  warningGroup as group,
  NOW,
  parseBody as parse,
  postAlertmanager as post,
  WEBHOOK_TOKEN as TOKEN,
  webhookDeps,
} from "../../support/handler-deps.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { logLines } from "../../support/log-lines.js";

const HMAC = "grafana-hmac-secret";

let store: MemoryIncidentStore;
let deps: WebhookDeps;

beforeEach(() => {
  store = new MemoryIncidentStore();
  deps = webhookDeps(store);
});

const incidents = async () => (await store.list({ limit: 100 })).incidents;

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
});

describe("large and truncated deliveries", () => {
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
