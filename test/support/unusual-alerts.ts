import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { beforeEach, describe, expect, it } from "vitest";
import { readApi } from "../../functions/api/read-api.js";
import type { EscalationRunner } from "../../functions/core/escalation-runner.js";
import type { IncidentStore } from "../../functions/core/incident-store.js";
import { parseConfig } from "../../functions/core/yaml-files.js";
import { alertmanagerWebhook } from "../../functions/integrations/alertmanager/webhook.js";
import { httpEvent, lambdaContext } from "./http-events.js";

/*
 * Alerts that are valid but unusual, through the real webhook handler, a store and the read
 * API: whatever a sender may legally put in labels and annotations is stored and shown.
 */

const WEBHOOK_TOKEN = "webhook-token-for-tests";
const API_TOKEN = "api-token-for-tests";
const config = parseConfig(readFileSync(new URL("../../tocsin.yaml", import.meta.url), "utf8"));
const silent = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" });

export interface UnusualAlerts {
  store: IncidentStore;
  /** Ids of the incidents whose escalation started. */
  started: string[];
  /** Posts a webhook body given as JSON text (an object literal cannot hold a `__proto__` key). */
  post(body: string): Promise<{ status: number | undefined; body: ReturnType<typeof JSON.parse> }>;
  /** The incident as the read API gives it, parsed as a client parses it. */
  readIncident(id: string): Promise<ReturnType<typeof JSON.parse>>;
}

/** A fresh store from `makeStore` before each test, with the webhook and read API over it. */
export function unusualAlerts(makeStore: () => Promise<IncidentStore> | IncidentStore) {
  let current: UnusualAlerts;
  let ids = 0;
  beforeEach(async () => {
    const store = await makeStore();
    const started: string[] = [];
    const runner: EscalationRunner = {
      start: async (id) => void started.push(id),
      stop: async () => undefined,
      mirror: async () => undefined,
      resume: async () => undefined,
    };
    const webhook = alertmanagerWebhook({
      store,
      config,
      newId: () => `unusual-${++ids}`,
      escalation: runner,
      logger: silent,
      webhookToken: () => WEBHOOK_TOKEN,
      grafanaHmacSecret: () => undefined,
      now: () => new Date("2026-11-30T09:30:00Z"),
    });
    const api = readApi({ store, apiToken: () => API_TOKEN, logger: silent });
    current = {
      store,
      started,
      async post(body) {
        const result = await webhook(
          httpEvent({
            routeKey: "POST /webhooks/alertmanager",
            body,
            headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
          }),
          lambdaContext,
        );
        return { status: result.statusCode, body: JSON.parse(result.body ?? "null") };
      },
      async readIncident(id) {
        const result = await api(
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
      },
    };
  });
  return () => current;
}

/** One firing alert with `labels` and `annotations` given as JSON text. */
export function delivery(labels: string, annotations = "{}") {
  return `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":${labels},
    "annotations":${annotations},"startsAt":"2026-11-30T09:00:00Z"}]}`;
}

/** Labels and annotations named like Object.prototype's members, stored and read back whole. */
export function prototypeNamedLabels(alerts: () => UnusualAlerts) {
  describe("labels and annotations named like Object.prototype's members", () => {
    const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
    const set = (prefix: string) => `{${names.map((n) => `"${n}":"${prefix}-${n}"`).join(",")}}`;

    it("are stored and read back whole; a severity named `constructor` gets the default", async () => {
      const { post, readIncident, started } = alerts();
      const labels = `{"alertname":"ProtoAlert","severity":"constructor",${set("l").slice(1)}`;
      const answer = await post(delivery(labels, set("a")));
      expect(answer.status).toBe(202);
      const [opened] = answer.body.incidents;
      expect(opened).toMatchObject({ status: "triggered", deduplicated: false });
      expect(started).toEqual([opened.id]);

      const incident = await readIncident(opened.id);
      expect(incident.severity).toBe(config.defaults.severity);
      expect(Object.keys(incident.labels).sort()).toEqual(
        ["alertname", "severity", ...names].sort(),
      );
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
      const { post, readIncident } = alerts();
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
}
