import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../functions/core/errors.js";
import { parseAlertmanagerPayload } from "../../../functions/integrations/alertmanager/payload.js";
import { parseGrafanaPayload } from "../../../functions/integrations/grafana/payload.js";
import { fixture } from "../../support/fixtures.js";

describe("Alertmanager webhook v4", () => {
  it("normalises a captured firing notification", () => {
    const [alert, ...rest] = parseAlertmanagerPayload(fixture("alertmanager-0.25-firing.json"));
    expect(rest).toEqual([]);
    expect(alert).toEqual({
      source: "alertmanager",
      status: "firing",
      fingerprint: "7d2d332feada5c59",
      labels: { alertname: "HighErrorRate", service: "checkout", severity: "critical" },
      annotations: { runbook_url: "https://runbooks/x", summary: "5xx > 5% for 5m" },
      startsAt: "2026-11-30T09:00:13.000Z",
      endsAt: null,
      generatorUrl: "http://prom.local/graph?g0.expr=x",
      dashboardUrl: null,
      silenceUrl: null,
      values: null,
      valueText: null,
      imageUrl: null,
      ruleId: null,
    });
  });

  it("normalises a captured resolved notification (empty annotations and generatorURL)", () => {
    const [alert] = parseAlertmanagerPayload(fixture("alertmanager-0.25-resolved.json"));
    expect(alert).toMatchObject({
      status: "resolved",
      fingerprint: "7d2d332feada5c59",
      annotations: {},
      endsAt: "2026-11-30T09:00:18.000Z",
      generatorUrl: null,
    });
  });

  it("computes Alertmanager's own fingerprint when the sender leaves it out", () => {
    const payload = fixture("alertmanager-0.25-firing.json") as {
      alerts: Array<Record<string, unknown>>;
    };
    delete payload.alerts[0]!.fingerprint;
    expect(parseAlertmanagerPayload(payload)[0]!.fingerprint).toBe("7d2d332feada5c59");
  });

  // biome-ignore lint/suspicious/noExplicitAny: the mutations reach into an untyped JSON payload.
  const invalid: Array<[string, (p: Record<string, any>) => void, string]> = [
    ["a version other than 4", (p) => (p.version = "3"), "version"],
    ["no alerts", (p) => (p.alerts = []), "alerts"],
    ["alerts not a list", (p) => (p.alerts = {}), "alerts"],
    ["an unknown status", (p) => (p.alerts[0].status = "pending"), "alerts.0.status"],
    ["a label that is not a string", (p) => (p.alerts[0].labels.gpu = 3), "alerts.0.labels.gpu"],
    ["no labels at all", (p) => (p.alerts[0].labels = {}), "alerts.0.labels"],
    [
      "a startsAt that is not a time",
      (p) => (p.alerts[0].startsAt = "yesterday"),
      "alerts.0.startsAt",
    ],
    ["a missing startsAt", (p) => delete p.alerts[0].startsAt, "alerts.0.startsAt"],
  ];
  it.each(invalid)("refuses %s, naming the field", (_name, mutate, field) => {
    const payload = fixture("alertmanager-0.25-firing.json");
    mutate(payload);
    const error = (() => {
      try {
        parseAlertmanagerPayload(payload);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe(field);
  });

  it("never throws anything but InvalidInputError, whatever the input", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseAlertmanagerPayload(value);
        } catch (error) {
          return error instanceof InvalidInputError;
        }
        return true;
      }),
      { numRuns: 2_000 },
    );
  });

  it("accepts any valid label set and keeps it intact", () => {
    const labels = fc.dictionary(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,20}$/), fc.string(), {
      minKeys: 1,
    });
    fc.assert(
      fc.property(
        labels,
        fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }),
        (set, startsAt) => {
          const [alert] = parseAlertmanagerPayload({
            version: "4",
            status: "firing",
            alerts: [{ status: "firing", labels: set, startsAt: startsAt.toISOString() }],
          });
          expect(alert!.labels).toEqual(set);
          expect(alert!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("Grafana webhook", () => {
  it("normalises a Grafana unified-alerting notification, its links and values included", () => {
    const [alert] = parseGrafanaPayload(fixture("grafana-webhook-firing.json"));
    expect(alert).toEqual({
      source: "grafana",
      status: "firing",
      fingerprint: "57c6d9296de2ad39",
      labels: {
        alertname: "GPUTemperature",
        gpu: "3",
        node: "node-7",
        severity: "warning",
        grafana_folder: "Training",
      },
      annotations: { summary: "GPU 3 on node-7 is at 87 °C" },
      startsAt: "2026-11-30T09:10:00.000Z",
      endsAt: null,
      generatorUrl: "http://grafana.example/alerting/grafana/ce1k2/view?orgId=1",
      dashboardUrl: "http://grafana.example/d/gpu?orgId=1",
      silenceUrl:
        "http://grafana.example/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DGPUTemperature&orgId=1",
      values: { B: 87, C: 1 },
      valueText:
        "[ var='B' labels={gpu=3, node=node-7} value=87 ], [ var='C' labels={gpu=3, node=node-7} value=1 ]",
      imageUrl: null,
      ruleId: null,
    });
  });

  it("refuses a body that is not a Grafana notification", () => {
    expect(() => parseGrafanaPayload({ title: "legacy alert", state: "alerting" })).toThrow(
      /alerts/,
    );
  });
});
