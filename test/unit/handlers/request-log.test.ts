import { readFileSync } from "node:fs";
import type { Logger } from "@aws-lambda-powertools/logger";
import { beforeAll, describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { readApi } from "../../../functions/api/read-api.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { escalationHandler } from "../../../functions/escalation/task-handler.js";
import { alertmanagerWebhook } from "../../../functions/integrations/alertmanager/webhook.js";
import { grafanaWebhook } from "../../../functions/integrations/grafana/webhook.js";
import { fixture } from "../../support/fixtures.js";
import { httpEvent, lambdaContext } from "../../support/http-events.js";
import { at, candidate } from "../../support/incidents.js";
import { fired } from "../../support/lifecycle.js";
import { logLines } from "../../support/log-lines.js";

const TOKEN = "request-log-token";
const config = parseConfig(readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"));

let store: MemoryIncidentStore;
let ids = 0;

beforeAll(async () => {
  store = new MemoryIncidentStore();
});

const webhookDeps = (logger: Logger) => ({
  store,
  config,
  newId: () => `inc-log-${++ids}`,
  logger,
  webhookToken: () => TOKEN,
  grafanaHmacSecret: () => undefined,
  now: () => new Date("2026-11-30T09:30:00Z"),
});

/** The escalation function's handler, notifying no one (no channel has a notifier). */
const escalationTasks = (tasks: MemoryIncidentStore, logger: Logger) =>
  escalationHandler({
    store: tasks,
    config,
    runbooks: [],
    notifiers: {},
    logger,
    now: () => new Date(at(1)),
  });

const deliver = (
  handler: ReturnType<typeof alertmanagerWebhook>,
  route: string,
  body: unknown,
  token = TOKEN,
) =>
  handler(
    httpEvent({
      routeKey: route,
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    }),
    lambdaContext,
  );

describe("the request log", () => {
  it("has the brief's fields for a delivery: timestamp, level, event, source, status, duration, incident id", async () => {
    const body = fixture("alertmanager-0.25-firing.json");
    let opened = "";
    const lines = await logLines(async (logger) => {
      const response = await deliver(
        alertmanagerWebhook(webhookDeps(logger)),
        "POST /webhooks/alertmanager",
        body,
      );
      opened = JSON.parse(response.body!).incidents[0].id;
    });
    const request = lines.find((line) => line.event === "http_request")!;
    expect(request).toMatchObject({
      level: "INFO",
      message: "request",
      service: "tocsin",
      event: "http_request",
      source: "alertmanager",
      method: "POST",
      route: "POST /webhooks/alertmanager",
      path: "/webhooks/alertmanager",
      status: 202,
      incidentId: opened,
    });
    expect(Date.parse(request.timestamp)).not.toBeNaN();
    expect(request.durationMs).toBeGreaterThanOrEqual(0);
    // Neither the token nor the payload: no label or annotation value of the alert.
    const written = JSON.stringify(lines);
    expect(written).not.toContain(TOKEN);
    for (const alert of body.alerts as Array<{ annotations: Record<string, string> }>) {
      for (const value of Object.values(alert.annotations)) expect(written).not.toContain(value);
    }
  });

  it("lists every incident of a delivery that carries several", async () => {
    const body = fixture("grafana-webhook-firing.json") as {
      alerts: Array<Record<string, unknown>>;
    };
    const [first] = body.alerts;
    const several = {
      ...body,
      alerts: ["disk", "memory", "cpu"].map((name) => ({
        ...first,
        fingerprint: undefined,
        labels: { ...(first!.labels as object), alertname: `Log${name}` },
      })),
    };
    const lines = await logLines((logger) =>
      deliver(grafanaWebhook(webhookDeps(logger)), "POST /webhooks/grafana", several),
    );
    const request = lines.find((line) => line.event === "http_request")!;
    expect(request).toMatchObject({ source: "grafana", status: 202 });
    expect(request.incidentIds).toHaveLength(3);
    expect(request).not.toHaveProperty("incidentId");
  });

  it("logs a refused request with its status and no incident", async () => {
    const lines = await logLines((logger) =>
      deliver(
        alertmanagerWebhook(webhookDeps(logger)),
        "POST /webhooks/alertmanager",
        fixture("alertmanager-0.25-firing.json"),
        "a-wrong-token",
      ),
    );
    const request = lines.find((line) => line.event === "http_request")!;
    expect(request).toMatchObject({ source: "alertmanager", status: 401 });
    expect(request).not.toHaveProperty("incidentId");
    expect(JSON.stringify(lines)).not.toContain("a-wrong-token");
  });

  it("names the incident an API client read", async () => {
    const [incident] = (await store.list({ limit: 1 })).incidents;
    const lines = await logLines((logger) =>
      readApi({ store, apiToken: () => TOKEN, logger })(
        httpEvent({
          routeKey: "GET /incidents/{id}",
          path: `/incidents/${incident!.id}`,
          pathParameters: { id: incident!.id },
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
        lambdaContext,
      ),
    );
    expect(lines.find((line) => line.event === "http_request")).toMatchObject({
      source: "api",
      route: "GET /incidents/{id}",
      status: 200,
      incidentId: incident!.id,
    });
  });

  it("has one line per escalation Task too: incident, step, outcome, duration", async () => {
    const incident = candidate("fp-log-escalation", at(0));
    await fired(store, incident);
    const lines = await logLines((logger) =>
      escalationTasks(store, logger)({ action: "step", incidentId: incident.id, step: 0 }),
    );
    const task = lines.find((line) => line.event === "escalation_task")!;
    expect(task).toMatchObject({
      level: "INFO",
      source: "step-functions",
      action: "step",
      incidentId: incident.id,
      step: 0,
    });
    expect(typeof task.done).toBe("boolean");
    expect(task.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("logs a Task that failed too, naming the error, before Step Functions retries it", async () => {
    const failing = {
      ...store,
      get: async () => {
        throw new Error("the table is unreachable");
      },
    } as unknown as MemoryIncidentStore;
    const lines = await logLines(async (logger) => {
      const task = escalationTasks(
        failing,
        logger,
      )({
        action: "step",
        incidentId: "inc-unreachable",
        step: 0,
      });
      await expect(task).rejects.toThrow("unreachable");
    });
    expect(lines.find((line) => line.event === "escalation_task")).toMatchObject({
      action: "step",
      incidentId: "inc-unreachable",
      failed: true,
      error: "Error",
    });
  });
});
